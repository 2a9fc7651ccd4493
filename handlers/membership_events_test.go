package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"storefront/store"
)

// TestMembershipStream: the account page's stream starts with the membership as it is, then
// carries each change of the member's own subscription (with the header badge), and nobody
// else's.
func TestMembershipStream(t *testing.T) {
	shop := newTestShop(t)
	ctx := context.Background()
	c, other := shop.client(), shop.client()
	u := c.signup("live@example.com")
	other.signup("other@example.com")
	if _, err := shop.db.ReserveCustomer(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := shop.db.SetCustomer(ctx, u.ID, "cus_live"); err != nil {
		t.Fatal(err)
	}
	if res := shop.client().get("/account/events"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("logged out: status %d, want 401", res.StatusCode)
	}
	mine, theirs := c.openOrderStream("/account/events?joined=1"), other.openOrderStream("/account/events")
	first := mine.nextData(t, 5*time.Second)
	if !strings.Contains(first.Data, "confirming your payment") || strings.Contains(first.Data, `class="member-badge"`) {
		t.Errorf("first message, just back from checkout, should say the payment is being confirmed:\n%s", first.Data)
	}
	theirs.nextData(t, 5*time.Second)

	end := time.Now().Add(30 * 24 * time.Hour).Unix()
	shop.sendEvent("evt_live_1", "customer.subscription.updated", map[string]any{"id": "sub_live", "object": "subscription",
		"status": "active", "customer": "cus_live", "current_period_end": end, "cancel_at_period_end": false,
		"items": map[string]any{"data": []any{map[string]any{"price": map[string]any{"recurring": map[string]any{"interval": "year"}}}}}})
	m := mine.nextData(t, 5*time.Second)
	for _, want := range []string{`data-status="active"`, "Membership, yearly", "Renews on", `id="member-badge" hx-swap-oob="true"`, `class="member-badge"`,
		time.Unix(end, 0).UTC().Format("2 January 2006")} {
		if !strings.Contains(m.Data, want) {
			t.Errorf("the change message lacks %q:\n%s", want, m.Data)
		}
	}
	if m, ok := theirs.quiet(200 * time.Millisecond); ok {
		t.Errorf("another user's stream got the change:\n%s", m.Data)
	}
	shop.sendEvent("evt_live_2", "invoice.payment_failed", map[string]any{"id": "in_live", "object": "invoice", "subscription": "sub_live",
		"customer": "cus_live", "amount_due": 5000, "currency": "usd", "attempt_count": 1, "billing_reason": "subscription_cycle",
		"lines": map[string]any{"data": []any{map[string]any{"period": map[string]any{"end": end}}}}})
	if m := mine.nextData(t, 5*time.Second); !strings.Contains(m.Data, "invoice-failed") || !strings.Contains(m.Data, "$50.00") {
		t.Errorf("a failed invoice is not listed live:\n%s", m.Data)
	}
	// The cart page's stream sends nothing at first (the page is current), then reprices the
	// cart for the member when the membership changes.
	c.addToCart("canvas-tote", 1)
	cartStream := c.openOrderStream("/account/events?view=cart")
	if m, ok := cartStream.quiet(200 * time.Millisecond); ok {
		t.Errorf("the cart stream sent the cart again at once:\n%s", m.Data)
	}
	shop.sendEvent("evt_live_3", "invoice.paid", map[string]any{"id": "in_live", "object": "invoice", "subscription": "sub_live",
		"customer": "cus_live", "amount_paid": 5000, "currency": "usd", "attempt_count": 2, "billing_reason": "subscription_cycle",
		"lines": map[string]any{"data": []any{map[string]any{"period": map[string]any{"end": end}}}}})
	cart := cartStream.nextData(t, 5*time.Second)
	for _, want := range []string{`id="cart"`, "Member discount (10%)", "$21.60", `id="member-badge" hx-swap-oob="true"`} {
		if !strings.Contains(cart.Data, want) {
			t.Errorf("the cart stream's message lacks %q:\n%s", want, cart.Data)
		}
	}
	mine.nextData(t, 5*time.Second) // the account page heard of the paid invoice too

	if got := fmt.Sprint(accountOf(t, c).Subscription.Plan); got != "yearly" {
		t.Errorf("account JSON plan %q, want yearly", got)
	}

	// Logging out ends the account's membership streams.
	c.post("/logout", nil)
	for _, st := range []*sseTestStream{mine, cartStream} {
		if err := st.waitEnd(5 * time.Second); err != nil {
			t.Errorf("after logout: %v", err)
		}
	}
}

// TestMemberPaysLessEverywhere: a member's Checkout line items, PaymentIntent amount and the
// webhook's amount check all use the discounted prices; a confirmation of the full price does
// not pay the order.
func TestMemberPaysLessEverywhere(t *testing.T) {
	intents := &fakeIntents{}
	shop := newTestShop(t, withElements(intents))
	ctx := context.Background()
	c := shop.client()
	u := c.signup("saver@example.com")
	shop.db.ReserveCustomer(ctx, u.ID)
	if err := shop.db.SetCustomer(ctx, u.ID, "cus_saver"); err != nil {
		t.Fatal(err)
	}
	shop.sendEvent("evt_saver", "customer.subscription.created", map[string]any{"id": "sub_saver", "object": "subscription",
		"status": "active", "customer": "cus_saver", "current_period_end": time.Now().Add(720 * time.Hour).Unix()})
	mug := c.addToCart("stoneware-mug", 3) // 18.00 each: 16.20 for a member
	want := 3 * store.Discounted(mug.Price, 10)

	o := c.checkout()
	calls := shop.fake.calls()
	if len(calls) != 1 || calls[0].Items[0].UnitAmount != store.Discounted(mug.Price, 10) || o.AmountTotal != want {
		t.Fatalf("checkout sent %+v for order total %d, want unit %d and total %d", calls, o.AmountTotal, store.Discounted(mug.Price, 10), want)
	}
	// A confirmation of the undiscounted total does not match the order.
	full := sessionObject(o, "paid")
	full["amount_total"] = 3 * mug.Price
	shop.sendEvent("evt_saver_full", "checkout.session.completed", full)
	if got := shop.order(o.ID).Status; got != store.StatusNeedsReview {
		t.Errorf("an order confirmed at full price is %s, want needs_review", got)
	}

	// The cart still holds the three mugs (an order in review does not empty it): pay on the page.
	res := c.post("/create-payment-intent/", nil, "Accept", "application/json")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("create payment intent: %d %s", res.StatusCode, res.body)
	}
	intents.mu.Lock()
	defer intents.mu.Unlock()
	if len(intents.created) != 1 || intents.created[0].Amount != want {
		t.Errorf("PaymentIntents created %+v, want one for %d", intents.created, want)
	}
}

