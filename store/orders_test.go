package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// mustCartWithLines fills the cart named by ref with the given product id → quantity pairs, in order.
func mustCartWithLines(tb testing.TB, db *DB, ref CartRef, lines ...[2]int64) {
	tb.Helper()
	for _, l := range lines {
		mustAddToCart(tb, db, ref, l[0], int(l[1]))
	}
}

// mustPrepareOrder prepares an order from the cart named by ref and reports whether it was reused.
func mustPrepareOrder(tb testing.TB, db *DB, ref CartRef) (Order, bool) {
	tb.Helper()
	o, reused, err := db.PrepareOrder(context.Background(), ref)
	if err != nil {
		tb.Fatalf("PrepareOrder(%+v): %v", ref, err)
	}
	return o, reused
}

// mustAttachSession attaches a Checkout Session to an order.
func mustAttachSession(tb testing.TB, db *DB, orderID int64, sessionID string, expiresAt time.Time) {
	tb.Helper()
	if err := db.AttachCheckoutSession(context.Background(), orderID, sessionID, "https://checkout.example/"+sessionID, expiresAt); err != nil {
		tb.Fatalf("AttachCheckoutSession(%d, %q): %v", orderID, sessionID, err)
	}
}

// mustGetOrder reads an order back from the database.
func mustGetOrder(tb testing.TB, db *DB, id int64) Order {
	tb.Helper()
	o, err := db.Order(context.Background(), id)
	if err != nil {
		tb.Fatalf("Order(%d): %v", id, err)
	}
	return o
}

