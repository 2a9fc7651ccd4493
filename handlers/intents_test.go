package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"storefront/payments"
	"storefront/store"
)

// fakeIntents stands in for Stripe's PaymentIntents API.
type fakeIntents struct {
	mu       sync.Mutex
	created  []payments.IntentRequest
	canceled []string
}

func (f *fakeIntents) CreatePaymentIntent(_ context.Context, req payments.IntentRequest) (payments.Intent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.created = append(f.created, req)
	id := fmt.Sprintf("pi_fake_%d", req.OrderID)
	return payments.Intent{ID: id, ClientSecret: id + "_secret_abc"}, nil
}

func (f *fakeIntents) CancelPaymentIntent(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.canceled = append(f.canceled, id)
	return nil
}

func withElements(f *fakeIntents) shopOption {
	return func(d *Deps) { d.Intents, d.PaymentUI, d.StripeJS = f, UIBoth, "https://js.stripe.com/v3/" }
}

// intentObject is the data.object of a payment_intent.* event for an order the shop made it for.
func intentObject(o store.Order, status string) map[string]any {
	meta := map[string]string{"order_id": fmt.Sprint(o.ID), "storefront_kind": "payment_intent"}
	if o.UserID != 0 {
		meta["user_id"] = fmt.Sprint(o.UserID)
	}
	obj := map[string]any{"id": o.PaymentIntent, "object": "payment_intent", "status": status, "amount": o.AmountTotal,
		"currency": o.Currency, "metadata": meta, "receipt_email": "buyer@example.com"}
	if status == "requires_payment_method" {
		obj["last_payment_error"] = map[string]any{"code": "card_declined", "message": "Your card was declined."}
	}
	return obj
}

func TestPayOnTheShopsOwnPage(t *testing.T) {
	t.Parallel()
	intents := &fakeIntents{}
	shop := newTestShop(t, withElements(intents))
	c := shop.client()
	c.signup("elements@example.com")
	c.addToCart("canvas-tote", 2)

	if cart := c.get("/cart"); !strings.Contains(cart.body, `action="/create-payment-intent/"`) || !strings.Contains(cart.body, "Pay on this page") {
		t.Fatalf("the cart offers no way to pay on the shop's page:\n%s", cart.body)
	}
	res := c.post("/create-payment-intent/", nil)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/pay/") {
		t.Fatalf("POST /create-payment-intent/: status %d, Location %q; want 303 to /pay/{id}", res.StatusCode, res.Header.Get("Location"))
	}
	payURL := res.Header.Get("Location")
	again := c.post("/create-payment-intent/", nil, "Accept", "application/json")
	var answer struct{ OrderID, ClientSecret, PublishableKey string }
	if err := json.Unmarshal([]byte(again.body), &answer); err != nil || answer.ClientSecret == "" || "/pay/"+answer.OrderID != payURL {
		t.Fatalf("a second click as JSON: %d %s; want the same order and its client secret", again.StatusCode, again.body)
	}
	if n := len(intents.created); n != 1 {
		t.Errorf("%d PaymentIntents created for two clicks on an unchanged cart, want 1", n)
	}
	o := shop.order(mustAtoi(t, answer.OrderID))
	if o.Kind != store.KindPaymentIntent || o.AmountTotal != 2*2400 || intents.created[0].Amount != o.AmountTotal ||
		intents.created[0].UserID == 0 || intents.created[0].ReceiptEmail != "elements@example.com" {
		t.Errorf("order %+v from intent request %+v", o, intents.created[0])
	}

	page := c.get(payURL)
	if page.StatusCode != http.StatusOK || !strings.Contains(page.body, `data-client-secret="`+answer.ClientSecret+`"`) ||
		!strings.Contains(page.body, `src="https://js.stripe.com/v3/"`) {
		t.Fatalf("GET %s: %d\n%s", payURL, page.StatusCode, page.body)
	}
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self' https://js.stripe.com") ||
		!strings.Contains(csp, "frame-src https://js.stripe.com") {
		t.Errorf("payment page CSP %q does not allow Stripe.js", csp)
	}
	if csp := c.get("/cart").Header.Get("Content-Security-Policy"); strings.Contains(csp, "js.stripe.com") {
		t.Errorf("other pages allow Stripe.js too: %q", csp)
	}
	other := shop.client()
	other.signup("other@example.com")
	if res := other.get(payURL); res.StatusCode != http.StatusNotFound {
		t.Errorf("another account opening the payment page: %d, want 404", res.StatusCode)
	}
	if res := shop.client().get(payURL); res.StatusCode != http.StatusNotFound {
		t.Errorf("a stranger opening the payment page: %d, want 404", res.StatusCode)
	}

	// A declined card: the order stays payable and the page says why.
	complete := "/payment-complete/?payment_intent=" + o.PaymentIntent + "&redirect_status=succeeded"
	stream := c.openOrderStream("/orders/events?payment_intent=" + o.PaymentIntent)
	stream.nextData(t, liveWithin)
	shop.sendEvent("evt_pi_declined", "payment_intent.payment_failed", intentObject(o, "requires_payment_method"))
	if got := shop.order(o.ID); got.Status != store.StatusPending || got.PaymentError != "Your card was declined." {
		t.Errorf("after a decline the order is %s with error %q, want pending and the decline", got.Status, got.PaymentError)
	}
	if page := c.get(payURL); !strings.Contains(page.body, "Your card was declined.") {
		t.Errorf("the payment page does not show the decline")
	}
	// redirect_status is never trusted: the return page shows what the webhook said.
	if res := c.get(complete); !strings.Contains(res.body, `data-status="pending"`) {
		t.Errorf("payment-complete before any success webhook does not say pending:\n%s", res.body)
	}
	shop.sendEvent("evt_pi_paid", "payment_intent.succeeded", intentObject(o, "succeeded"))
	if got := shop.order(o.ID); got.Status != store.StatusPaid || got.PaymentError != "" {
		t.Errorf("after payment_intent.succeeded the order is %s (error %q), want paid", got.Status, got.PaymentError)
	}
	for {
		m := stream.nextData(t, liveWithin)
		if strings.Contains(m.Data, `data-status="paid"`) {
			break
		}
	}
	if res := c.get(payURL); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/payment-complete/") {
		t.Errorf("the payment page of a paid order: %d to %q, want a redirect to its status", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestPayOnPageOffWhenNotConfigured(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t)
	c := shop.client()
	c.addToCart("canvas-tote", 1)
	if cart := c.get("/cart"); strings.Contains(cart.body, "create-payment-intent") {
		t.Errorf("the cart offers paying on the page with PaymentUI unset")
	}
	if res := c.post("/create-payment-intent/", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("POST /create-payment-intent/ without Elements: %d, want 404", res.StatusCode)
	}
}

