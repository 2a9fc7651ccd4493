package handlers

import (
	"context"
	"slices"
	"testing"
	"time"

	"storefront/store"
)

// TestTidyRemovesWhatShoppersLeaveBehind: idle anonymous carts are deleted (accounts' carts and
// fresh ones stay), abandoned checkouts with an open session are closed at the provider, and
// those whose session is gone are expired, with their pages told.
func TestTidyRemovesWhatShoppersLeaveBehind(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t)
	db := shop.sql(t)
	ctx := context.Background()

	idleGuest := shop.client()
	idleGuest.addToCart("canvas-tote", 1)
	member := shop.client()
	member.signup("keeps@example.com")
	member.addToCart("canvas-tote", 1)

	open := shop.client() // abandoned on the payment page, session still open
	open.addToCart("stoneware-mug", 1)
	openOrder := open.checkout()
	gone := shop.client() // abandoned, and the provider's expiry never arrived
	gone.addToCart("stoneware-mug", 2)
	goneOrder := gone.checkout()
	if _, err := db.ExecContext(ctx, "UPDATE orders SET session_expires_at = ? WHERE id = ?",
		time.Now().Add(time.Hour).UTC().Format("2006-01-02T15:04:05.000Z"), goneOrder.ID); err != nil {
		t.Fatal(err)
	}
	sub := shop.watch(sessionTopic(goneOrder.CheckoutSessionID))
	defer sub.Close()

	// A little later nothing is old enough to go.
	shop.server.tidy(ctx, time.Now().Add(time.Minute))
	if got := sqlInt(t, db, "SELECT count(*) FROM carts"); got != 4 {
		t.Fatalf("%d carts after an early tidy, want all 4", got)
	}
	if calls := shop.fake.expiredSessions(); len(calls) != 0 {
		t.Fatalf("fresh checkouts closed: %v", calls)
	}

	// Three hours on, both checkouts are abandoned.
	shop.server.tidy(ctx, time.Now().Add(orderStaleFrom+time.Hour))
	if got := shop.fake.expiredSessions(); !slices.Equal(got, []string{openOrder.CheckoutSessionID}) {
		t.Errorf("sessions closed at the provider: %v, want the open one %s", got, openOrder.CheckoutSessionID)
	}
	if o := shop.order(openOrder.ID); o.Status != store.StatusPending {
		t.Errorf("the order whose session was closed is %s; its expiry event settles it", o.Status)
	}
	if o := shop.order(goneOrder.ID); o.Status != store.StatusExpired {
		t.Errorf("abandoned order whose session is gone is %s, want expired", o.Status)
	}

	// Two weeks on, the anonymous carts are idle; the account's cart stays.
	shop.server.tidy(ctx, time.Now().Add(cartIdleAfter+time.Hour))
	if got := sqlInt(t, db, "SELECT count(*) FROM carts WHERE user_id IS NULL"); got != 0 {
		t.Errorf("%d idle anonymous carts left, want none", got)
	}
	if got := sqlInt(t, db, "SELECT count(*) FROM carts WHERE user_id IS NOT NULL"); got != 1 {
		t.Errorf("the account's cart was deleted")
	}
	if o := shop.order(goneOrder.ID); o.Status != store.StatusExpired {
		t.Errorf("deleting its cart changed the order: %s", o.Status)
	}
	select {
	case o := <-sub.C:
		if o.Status != store.StatusExpired {
			t.Errorf("its success page was sent %s, want expired", o.Status)
		}
	case <-time.After(5 * time.Second):
		t.Error("the expired order's page was not told")
	}
}