// TestDeleteAccountWhileMember: an account with a running membership is not deleted (its card
// would go on being charged); once the membership has ended, it is.
func TestDeleteAccountWhileMember(t *testing.T) {
	shop := newTestShop(t)
	ctx := context.Background()
	c := shop.client()
	u := c.signup("leaver@example.com")
	shop.db.ReserveCustomer(ctx, u.ID)
	if err := shop.db.SetCustomer(ctx, u.ID, "cus_leaver"); err != nil {
		t.Fatal(err)
	}
	sub := map[string]any{"id": "sub_leaver", "object": "subscription", "status": "active", "customer": "cus_leaver",
		"current_period_end": time.Now().Add(720 * time.Hour).Unix()}
	shop.sendEvent("evt_leaver_1", "customer.subscription.created", sub)
	res := c.post("/account/delete", url.Values{"password": {"correct horse"}})
	if res.StatusCode != http.StatusConflict || !strings.Contains(res.body, "membership is still running") {
		t.Fatalf("delete while a member: status %d, want 409 saying why:\n%s", res.StatusCode, res.body)
	}
	if _, err := shop.db.UserByID(ctx, u.ID); err != nil {
		t.Fatalf("the member's account is gone: %v", err)
	}
	shop.sendEvent("evt_leaver_2", "customer.subscription.deleted", sub)
	if res := c.post("/account/delete", url.Values{"password": {"correct horse"}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("delete after the membership ended: status %d, want 303", res.StatusCode)
	}
}