// TestGuestPaysOnThePage: a guest's payment page opens for the holder of the cart it came from.
func TestGuestPaysOnThePage(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t, withElements(&fakeIntents{}))
	guest := shop.client()
	guest.addToCart("stoneware-mug", 1)
	res := guest.post("/create-payment-intent/", nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("guest create-payment-intent: %d", res.StatusCode)
	}
	if page := guest.get(res.Header.Get("Location")); page.StatusCode != http.StatusOK {
		t.Errorf("the guest's own payment page: %d", page.StatusCode)
	}
	if page := shop.client().get(res.Header.Get("Location")); page.StatusCode != http.StatusNotFound {
		t.Errorf("another guest: %d, want 404", page.StatusCode)
	}
}

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}

// TestPayPageSameInBothModes: the payment page with Stripe and with the simulator differs only in
// the Stripe.js it loads and the CSP origins that follow from it (besides the layout's banner
// saying payments are simulated, which every page shows in simulator mode).
func TestPayPageSameInBothModes(t *testing.T) {
	t.Parallel()
	const simJS = "http://127.0.0.1:12180/v3/"
	type page struct{ body, csp string }
	payPage := func(simulated bool) page {
		shop := newTestShop(t, withElements(&fakeIntents{}), func(d *Deps) {
			if simulated {
				d.StripeJS, d.Simulated = simJS, true
			}
		})
		c := shop.client()
		c.signup("same@example.com")
		c.addToCart("canvas-tote", 1)
		res := c.get(c.post("/create-payment-intent/", nil).Header.Get("Location"))
		if res.StatusCode != http.StatusOK {
			t.Fatalf("payment page: %d", res.StatusCode)
		}
		body := strings.ReplaceAll(res.body, shop.srv.URL, "SHOP")
		if i, j := strings.Index(body, `<div class="sim-banner"`), strings.Index(body, `<nav class="container nav"`); simulated && i >= 0 && j > i {
			body = body[:i] + body[j:]
		}
		return page{body, res.Header.Get("Content-Security-Policy")}
	}
	stripe, sim := payPage(false), payPage(true)
	if !strings.Contains(sim.body, `<script src="`+simJS+`"></script>`) {
		t.Fatalf("the simulator's payment page does not load %s", simJS)
	}
	if got := strings.ReplaceAll(sim.body, simJS, "https://js.stripe.com/v3/"); got != stripe.body {
		t.Errorf("the payment pages differ beyond the script:\nstripe:\n%s\nsimulator:\n%s", stripe.body, sim.body)
	}
	if got := strings.ReplaceAll(sim.csp, "http://127.0.0.1:12180", "https://js.stripe.com"); got != stripe.csp {
		t.Errorf("CSP with the simulator %q, with Stripe %q: they should differ only in Stripe.js's origin", sim.csp, stripe.csp)
	}
}
