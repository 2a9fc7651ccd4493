package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"storefront/payments"
	"storefront/store"
)

// TestReplacedCheckoutClosed: a shopper who changes their cart after starting a checkout and
// checks out again can pay only the new checkout; the old session is closed at the provider.
func TestReplacedCheckoutClosed(t *testing.T) {
	t.Parallel()

	t.Run("Simulator", func(t *testing.T) {
		t.Parallel()
		s := newSimulatedShop(t, 0)
		c := s.client()
		c.signup("ann@example.com")
		c.addToCart("canvas-tote", 1)
		first, firstURL := s.startCheckout(t, c)
		c.addToCart("stoneware-mug", 1)
		second, secondURL := s.startCheckout(t, c)
		if second.ID == first.ID {
			t.Fatalf("the changed cart reused order %d", first.ID)
		}
		if got := s.order(first.ID).Status; got != store.StatusExpired {
			t.Errorf("replaced order is %s, want expired", got)
		}
		res := simPay(t, firstURL, simCardForm("ann@example.com", "4242424242424242"))
		if res.StatusCode != http.StatusGone || !strings.Contains(res.body, "expired") {
			t.Errorf("paying the replaced session: status %d, want 410 saying it expired:\n%s", res.StatusCode, res.body)
		}
		s.assertRedirectedToSuccess(t, simPay(t, secondURL, simCardForm("ann@example.com", "4242424242424242")), second)
		s.waitOrderStatus(t, second.ID, store.StatusPaid)
		if got := s.order(first.ID).Status; got != store.StatusExpired {
			t.Errorf("replaced order is %s after the new one was paid, want expired", got)
		}
	})

	t.Run("GatewayAlreadyComplete", func(t *testing.T) {
		t.Parallel()
		s := newSimulatedShop(t, 0)
		c := s.client()
		c.addToCart("canvas-tote", 1)
		o, payURL := s.startCheckout(t, c)
		s.assertRedirectedToSuccess(t, simPay(t, payURL, simCardForm("guest@example.com", "4242424242424242")), o)
		if err := s.gw.ExpireCheckoutSession(context.Background(), o.CheckoutSessionID); !errors.Is(err, payments.ErrCheckoutComplete) {
			t.Errorf("expiring a paid session: %v, want ErrCheckoutComplete", err)
		}
		c.addToCart("canvas-tote", 1)
		other, _ := s.startCheckout(t, c)
		if err := s.gw.ExpireCheckoutSession(context.Background(), other.CheckoutSessionID); err != nil {
			t.Fatalf("expire an open session: %v", err)
		}
		if err := s.gw.ExpireCheckoutSession(context.Background(), other.CheckoutSessionID); err != nil {
			t.Errorf("expiring a session twice: %v, want nil (it is closed either way)", err)
		}
	})

	t.Run("PaidBeforeReplacedIsLeftToItsWebhook", func(t *testing.T) {
		t.Parallel()
		gw := &completedCheckout{fakeCheckout: &fakeCheckout{}}
		shop := newTestShop(t, withCheckout(gw))
		first, second := checkoutTwice(shop.client())
		if got := gw.expiredSessions(); len(got) != 1 || got[0] != first.CheckoutSessionID {
			t.Errorf("sessions asked to expire %v, want the replaced %s", got, first.CheckoutSessionID)
		}
		if got := shop.order(first.ID).Status; got != store.StatusPending {
			t.Errorf("replaced but completed order is %s, want pending until its webhook", got)
		}
		shop.sendEvent("evt_first_paid", "checkout.session.completed", sessionObject(first, "paid"))
		if got := shop.order(first.ID).Status; got != store.StatusPaid {
			t.Errorf("after its webhook the order is %s, want paid", got)
		}
		if got := shop.order(second.ID).Status; got != store.StatusPending {
			t.Errorf("the new checkout is %s, want pending", got)
		}
	})

	t.Run("ResumeOrCancelOfCompletedCheckout", func(t *testing.T) {
		t.Parallel()
		gw := &completedCheckout{fakeCheckout: &fakeCheckout{}}
		shop := newTestShop(t, withCheckout(gw))
		c := shop.client()
		c.signup("ann@example.com")
		c.addToCart("canvas-tote", 1)
		o := c.checkout()
		// The session closes in a minute: too soon to send the shopper back to it.
		sqlExec(t, shop.sql(t), "UPDATE orders SET session_expires_at = ? WHERE id = ?",
			time.Now().Add(time.Minute).UTC().Format("2006-01-02T15:04:05.000Z"), o.ID)
		for _, action := range []string{"pay", "cancel"} {
			res := c.post(fmt.Sprintf("/orders/%d/%s", o.ID, action), nil)
			if res.StatusCode != http.StatusConflict || !strings.Contains(res.body, "has just been paid") {
				t.Errorf("%s of a completed checkout: status %d, want 409 saying it was paid:\n%s", action, res.StatusCode, res.body)
			}
		}
		if got := len(gw.calls()); got != 1 {
			t.Errorf("%d sessions created, want no new one for a paid checkout", got)
		}
		if got := shop.order(o.ID).Status; got != store.StatusPending {
			t.Errorf("order is %s, want pending until its webhook", got)
		}
	})
}

// checkoutTwice signs c up, checks out a tote, then checks out again with a mug added: the
// second checkout replaces the first.
func checkoutTwice(c *testClient) (first, second store.Order) {
	c.t.Helper()
	c.signup("ann@example.com")
	c.addToCart("canvas-tote", 1)
	first = c.checkout()
	c.addToCart("stoneware-mug", 1)
	return first, c.checkout()
}

// completedCheckout is a payment provider at which every session has been completed already.
type completedCheckout struct{ *fakeCheckout }

func (f *completedCheckout) ExpireCheckoutSession(ctx context.Context, id string) error {
	f.fakeCheckout.ExpireCheckoutSession(ctx, id) // recorded
	return fmt.Errorf("expire checkout session %s: %w", id, payments.ErrCheckoutComplete)
}
