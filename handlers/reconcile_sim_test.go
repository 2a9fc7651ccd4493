package handlers

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"storefront/reconcile"
	"storefront/store"
)

// TestReconcileRecoversDroppedWebhooks: the simulator drops every webhook (fault injection), so
// a paid checkout never reaches the shop; reconcile lists the simulator's events and the order
// is paid, exactly once, and a second run applies nothing.
func TestReconcileRecoversDroppedWebhooks(t *testing.T) {
	t.Parallel()
	shop := newSimulatedShop(t, 0, "drop")
	c := shop.client()
	c.signup("dropped@example.com")
	c.addToCart("canvas-tote", 1)
	o, payURL := shop.startCheckout(t, c)
	if res := simPay(t, payURL, simCardForm("dropped@example.com", "4242 4242 4242 4242")); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("pay on the hosted page: %d", res.StatusCode)
	}
	if got := shop.order(o.ID); got.Status != store.StatusPending {
		t.Fatalf("order is %s before reconcile, want pending (no webhook may arrive)", got.Status)
	}

	ctx := context.Background()
	r, err := reconcile.Run(ctx, shop.gw, shop.db, reconcile.DefaultSince, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Applied == 0 {
		t.Errorf("reconcile applied nothing: %s", r)
	}
	if got := shop.order(o.ID); got.Status != store.StatusPaid {
		t.Fatalf("order is %s after reconcile, want paid (%s)", got.Status, r)
	}
	db := shop.testShop.sql(t)
	if n := sqlInt(t, db, "SELECT count(*) FROM stripe_events WHERE type = 'checkout.session.completed'"); n != 1 {
		t.Errorf("%d checkout.session.completed events stored, want 1", n)
	}
	again, err := reconcile.Run(ctx, shop.gw, shop.db, reconcile.DefaultSince, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Applied != 0 || again.Known != r.Seen {
		t.Errorf("a second run: %s; want nothing applied, all %d known", again, r.Seen)
	}
	if len(shop.proxy.seen()) != 0 {
		t.Errorf("webhooks reached the shop despite the drop fault: %+v", shop.proxy.seen())
	}
}

// TestAdminReconcileNow: the console's "Reconcile now" runs the same reconcile, for admins only,
// and records it in the audit log.
func TestAdminReconcileNow(t *testing.T) {
	t.Parallel()
	shop := newSimulatedShop(t, 0, "drop")
	shop.server.Reconcile = shop.gw
	c := shop.client()
	c.signup("late@example.com")
	c.addToCart("canvas-tote", 1)
	o, payURL := shop.startCheckout(t, c)
	if res := simPay(t, payURL, simCardForm("late@example.com", "4242 4242 4242 4242")); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("pay: %d", res.StatusCode)
	}
	if res := c.post("/admin/reconcile", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("a shopper posting to /admin/reconcile: %d, want 404", res.StatusCode)
	}
	admin := shop.admin("owner@example.com")
	res := admin.post("/admin/reconcile", nil)
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "reconciled=") {
		t.Fatalf("Reconcile now: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if got := shop.order(o.ID); got.Status != store.StatusPaid {
		t.Errorf("order is %s after Reconcile now, want paid", got.Status)
	}
	if page := admin.get(res.Header.Get("Location")); !strings.Contains(page.body, "events seen") {
		t.Errorf("the event log does not show the summary:\n%s", page.body)
	}
	if audit := admin.get("/admin/audit"); !strings.Contains(audit.body, "reconcile") {
		t.Errorf("the audit log does not record the reconcile")
	}
}
