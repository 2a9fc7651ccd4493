package store

import (
	"context"
	"testing"
)

// The in-memory product list must follow changes made behind the store's back, such as an
// UPDATE from the sqlite3 shell or another process.
func TestProductsFollowDirectChanges(t *testing.T) {
	db := mustOpenDB(t)
	ctx := context.Background()
	before, err := db.Products(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, "UPDATE products SET price = 999, name = 'Renamed' WHERE id = ?", before[0].ID)
	mustExec(t, db, "UPDATE products SET active = 0 WHERE id = ?", before[1].ID)
	after, err := db.Products(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(after), len(before)-1; got != want {
		t.Fatalf("%d products after deactivating one, want %d", got, want)
	}
	if got := after[0]; got.Price != 999 || got.Name != "Renamed" {
		t.Errorf("first product = %q at %d, want the direct change (Renamed at 999)", got.Name, got.Price)
	}
}
