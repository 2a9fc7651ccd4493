package handlers

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"storefront/store"
)

func TestResumePayment(t *testing.T) {
	t.Parallel()

	t.Run("OpenSessionReused", func(t *testing.T) {
		shop := newTestShop(t)
		c := shop.client()
		c.signup("ann@example.com")
		c.addToCart("canvas-tote", 1)
		o := c.checkout()

		orders := c.get("/orders").body
		if !strings.Contains(orders, fmt.Sprintf(`action="/orders/%d/pay"`, o.ID)) || !strings.Contains(orders, "Resume payment") {
			t.Fatalf("a pending order offers no Resume payment:\n%s", orders)
		}
		res := c.post(fmt.Sprintf("/orders/%d/pay", o.ID), nil)
		if got, want := res.StatusCode, http.StatusSeeOther; got != want {
			t.Fatalf("status %d, want %d\n%s", got, want, res.body)
		}
		if got, want := res.Header.Get("Location"), o.CheckoutURL; got != want {
			t.Errorf("sent to %q, want the open session %q", got, want)
		}
		if got := len(shop.fake.calls()); got != 1 {
			t.Errorf("%d Checkout Sessions created, want the first one only", got)
		}
	})

	t.Run("ClosedSessionReplaced", func(t *testing.T) {
		shop := newTestShop(t)
		c := shop.client()
		c.signup("ann@example.com")
		c.addToCart("canvas-tote", 1)
		o := c.checkout()
		db := shop.sql(t)
		sqlExec(t, db, "UPDATE orders SET session_expires_at = '2020-01-01T00:00:00.000Z' WHERE id = ?", o.ID)

		res := c.post(fmt.Sprintf("/orders/%d/pay", o.ID), nil, "HX-Request", "true")
		after := shop.order(o.ID)
		if after.CheckoutSessionID == o.CheckoutSessionID || after.Status != store.StatusPending {
			t.Fatalf("order after resume: session %q status %s; want a new session, still pending", after.CheckoutSessionID, after.Status)
		}
		if got, want := res.Header.Get("HX-Redirect"), after.CheckoutURL; got != want {
			t.Errorf("HX-Redirect %q, want the new session %q", got, want)
		}
		calls := shop.fake.calls()
		if len(calls) != 2 {
			t.Fatalf("%d sessions created, want 2", len(calls))
		}
		if calls[0].IdempotencyKey == calls[1].IdempotencyKey || !strings.HasSuffix(calls[1].IdempotencyKey, "-attempt-2") {
			t.Errorf("idempotency keys %q then %q: a new attempt needs a key of its own", calls[0].IdempotencyKey, calls[1].IdempotencyKey)
		}
		if calls[1].OrderID != o.ID || calls[1].UserID == 0 {
			t.Errorf("new session for order %d user %d", calls[1].OrderID, calls[1].UserID)
		}
		// The new session's payment settles the order.
		shop.sendEvent("evt_resumed_paid", "checkout.session.completed", sessionObject(after, "paid"))
		if got := shop.order(o.ID).Status; got != store.StatusPaid {
			t.Errorf("status after paying the new session: %s", got)
		}
	})

	t.Run("OnlyTheOwner", func(t *testing.T) {
		shop := newTestShop(t)
		ann, bob, guest := shop.client(), shop.client(), shop.client()
		ann.signup("ann@example.com")
		bob.signup("bob@example.com")
		ann.addToCart("canvas-tote", 1)
		o := ann.checkout()
		guest.addToCart("stoneware-mug", 1)
		for name, c := range map[string]*testClient{"another user": bob, "a guest": guest} {
			for _, action := range []string{"pay", "cancel"} {
				if res := c.post(fmt.Sprintf("/orders/%d/%s", o.ID, action), nil); res.StatusCode != http.StatusNotFound {
					t.Errorf("%s may %s ann's order: status %d", name, action, res.StatusCode)
				}
			}
		}
		if got := shop.order(o.ID).Status; got != store.StatusPending {
			t.Errorf("ann's order is %s", got)
		}
	})

	t.Run("GuestOwnCheckout", func(t *testing.T) {
		shop := newTestShop(t)
		guest := shop.client()
		guest.addToCart("stoneware-mug", 1)
		o := guest.checkout()
		res := guest.post(fmt.Sprintf("/orders/%d/pay", o.ID), nil)
		if got, want := res.Header.Get("Location"), o.CheckoutURL; res.StatusCode != http.StatusSeeOther || got != want {
			t.Errorf("guest resume: status %d Location %q, want 303 to %q", res.StatusCode, got, want)
		}
	})
}

func TestCancelOrder(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t)
	c := shop.client()
	c.signup("ann@example.com")
	c.addToCart("canvas-tote", 1)
	o := c.checkout()

	res := c.post(fmt.Sprintf("/orders/%d/cancel", o.ID), nil)
	if got, want := res.Header.Get("Location"), "/orders"; res.StatusCode != http.StatusSeeOther || got != want {
		t.Fatalf("cancel: status %d Location %q, want 303 to %q", res.StatusCode, got, want)
	}
	if got := shop.fake.expiredSessions(); len(got) != 1 || got[0] != o.CheckoutSessionID {
		t.Errorf("sessions closed at the provider: %v, want [%s]", got, o.CheckoutSessionID)
	}
	if got := shop.order(o.ID).Status; got != store.StatusExpired {
		t.Errorf("status after cancel: %s, want expired", got)
	}
	page := c.get("/orders").body
	for _, want := range []string{fmt.Sprintf("Order #%d is cancelled. Nothing was charged.", o.ID), ">Expired<", "The checkout expired on"} {
		if !strings.Contains(page, want) {
			t.Errorf("orders page after cancel lacks %q", want)
		}
	}
	if strings.Contains(page, "Resume payment") {
		t.Error("a cancelled order still offers Resume payment")
	}
	if res := c.post(fmt.Sprintf("/orders/%d/pay", o.ID), nil); res.StatusCode != http.StatusConflict {
		t.Errorf("resuming a cancelled order: status %d, want 409", res.StatusCode)
	}
	if got := c.get("/cart").body; !strings.Contains(got, "Canvas Tote Bag") {
		t.Error("cancelling emptied the cart")
	}
}
