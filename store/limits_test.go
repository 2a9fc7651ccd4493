package store

import (
	"context"
	"sync"
	"testing"
	"time"

	"storefront/store/storetest"
)

func TestRateLimitsAreShared(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.DSN(t)
	a := mustOpenDBAt(t, dsn)
	b := a
	if storetest.Postgres() {
		b = mustOpenDBAt(t, dsn) // a second instance on the same database
	}
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, db := range []*DB{a, b} {
		db.Now = func() time.Time { return now }
	}
	const key, limit, span = "login:203.0.113.9", 5, 15 * time.Minute

	// Ten attempts at once, half through each instance: exactly the limit get through.
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for i := range 2 * limit {
		db := []*DB{a, b}[i%2]
		wg.Go(func() {
			ok, wait, err := db.TakeLimit(ctx, key, limit, span)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if ok {
				allowed++
			} else if wait != span {
				t.Errorf("refused with wait %v, want %v", wait, span)
			}
		})
	}
	wg.Wait()
	if allowed != limit {
		t.Fatalf("%d of %d attempts allowed, want %d", allowed, 2*limit, limit)
	}
	if n, err := b.LimitCount(ctx, key); err != nil || n != limit+1 {
		t.Errorf("count %d (%v), want %d: refusals past the limit are not counted beyond it", n, err, limit+1)
	}

	now = now.Add(span - time.Second)
	if ok, wait, _ := a.TakeLimit(ctx, key, limit, span); ok || wait != time.Second {
		t.Errorf("a second before the window ends: allowed %v, wait %v", ok, wait)
	}
	now = now.Add(time.Second)
	if ok, _, err := b.TakeLimit(ctx, key, limit, span); !ok || err != nil {
		t.Errorf("once the window has passed: allowed %v (%v)", ok, err)
	}
	if n, _ := a.LimitCount(ctx, key); n != 1 {
		t.Errorf("count in the new window %d, want 1", n)
	}

	if err := a.ResetLimit(ctx, key); err != nil {
		t.Fatal(err)
	}
	if n, _ := b.LimitCount(ctx, key); n != 0 {
		t.Errorf("count after reset %d, want 0", n)
	}
	if n, _ := b.LimitCount(ctx, "never-seen"); n != 0 {
		t.Errorf("count of an unknown key %d, want 0", n)
	}
}

func TestOpenStreamsCountAcrossInstances(t *testing.T) {
	if !storetest.Postgres() {
		t.Skip("streams are counted in the database only when instances share it (PostgreSQL)")
	}
	ctx := context.Background()
	dsn := storetest.DSN(t)
	a, b := mustOpenDBAt(t, dsn), mustOpenDBAt(t, dsn)
	const user, limit = 42, 4

	// Forty opens at once, half on each instance: four are admitted.
	var wg sync.WaitGroup
	var mu sync.Mutex
	opened := map[*DB]int{}
	for i := range 10 * limit {
		db := []*DB{a, b}[i%2]
		wg.Go(func() {
			ok, err := db.OpenStream(ctx, user, limit)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				opened[db]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if opened[a]+opened[b] != limit {
		t.Fatalf("%d + %d streams admitted, want %d in all", opened[a], opened[b], limit)
	}
	if ok, _ := b.OpenStream(ctx, 43, limit); !ok {
		t.Error("another user's first stream was refused")
	}

	// A stream closed on one instance makes room on the other.
	full := a
	if opened[a] == 0 {
		full = b
	}
	if err := full.CloseStream(ctx, user); err != nil {
		t.Fatal(err)
	}
	if ok, _ := b.OpenStream(ctx, user, limit); !ok {
		t.Error("refused after one of the user's streams closed")
	}
	if ok, _ := a.OpenStream(ctx, user, limit); ok {
		t.Error("admitted past the limit")
	}

	// An instance that stops saying it is alive (crashed) no longer holds its streams; one that
	// closes leaves at once.
	const other = 44
	for range limit {
		if ok, err := a.OpenStream(ctx, other, limit); !ok || err != nil {
			t.Fatalf("refused under the limit (%v)", err)
		}
	}
	if ok, _ := b.OpenStream(ctx, other, limit); ok {
		t.Fatal("admitted past the limit on the other instance")
	}
	conn := storetest.Conn(t, dsn)
	if _, err := conn.Exec("UPDATE instances SET seen_at = ? WHERE id = ?", formatTime(time.Now().Add(-time.Hour)), a.instance); err != nil {
		t.Fatal(err)
	}
	if ok, _ := b.OpenStream(ctx, other, limit); !ok {
		t.Error("streams of a silent instance still count")
	}
	b.Close()
	var left int
	if err := conn.QueryRow("SELECT count(*) FROM open_streams WHERE instance = ?", b.instance).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d stream counts (%v) of a closed instance are left", left, err)
	}
}
