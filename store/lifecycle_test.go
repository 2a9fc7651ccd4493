package store

import (
	"storefront/store/storetest"

	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// The in-memory product list must follow changes made behind the store's back, such as an
// UPDATE from the sqlite3 shell or another process: within recheckAfter.
func TestProductsFollowDirectChanges(t *testing.T) {
	path := storetest.DSN(t)
	db := mustOpenDBAt(t, path)
	ctx := context.Background()
	before, err := db.Products(ctx)
	if err != nil {
		t.Fatal(err)
	}
	other, d := openOther(t, path)
	for _, q := range []string{"UPDATE products SET price = 999, name = 'Renamed' WHERE id = ?", "UPDATE products SET active = 0 WHERE id = ?"} {
		id := before[0].ID
		if strings.Contains(q, "active") {
			id = before[1].ID
		}
		if _, err := other.ExecContext(ctx, d.query(q), id); err != nil {
			t.Fatal(err)
		}
	}
	changed := time.Now()
	var after []Product
	for {
		if after, err = db.Products(ctx); err != nil {
			t.Fatal(err)
		}
		if len(after) != len(before) || time.Since(changed) > recheckAfter+5*time.Second {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got, want := len(after), len(before)-1; got != want {
		t.Fatalf("%d products after deactivating one, want %d", got, want)
	}
	if got := after[0]; got.Price != 999 || got.Name != "Renamed" {
		t.Errorf("first product = %q at %d, want the direct change (Renamed at 999)", got.Name, got.Price)
	}
}

// After Close, ApplyChange must answer at once (an error, so the webhook answers 500 and Stripe
// retries) rather than wait for a committer that has stopped.
func TestApplyChangeAfterClose(t *testing.T) {
	for range 50 {
		db := mustOpenDB(t)
		db.Close()
		done := make(chan error, 1)
		go func() {
			_, err := db.ApplyChange(context.Background(), Change{Event: EventRecord{ID: "evt_late", Type: "charge.updated", Payload: []byte("{}")}})
			done <- err
		}()
		select {
		case err := <-done:
			if !errors.Is(err, ErrClosed) {
				t.Fatalf("ApplyChange after Close = %v, want ErrClosed", err)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("ApplyChange after Close did not return")
		}
	}
}