func TestPrepareOrder(t *testing.T) {
	ctx := context.Background()

	t.Run("EmptyCart", func(t *testing.T) {
		db := mustOpenDB(t)
		products := seededCatalogue(t, db, 1)
		u := mustCreateUser(t, db)
		emptied := CartRef{Token: "tok-emptied"}
		mustAddToCart(t, db, emptied, products[0].ID, 1)
		if err := db.SetCartQuantity(ctx, emptied, products[0].ID, 0); err != nil {
			t.Fatal(err)
		}
		for name, ref := range map[string]CartRef{
			"NoRef":   {},
			"NoCart":  {Token: "tok-nothing"},
			"NoLines": {UserID: u.ID},
			"Emptied": emptied,
		} {
			t.Run(name, func(t *testing.T) {
				_, _, err := db.PrepareOrder(ctx, ref)
				if !errors.Is(err, ErrEmptyCart) {
					t.Errorf("PrepareOrder = %v, want ErrEmptyCart", err)
				}
				wantInvalid(t, err)
			})
		}
		if got := countRows(t, db, "SELECT count(*) FROM orders"); got != 0 {
			t.Errorf("orders = %d, want 0", got)
		}
	})

	t.Run("OK", func(t *testing.T) {
		db := mustOpenDB(t)
		products := seededCatalogue(t, db, 2)
		u := mustCreateUser(t, db)
		ref := CartRef{UserID: u.ID}
		mustCartWithLines(t, db, ref, [2]int64{products[0].ID, 2}, [2]int64{products[1].ID, 1})

		o, reused := mustPrepareOrder(t, db, ref)
		if reused {
			t.Error("first PrepareOrder reused an order")
		}
		wantItems := []OrderItem{
			{ProductID: products[0].ID, Name: products[0].Name, UnitAmount: products[0].Price, Quantity: 2},
			{ProductID: products[1].ID, Name: products[1].Name, UnitAmount: products[1].Price, Quantity: 1},
		}
		wantTotal := 2*products[0].Price + products[1].Price
		for name, got := range map[string]Order{"returned": o, "stored": mustGetOrder(t, db, o.ID)} {
			if got.Status != StatusPending || got.AmountTotal != wantTotal || got.Currency != "usd" || got.UserID != u.ID {
				t.Errorf("%s order = status %q amount %d %s user %d, want pending %d usd user %d",
					name, got.Status, got.AmountTotal, got.Currency, got.UserID, wantTotal, u.ID)
			}
			if got.CheckoutSessionID != "" || !got.PaidAt.IsZero() {
				t.Errorf("%s order has session %q / paid at %v, want neither", name, got.CheckoutSessionID, got.PaidAt)
			}
			if len(got.Items) != len(wantItems) {
				t.Fatalf("%s items = %+v, want %+v", name, got.Items, wantItems)
			}
			for i := range wantItems {
				if got.Items[i] != wantItems[i] {
					t.Errorf("%s item %d = %+v, want %+v", name, i, got.Items[i], wantItems[i])
				}
			}
		}
		if got, want := countRows(t, db, "SELECT count(*) FROM order_items WHERE order_id = ?", o.ID), 2; got != want {
			t.Errorf("order_items rows = %d, want %d", got, want)
		}
		// Preparing an order does not empty the cart: only a payment does.
		if got, want := cartQuantities(t, db, ref)[products[0].ID], 2; got != want {
			t.Errorf("cart quantity after PrepareOrder = %d, want %d", got, want)
		}
	})

	t.Run("Guest", func(t *testing.T) {
		db := mustOpenDB(t)
		products := seededCatalogue(t, db, 1)
		ref := CartRef{Token: "tok-guest"}
		mustAddToCart(t, db, ref, products[0].ID, 3)
		o, _ := mustPrepareOrder(t, db, ref)
		got := mustGetOrder(t, db, o.ID)
		if got.UserID != 0 || got.AmountTotal != 3*products[0].Price {
			t.Errorf("guest order user %d amount %d, want 0 and %d", got.UserID, got.AmountTotal, 3*products[0].Price)
		}
		if got := countRows(t, db, "SELECT count(*) FROM orders WHERE id = ? AND user_id IS NULL", o.ID); got != 1 {
			t.Error("guest order's user_id is not NULL")
		}
	})

	t.Run("SnapshotSurvivesPriceChange", func(t *testing.T) {
		db := mustOpenDB(t)
		products := seededCatalogue(t, db, 1)
		p := products[0]
		ref := CartRef{Token: "tok-snapshot"}
		mustAddToCart(t, db, ref, p.ID, 2)
		o, _ := mustPrepareOrder(t, db, ref)
		mustExec(t, db, "UPDATE products SET price = price * 3, name = 'Renamed' WHERE id = ?", p.ID)

		got := mustGetOrder(t, db, o.ID)
		if got.AmountTotal != 2*p.Price {
			t.Errorf("amount after price change = %d, want %d", got.AmountTotal, 2*p.Price)
		}
		if len(got.Items) != 1 || got.Items[0].UnitAmount != p.Price || got.Items[0].Name != p.Name {
			t.Errorf("items after price change = %+v, want %q at %d", got.Items, p.Name, p.Price)
		}

		// The cart now costs more: the old order must not be reused.
		o2, reused := mustPrepareOrder(t, db, ref)
		if reused || o2.ID == o.ID {
			t.Errorf("PrepareOrder after a price change reused order %d", o.ID)
		}
		if got, want := o2.AmountTotal, 6*p.Price; got != want {
			t.Errorf("new order amount = %d, want %d", got, want)
		}
	})

	t.Run("Reuse", func(t *testing.T) {
		db := mustOpenDB(t)
		products := seededCatalogue(t, db, 2)
		u := mustCreateUser(t, db)
		ref := CartRef{UserID: u.ID}
		mustCartWithLines(t, db, ref, [2]int64{products[0].ID, 1}, [2]int64{products[1].ID, 2})
		first, _ := mustPrepareOrder(t, db, ref)

		again, reused := mustPrepareOrder(t, db, ref)
		if !reused || again.ID != first.ID {
			t.Fatalf("PrepareOrder before a session = order %d (reused %v), want order %d reused", again.ID, reused, first.ID)
		}
		if len(again.Items) != 2 {
			t.Errorf("reused order items = %+v, want 2", again.Items)
		}

		mustAttachSession(t, db, first.ID, "cs_open", fixedNow.Add(time.Hour))
		again, reused = mustPrepareOrder(t, db, ref)
		if !reused || again.ID != first.ID {
			t.Fatalf("PrepareOrder with an open session = order %d (reused %v), want order %d reused", again.ID, reused, first.ID)
		}
		if got, want := again.CheckoutSessionID, "cs_open"; got != want {
			t.Errorf("reused order session = %q, want %q", got, want)
		}
		if got, want := again.CheckoutURL, "https://checkout.example/cs_open"; got != want {
			t.Errorf("reused order URL = %q, want %q", got, want)
		}
		if !again.SessionExpiresAt.Equal(fixedNow.Add(time.Hour)) {
			t.Errorf("reused order SessionExpiresAt = %v, want %v", again.SessionExpiresAt, fixedNow.Add(time.Hour))
		}
		if got := countRows(t, db, "SELECT count(*) FROM orders"); got != 1 {
			t.Errorf("orders = %d, want 1", got)
		}
	})

	t.Run("SessionClosing", func(t *testing.T) {
		for name, expires := range map[string]time.Time{
			"Expired":        fixedNow.Add(-time.Minute),
			"WithinFiveMins": fixedNow.Add(4 * time.Minute),
		} {
			t.Run(name, func(t *testing.T) {
				db := mustOpenDB(t)
				products := seededCatalogue(t, db, 1)
				ref := CartRef{Token: "tok-closing"}
				mustAddToCart(t, db, ref, products[0].ID, 1)
				first, _ := mustPrepareOrder(t, db, ref)
				mustAttachSession(t, db, first.ID, "cs_closing", expires)
				next, reused := mustPrepareOrder(t, db, ref)
				if reused || next.ID == first.ID {
					t.Errorf("PrepareOrder with a session expiring at %v reused order %d", expires, first.ID)
				}
				if next.CheckoutSessionID != "" {
					t.Errorf("new order has session %q, want none", next.CheckoutSessionID)
				}
			})
		}
	})

	t.Run("CartChanged", func(t *testing.T) {
		db := mustOpenDB(t)
		products := seededCatalogue(t, db, 2)
		ref := CartRef{Token: "tok-changed"}
		mustAddToCart(t, db, ref, products[0].ID, 1)
		first, _ := mustPrepareOrder(t, db, ref)

		if err := db.SetCartQuantity(ctx, ref, products[0].ID, 2); err != nil {
			t.Fatal(err)
		}
		second, reused := mustPrepareOrder(t, db, ref)
		if reused || second.ID == first.ID {
			t.Fatalf("PrepareOrder after a quantity change reused order %d", first.ID)
		}
		if got, want := second.AmountTotal, 2*products[0].Price; got != want {
			t.Errorf("new order amount = %d, want %d", got, want)
		}

		mustAddToCart(t, db, ref, products[1].ID, 1)
		third, reused := mustPrepareOrder(t, db, ref)
		if reused || third.ID == second.ID || third.ID == first.ID {
			t.Errorf("PrepareOrder after adding a line reused an order (%d)", third.ID)
		}
		if got, want := len(third.Items), 2; got != want {
			t.Errorf("new order items = %d, want %d", got, want)
		}
		if got := mustGetOrder(t, db, first.ID).Status; got != StatusPending {
			t.Errorf("earlier order status = %q, want it left pending", got)
		}
	})

	t.Run("FailedNeverReused", func(t *testing.T) {
		db := mustOpenDB(t)
		products := seededCatalogue(t, db, 1)
		ref := CartRef{Token: "tok-failed"}
		mustAddToCart(t, db, ref, products[0].ID, 1)
		first, _ := mustPrepareOrder(t, db, ref)
		if err := db.FailCheckout(ctx, first.ID); err != nil {
			t.Fatalf("FailCheckout: %v", err)
		}
		if got, want := mustGetOrder(t, db, first.ID).Status, StatusFailed; got != want {
			t.Errorf("status after FailCheckout = %q, want %q", got, want)
		}
		next, reused := mustPrepareOrder(t, db, ref)
		if reused || next.ID == first.ID {
			t.Errorf("PrepareOrder reused the failed order %d", first.ID)
		}
		if next.Status != StatusPending {
			t.Errorf("new order status = %q, want pending", next.Status)
		}
	})
}

