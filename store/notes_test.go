package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"storefront/store/storetest"
)

// Two instances on one PostgreSQL database: what one commits reaches the other's pages.
func TestNotesReachOtherInstances(t *testing.T) {
	if !storetest.Postgres() {
		t.Skip("notes travel between instances on PostgreSQL; SQLite has one instance")
	}
	ctx := context.Background()
	dsn := storetest.DSN(t)
	a, b := mustOpenDBAt(t, dsn), mustOpenDBAt(t, dsn)

	notes := make(chan Note, 16)
	stop := make(chan struct{})
	defer close(stop)
	b.Listen(stop, func(n Note) { notes <- n })
	stock := make(chan []int64, 16)
	defer b.WatchStock(func(ids []int64) { stock <- ids })()
	ownNotes := make(chan Note, 16)
	a.Listen(stop, func(n Note) { ownNotes <- n })
	for _, db := range []*DB{a, b} {
		select {
		case <-db.Listening():
		case <-time.After(10 * time.Second):
			t.Fatal("not listening after 10 s")
		}
	}
	next := func() Note {
		t.Helper()
		select {
		case n := <-notes:
			return n
		case <-time.After(10 * time.Second):
			t.Fatal("no note after 10 s")
			return Note{}
		}
	}
	// Pages opened before B listened may have missed notes: B starts by saying so.
	if n := next(); !n.Resync {
		t.Errorf("B's first note is %+v, want a Resync", n)
	}

	a.AnnounceOrder(41)
	a.AnnounceMembership(7)
	got := Note{}
	for len(got.Orders) == 0 || len(got.Members) == 0 {
		n := next()
		got.Orders, got.Members = append(got.Orders, n.Orders...), append(got.Members, n.Members...)
	}
	if !slices.Equal(got.Orders, []int64{41}) || !slices.Equal(got.Members, []int64{7}) {
		t.Errorf("B heard orders %v, members %v; want [41] and [7]", got.Orders, got.Members)
	}

	// A hold taken on A changes what B's product pages show.
	p := mustProduct(t, a, 1)
	setStock(t, a, p.ID, 3)
	if _, _, err := stockShopper(t, a, p.ID, 1, "cs_two_instances"); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case ids := <-stock:
			if slices.Contains(ids, p.ID) {
				goto held
			}
			continue
		case <-time.After(10 * time.Second):
			t.Fatal("B's stock watchers heard nothing of A's product")
		}
	}
held:
	// B's cached reads follow A's commits at once, not after recheckAfter.
	ref := CartRef{Token: "tok-two-instances"}
	if n, err := b.CartCount(ctx, ref); err != nil || n != 0 {
		t.Fatalf("B's cart count = %d, %v; want 0", n, err)
	}
	if err := a.AddToCart(ctx, ref, p.ID, 2); err != nil {
		t.Fatal(err)
	}
	a.AnnounceOrder(42) // a note after the commit: once B has it, B has seen the commit
	for n := next(); !slices.Contains(n.Orders, 42); n = next() {
	}
	if n, err := b.CartCount(ctx, ref); err != nil || n != 2 {
		t.Errorf("B's cart count after A's commit = %d, %v; want 2", n, err)
	}

	// A hears nothing of its own notes (only its own start's Resync).
	for len(ownNotes) > 0 {
		if n := <-ownNotes; !n.Resync {
			t.Errorf("A heard its own note %+v", n)
		}
	}

	// B's listening connection is cut: it comes back, says notes may be lost, and hears again.
	if _, err := a.readStmts.pool.ExecContext(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1",
		"LISTEN "+pgx.Identifier{b.channel}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	for n := next(); !n.Resync; n = next() {
	}
	a.AnnounceOrder(43)
	for n := next(); !slices.Contains(n.Orders, 43); n = next() {
	}
}
