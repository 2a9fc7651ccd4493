package handlers

import (
	"testing"
)

// TestReplacedCheckoutStripeMock: the request that closes a replaced checkout is the one Stripe
// documents, POST /v1/checkout/sessions/{id}/expire, sent before the new session is created.
func TestReplacedCheckoutStripeMock(t *testing.T) {
	t.Parallel()
	g, rt := newMockGateway(startStripeMock(t))
	shop := newTestShop(t, withCheckout(g))
	first, _ := checkoutTwice(shop.client())
	calls := rt.recorded()[1:] // after the first checkout's session
	if len(calls) != 2 {
		t.Fatalf("%d requests reached Stripe for the second checkout, want 2 (expire, create): %+v", len(calls), calls)
	}
	if got, want := calls[0].Method+" "+calls[0].Path, "POST /v1/checkout/sessions/"+first.CheckoutSessionID+"/expire"; got != want {
		t.Errorf("first request %q, want %q", got, want)
	}
	if len(calls[0].Form) != 0 {
		t.Errorf("expire sent parameters %v, want none", calls[0].Form)
	}
	if got, want := calls[1].Method+" "+calls[1].Path, "POST /v1/checkout/sessions"; got != want {
		t.Errorf("second request %q, want %q", got, want)
	}
}