func TestFailCheckout(t *testing.T) {
	ctx := context.Background()
	db := mustOpenDB(t)
	products := seededCatalogue(t, db, 1)
	ref := CartRef{Token: "tok-fail"}
	mustAddToCart(t, db, ref, products[0].ID, 1)
	o, _ := mustPrepareOrder(t, db, ref)

	t.Run("WithSessionUntouched", func(t *testing.T) {
		mustAttachSession(t, db, o.ID, "cs_has_session", fixedNow.Add(time.Hour))
		if err := db.FailCheckout(ctx, o.ID); err != nil {
			t.Fatal(err)
		}
		if got, want := mustGetOrder(t, db, o.ID).Status, StatusPending; got != want {
			t.Errorf("status = %q, want %q: an order with a session is settled by Stripe's events", got, want)
		}
	})

	t.Run("PaidUntouched", func(t *testing.T) {
		mustExec(t, db, "UPDATE orders SET status = 'paid', checkout_session_id = NULL WHERE id = ?", o.ID)
		if err := db.FailCheckout(ctx, o.ID); err != nil {
			t.Fatal(err)
		}
		if got, want := mustGetOrder(t, db, o.ID).Status, StatusPaid; got != want {
			t.Errorf("status = %q, want %q", got, want)
		}
	})
}

