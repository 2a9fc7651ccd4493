package handlers

import (
	"fmt"
	"strings"
	"testing"
)

// TestAdminOrderPageListsPaymentEvents: an order's page in the console lists every event about
// its payment, including those about the Checkout Session's own PaymentIntent, which carry no
// order id and name the intent only as their object.
func TestAdminOrderPageListsPaymentEvents(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t)
	admin := shop.admin("boss@example.com")
	c := shop.client()
	c.addToCart("canvas-tote", 1)
	o := c.checkout()
	pi := "pi_" + o.CheckoutSessionID
	intent := map[string]any{"id": pi, "object": "payment_intent", "amount": o.AmountTotal, "currency": o.Currency, "metadata": map[string]string{}}
	charge := map[string]any{"id": "ch_" + o.CheckoutSessionID, "object": "charge", "payment_intent": pi, "amount": o.AmountTotal, "currency": o.Currency}
	shop.sendEvent("evt_pi_created", "payment_intent.created", intent)
	shop.sendEvent("evt_charge_ok", "charge.succeeded", charge)
	shop.sendEvent("evt_pi_ok", "payment_intent.succeeded", intent)
	shop.sendEvent("evt_completed", "checkout.session.completed", sessionObject(o, "paid"))
	shop.sendEvent("evt_other", "payment_intent.created", map[string]any{"id": "pi_someone_else", "object": "payment_intent", "metadata": map[string]string{}})

	page := admin.get(fmt.Sprintf("/admin/orders/%d", o.ID)).body
	for _, id := range []string{"evt_pi_created", "evt_charge_ok", "evt_pi_ok", "evt_completed"} {
		if !strings.Contains(page, id) {
			t.Errorf("the order page does not list %s", id)
		}
	}
	if strings.Contains(page, "evt_other") {
		t.Error("the order page lists another payment's event")
	}
}
