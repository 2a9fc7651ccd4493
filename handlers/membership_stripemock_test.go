package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"
)

// TestMembershipStripeMock checks the requests a subscribe and a portal visit send, against
// Stripe's own mock, which refuses any parameter Stripe would refuse.
func TestMembershipStripeMock(t *testing.T) {
	mock := startStripeMock(t)
	g, rt := newMockGateway(mock)
	shop := newTestShop(t, withCheckout(g))
	c := shop.client()
	u := c.signup("mock@example.com")
	user := strconv.FormatInt(u.ID, 10)

	sessionID, checkoutURL := sessionAnswer(t, c.post("/membership/checkout", url.Values{"plan": {"yearly"}}, "Accept", "application/json"))
	if sessionID == "" || checkoutURL == "" {
		t.Fatalf("no session: %q %q", sessionID, checkoutURL)
	}
	calls := rt.recorded()
	byPath := map[string][]stripeCall{}
	for _, call := range calls {
		byPath[call.Method+" "+call.Path] = append(byPath[call.Method+" "+call.Path], call)
	}
	customers := byPath["POST /v1/customers"]
	if len(customers) != 1 || customers[0].Form.Get("email") != "mock@example.com" || customers[0].Form.Get("metadata[user_id]") != user ||
		customers[0].IdempotencyKey == "" {
		t.Fatalf("customer creation: %+v, want one with email, user id and an idempotency key", customers)
	}
	if n := len(byPath["GET /v1/prices"]); n != 2 {
		t.Errorf("%d price lookups, want one per plan", n)
	}
	for _, p := range byPath["POST /v1/prices"] {
		if p.Form.Get("lookup_key") == "" || p.Form.Get("recurring[interval]") == "" || p.Form.Get("product_data[name]") == "" || p.IdempotencyKey == "" {
			t.Errorf("price creation lacks lookup key, interval, product or idempotency key: %v", p.Form)
		}
	}
	sessions := byPath["POST /v1/checkout/sessions"]
	if len(sessions) != 1 {
		t.Fatalf("%d checkout sessions created, want 1", len(sessions))
	}
	want := map[string]string{
		"mode": "subscription", "client_reference_id": user,
		"line_items[0][quantity]": "1", "metadata[plan]": "yearly", "metadata[user_id]": user,
		"subscription_data[metadata][user_id]": user, "success_url": shop.srv.URL + "/account?joined=1",
		"cancel_url": shop.srv.URL + "/membership",
	}
	for key, value := range want {
		if got := sessions[0].Form.Get(key); got != value {
			t.Errorf("%s = %q, want %q", key, got, value)
		}
	}
	cust, err := shop.db.ReserveCustomer(context.Background(), u.ID)
	if err != nil || cust.CustomerID == "" || sessions[0].Form.Get("customer") != cust.CustomerID {
		t.Errorf("session customer %q, the shop keeps %q (%v)", sessions[0].Form.Get("customer"), cust.CustomerID, err)
	}
	if sessions[0].Form.Get("line_items[0][price]") == "" || sessions[0].Form.Get("customer_email") != "" {
		t.Errorf("the session must name the plan's Price and no customer_email (the customer has it): %v", sessions[0].Form)
	}

	// (Reusing the open session needs its expires_at, which stripe-mock answers in the past:
	// TestMembershipDoubleSubscribe checks reuse through the simulator.)

	before := len(rt.recorded())
	res := c.post("/membership/portal", nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") == "" {
		t.Fatalf("portal: status %d Location %q, want a redirect", res.StatusCode, res.Header.Get("Location"))
	}
	portal := rt.recorded()[before]
	if portal.Path != "/v1/billing_portal/sessions" || portal.Form.Get("customer") != cust.CustomerID ||
		portal.Form.Get("return_url") != shop.srv.URL+"/account" {
		t.Errorf("portal request %s %v", portal.Path, portal.Form)
	}
}