func TestAttachCheckoutSession(t *testing.T) {
	ctx := context.Background()
	db := mustOpenDB(t)
	products := seededCatalogue(t, db, 1)
	ref := CartRef{Token: "tok-attach"}
	mustAddToCart(t, db, ref, products[0].ID, 1)
	o, _ := mustPrepareOrder(t, db, ref)
	later := fixedNow.Add(time.Minute)
	db.Now = func() time.Time { return later }
	expires := fixedNow.Add(24 * time.Hour)

	t.Run("OK", func(t *testing.T) {
		mustAttachSession(t, db, o.ID, "cs_first", expires)
		got, err := db.OrderBySession(ctx, "cs_first")
		if err != nil {
			t.Fatalf("OrderBySession: %v", err)
		}
		if got.ID != o.ID || got.CheckoutURL != "https://checkout.example/cs_first" || !got.SessionExpiresAt.Equal(expires) {
			t.Errorf("order = id %d url %q expires %v, want %d, the URL, %v", got.ID, got.CheckoutURL, got.SessionExpiresAt, o.ID, expires)
		}
		if !got.UpdatedAt.Equal(later) || !got.CreatedAt.Equal(fixedNow) {
			t.Errorf("CreatedAt, UpdatedAt = %v, %v, want %v, %v", got.CreatedAt, got.UpdatedAt, fixedNow, later)
		}
		if len(got.Items) != 1 {
			t.Errorf("items = %+v, want 1", got.Items)
		}
	})

	t.Run("SameSessionAgain", func(t *testing.T) {
		mustAttachSession(t, db, o.ID, "cs_first", expires)
		if got := mustGetOrder(t, db, o.ID).CheckoutSessionID; got != "cs_first" {
			t.Errorf("session = %q, want cs_first", got)
		}
	})

	t.Run("OtherSessionRefused", func(t *testing.T) {
		if err := db.AttachCheckoutSession(ctx, o.ID, "cs_second", "https://pay.example/cs_second", expires.Add(time.Hour)); !errors.Is(err, ErrConflict) {
			t.Errorf("AttachCheckoutSession(cs_second) = %v, want ErrConflict", err)
		}
		got := mustGetOrder(t, db, o.ID)
		if got.CheckoutSessionID != "cs_first" || !got.SessionExpiresAt.Equal(expires) {
			t.Errorf("session = %q expiring %v, want cs_first expiring %v", got.CheckoutSessionID, got.SessionExpiresAt, expires)
		}
		if _, err := db.OrderBySession(ctx, "cs_second"); !errors.Is(err, ErrNotFound) {
			t.Errorf("OrderBySession(cs_second) = %v, want ErrNotFound", err)
		}
	})
}

func TestOrderLookups(t *testing.T) {
	ctx := context.Background()
	db := mustOpenDB(t)
	products := seededCatalogue(t, db, 3)
	u := mustCreateUser(t, db)
	other := mustCreateUser(t, db)
	ref := CartRef{UserID: u.ID}

	var ids []int64
	for i, p := range products[:3] {
		mustAddToCart(t, db, ref, p.ID, i+1)
		o, _ := mustPrepareOrder(t, db, ref)
		ids = append(ids, o.ID)
	}
	mustAddToCart(t, db, CartRef{UserID: other.ID}, products[0].ID, 1)
	otherOrder, _ := mustPrepareOrder(t, db, CartRef{UserID: other.ID})
	mustAttachSession(t, db, ids[1], "cs_lookup", fixedNow.Add(time.Hour))

	t.Run("OrdersForUser", func(t *testing.T) {
		orders, err := db.OrdersForUser(ctx, u.ID, 0)
		if err != nil {
			t.Fatalf("OrdersForUser: %v", err)
		}
		if got, want := len(orders), 3; got != want {
			t.Fatalf("orders = %d, want %d", got, want)
		}
		for i, o := range orders {
			wantID := ids[len(ids)-1-i]
			if o.ID != wantID {
				t.Errorf("orders[%d] = %d, want %d (newest first)", i, o.ID, wantID)
			}
			if o.UserID != u.ID {
				t.Errorf("orders[%d] user = %d, want %d", i, o.UserID, u.ID)
			}
			// Order k (oldest first) has k+1 lines.
			if got, want := len(o.Items), len(ids)-i; got != want {
				t.Errorf("orders[%d] items = %d, want %d", i, got, want)
			}
		}
		if got, want := orders[1].CheckoutSessionID, "cs_lookup"; got != want {
			t.Errorf("orders[1] session = %q, want %q", got, want)
		}
	})

	t.Run("Limit", func(t *testing.T) {
		orders, err := db.OrdersForUser(ctx, u.ID, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(orders) != 2 || orders[0].ID != ids[2] || orders[1].ID != ids[1] {
			t.Errorf("OrdersForUser(limit 2) = %d orders, want the newest two %v", len(orders), ids[1:])
		}
	})

	t.Run("OnlyOwnOrders", func(t *testing.T) {
		orders, err := db.OrdersForUser(ctx, other.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(orders) != 1 || orders[0].ID != otherOrder.ID {
			t.Errorf("other user's orders = %+v, want only order %d", orders, otherOrder.ID)
		}
		none, err := db.OrdersForUser(ctx, 999999, 0)
		if err != nil || len(none) != 0 {
			t.Errorf("OrdersForUser(unknown) = %v, %v, want none", none, err)
		}
	})

	t.Run("OrderBySession", func(t *testing.T) {
		o, err := db.OrderBySession(ctx, "cs_lookup")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := o.ID, ids[1]; got != want {
			t.Errorf("OrderBySession = %d, want %d", got, want)
		}
		if got, want := len(o.Items), 2; got != want {
			t.Errorf("items = %d, want %d", got, want)
		}
		if _, err := db.OrderBySession(ctx, "cs_nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("OrderBySession(unknown) = %v, want ErrNotFound", err)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		if _, err := db.Order(ctx, 987654); !errors.Is(err, ErrNotFound) {
			t.Errorf("Order(unknown) = %v, want ErrNotFound", err)
		}
	})
}

func TestIdempotencyKey(t *testing.T) {
	ctx := context.Background()
	db := mustOpenDB(t)
	products := seededCatalogue(t, db, 1)
	ref := CartRef{Token: "tok-idem"}
	mustAddToCart(t, db, ref, products[0].ID, 1)
	first, _ := mustPrepareOrder(t, db, ref)
	reused, _ := mustPrepareOrder(t, db, ref)

	t.Run("Stable", func(t *testing.T) {
		key := first.IdempotencyKey()
		if key == "" {
			t.Fatal("empty key")
		}
		if got := reused.IdempotencyKey(); got != key {
			t.Errorf("reused order key = %q, want %q", got, key)
		}
		if got := mustGetOrder(t, db, first.ID).IdempotencyKey(); got != key {
			t.Errorf("stored order key = %q, want %q", got, key)
		}
	})

	t.Run("DiffersAcrossOrders", func(t *testing.T) {
		if err := db.SetCartQuantity(ctx, ref, products[0].ID, 2); err != nil {
			t.Fatal(err)
		}
		second, _ := mustPrepareOrder(t, db, ref)
		if second.ID == first.ID {
			t.Fatal("expected a second order")
		}
		if first.IdempotencyKey() == second.IdempotencyKey() {
			t.Errorf("two orders share the key %q", first.IdempotencyKey())
		}
	})

	t.Run("DiffersAcrossDatabases", func(t *testing.T) {
		// Same order id in a fresh database, made at another moment.
		db2 := mustOpenDB(t)
		db2.Now = func() time.Time { return fixedNow.Add(time.Second) }
		mustAddToCart(t, db2, ref, products[0].ID, 1)
		o2, _ := mustPrepareOrder(t, db2, ref)
		if o2.ID != first.ID {
			t.Fatalf("first order ids in two fresh databases = %d, %d, want equal", o2.ID, first.ID)
		}
		if o2.IdempotencyKey() == first.IdempotencyKey() {
			t.Errorf("orders in two databases share the key %q", first.IdempotencyKey())
		}
	})
}

func TestStatusCanMoveTo(t *testing.T) {
	tests := []struct {
		from, to Status
		want     bool
	}{
		{StatusPending, StatusProcessing, true},
		{StatusPending, StatusPaid, true},
		{StatusPending, StatusExpired, true},
		{StatusProcessing, StatusPaid, true},
		{StatusProcessing, StatusFailed, true},
		{StatusPaid, StatusRefunded, true},
		{StatusPaid, StatusExpired, false},
		{StatusPaid, StatusProcessing, false},
		{StatusPaid, StatusNeedsReview, false},
		{StatusProcessing, StatusPending, false},
		{StatusProcessing, StatusExpired, false},
		{StatusExpired, StatusPaid, true},
		{StatusFailed, StatusPaid, false},
		{StatusRefunded, StatusPaid, false},
		{StatusNeedsReview, StatusPaid, false},
		{StatusPending, StatusRefunded, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.from)+"→"+string(tt.to), func(t *testing.T) {
			if got := tt.from.CanMoveTo(tt.to); got != tt.want {
				t.Errorf("%s.CanMoveTo(%s) = %v, want %v", tt.from, tt.to, got, tt.want)
			}
		})
	}
}
