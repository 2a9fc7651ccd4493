package simulator_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stripe/stripe-go/v76"
)

// orderIntent is what the storefront asks for when an order is paid on its own page.
func orderIntent(key string) *stripe.PaymentIntentParams {
	p := &stripe.PaymentIntentParams{
		Amount:                  stripe.Int64(4800),
		Currency:                stripe.String("usd"),
		AutomaticPaymentMethods: &stripe.PaymentIntentAutomaticPaymentMethodsParams{Enabled: stripe.Bool(true)},
		ReceiptEmail:            stripe.String("shopper@example.com"),
		Description:             stripe.String("Order 42"),
	}
	p.AddMetadata("order_id", "42")
	p.AddMetadata("storefront_kind", "payment_intent")
	if key != "" {
		p.SetIdempotencyKey(key)
	}
	return p
}

func (h *harness) newIntent(t *testing.T) *stripe.PaymentIntent {
	t.Helper()
	pi, err := h.intents.New(orderIntent(""))
	if err != nil {
		t.Fatalf("create payment intent: %v", err)
	}
	return pi
}

// confirmThreeDS confirms the intent with the card that asks for 3-D Secure, as a server that
// names a return_url (so next_action is a redirect to the challenge).
func (h *harness) confirmThreeDS(t *testing.T, pi *stripe.PaymentIntent) *stripe.PaymentIntent {
	t.Helper()
	got, err := h.intents.Confirm(pi.ID, &stripe.PaymentIntentConfirmParams{
		PaymentMethod: stripe.String("pm_card_authenticationRequired"),
		ReturnURL:     stripe.String("http://localhost:8000/payment-complete/"),
	})
	if err != nil {
		t.Fatalf("confirm with the 3-D Secure card: %v", err)
	}
	return got
}

func (h *harness) confirmWith(pi *stripe.PaymentIntent, pm string) (*stripe.PaymentIntent, error) {
	return h.intents.Confirm(pi.ID, &stripe.PaymentIntentConfirmParams{PaymentMethod: stripe.String(pm)})
}

// intentEvents lists the types of the events created for one intent (or its charges), oldest first.
func (h *harness) intentEvents(t *testing.T, id string) []string {
	t.Helper()
	var types []string
	for _, ev := range h.createdEvents(t) {
		if aboutIntent(ev, id) {
			types = append(types, string(ev.Type))
		}
	}
	return types
}

// aboutIntent reports whether the event's object is the intent id or one of its charges.
func aboutIntent(ev stripe.Event, id string) bool {
	var obj struct {
		ID            string `json:"id"`
		PaymentIntent string `json:"payment_intent"`
	}
	json.Unmarshal(ev.Data.Raw, &obj)
	return obj.ID == id || obj.PaymentIntent == id
}

func TestPaymentIntentCreate(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pi := h.newIntent(t)
	if !strings.HasPrefix(pi.ID, "pi_") || !strings.HasPrefix(pi.ClientSecret, pi.ID+"_secret_") {
		t.Errorf("id %q, client secret %q: want pi_… and pi_…_secret_…", pi.ID, pi.ClientSecret)
	}
	if pi.Status != stripe.PaymentIntentStatusRequiresPaymentMethod || pi.Amount != 4800 || pi.Currency != "usd" {
		t.Errorf("created intent %s %d %s, want requires_payment_method 4800 usd", pi.Status, pi.Amount, pi.Currency)
	}
	if pi.Metadata["order_id"] != "42" || pi.ReceiptEmail != "shopper@example.com" || pi.Description != "Order 42" {
		t.Errorf("metadata %v receipt_email %q description %q: not what was sent", pi.Metadata, pi.ReceiptEmail, pi.Description)
	}
	if pi.AutomaticPaymentMethods == nil || !pi.AutomaticPaymentMethods.Enabled {
		t.Errorf("automatic_payment_methods %+v, want enabled", pi.AutomaticPaymentMethods)
	}
	if !slices.Equal(pi.PaymentMethodTypes, []string{"card", "us_bank_account"}) {
		t.Errorf("payment_method_types %v, want card and us_bank_account for usd", pi.PaymentMethodTypes)
	}
	got, err := h.intents.Get(pi.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.ClientSecret != pi.ClientSecret || got.Status != pi.Status || got.Metadata["order_id"] != "42" {
		t.Errorf("retrieved %+v, want the created intent", got)
	}
	if got := h.rc.waitForType(t, "payment_intent.created"); !slices.Equal(got, []string{"payment_intent.created"}) {
		t.Errorf("webhooks %v, want payment_intent.created alone", got)
	}

	t.Run("Idempotent", func(t *testing.T) {
		first, err := h.intents.New(orderIntent("order-42-intent"))
		if err != nil {
			t.Fatal(err)
		}
		again, err := h.intents.New(orderIntent("order-42-intent"))
		if err != nil {
			t.Fatal(err)
		}
		if again.ID != first.ID || again.ClientSecret != first.ClientSecret {
			t.Errorf("the same key gave %s, then %s", first.ID, again.ID)
		}
		other := orderIntent("order-42-intent")
		other.Amount = stripe.Int64(9900)
		se := stripeErr(t, func() error { _, err := h.intents.New(other); return err }())
		if se.Type != "idempotency_error" {
			t.Errorf("the same key with another amount: %s %q, want idempotency_error", se.Type, se.Msg)
		}
	})

	t.Run("BadInput", func(t *testing.T) {
		before := len(h.createdTypes(t))
		for _, tc := range []struct {
			name  string
			edit  func(p *stripe.PaymentIntentParams)
			param string
		}{
			{"NoAmount", func(p *stripe.PaymentIntentParams) { p.Amount = nil }, "amount"},
			{"NoCurrency", func(p *stripe.PaymentIntentParams) { p.Currency = nil }, "currency"},
			{"BadCurrency", func(p *stripe.PaymentIntentParams) { p.Currency = stripe.String("xyz") }, "currency"},
			{"TooSmall", func(p *stripe.PaymentIntentParams) { p.Amount = stripe.Int64(49) }, "amount"},
			{"BadEmail", func(p *stripe.PaymentIntentParams) { p.ReceiptEmail = stripe.String("nobody") }, "receipt_email"},
			{"UnknownType", func(p *stripe.PaymentIntentParams) {
				p.AutomaticPaymentMethods = nil
				p.PaymentMethodTypes = []*string{stripe.String("klarna")}
			}, "payment_method_types"},
			{"UnknownParam", func(p *stripe.PaymentIntentParams) { p.AddExtra("colour", "blue") }, "colour"},
		} {
			p := orderIntent("")
			tc.edit(p)
			_, err := h.intents.New(p)
			se := stripeErr(t, err)
			if se.HTTPStatusCode != http.StatusBadRequest || se.Param != tc.param {
				t.Errorf("%s: %d param %q (%s), want 400 naming %s", tc.name, se.HTTPStatusCode, se.Param, se.Msg, tc.param)
			}
		}
		if after := len(h.createdTypes(t)); after != before {
			t.Errorf("refused creates made %d events", after-before)
		}
	})
}

func TestPaymentIntentCardPayments(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	t.Run("Succeeds", func(t *testing.T) {
		pi := h.newIntent(t)
		got, err := h.confirmWith(pi, "pm_card_visa")
		if err != nil {
			t.Fatalf("confirm with pm_card_visa: %v", err)
		}
		if got.Status != stripe.PaymentIntentStatusSucceeded || got.AmountReceived != 4800 || got.LatestCharge == nil {
			t.Errorf("confirmed intent %s received %d charge %v, want succeeded 4800 with a charge", got.Status, got.AmountReceived, got.LatestCharge)
		}
		want := []string{"payment_intent.created", "charge.succeeded", "payment_intent.succeeded", "charge.updated"}
		if got := h.intentEvents(t, pi.ID); !slices.Equal(got, want) {
			t.Errorf("events %v, want %v", got, want)
		}
		ev := waitForEvent(t, h, "payment_intent.succeeded", pi.ID)
		var obj stripe.PaymentIntent
		object(t, ev, &obj)
		if obj.Status != "succeeded" || obj.Metadata["order_id"] != "42" || obj.Amount != 4800 {
			t.Errorf("payment_intent.succeeded carries %s %v %d", obj.Status, obj.Metadata, obj.Amount)
		}
		_, err = h.confirmWith(pi, "pm_card_visa")
		if se := stripeErr(t, err); se.Code != "payment_intent_unexpected_state" {
			t.Errorf("confirming a succeeded intent again: %s %q", se.Code, se.Msg)
		}
		_, err = h.intents.Cancel(pi.ID, nil)
		if se := stripeErr(t, err); se.Code != "payment_intent_unexpected_state" {
			t.Errorf("canceling a succeeded intent: %s %q", se.Code, se.Msg)
		}
		r, err := h.refunds.New(&stripe.RefundParams{PaymentIntent: stripe.String(pi.ID)})
		if err != nil || r.Amount != 4800 {
			t.Fatalf("refund the paid intent: %v %+v", err, r)
		}
		waitForEvent(t, h, "charge.refunded", pi.ID)
	})

	t.Run("DeclinedThenPaidOnTheSameIntent", func(t *testing.T) {
		pi := h.newIntent(t)
		_, err := h.confirmWith(pi, "pm_card_chargeDeclined")
		se := stripeErr(t, err)
		if se.HTTPStatusCode != http.StatusPaymentRequired || se.Type != stripe.ErrorTypeCard || se.Code != stripe.ErrorCodeCardDeclined ||
			se.DeclineCode != "generic_decline" || se.PaymentIntent == nil || se.PaymentIntent.ID != pi.ID {
			t.Fatalf("declined confirm: %d %s %s %s %+v", se.HTTPStatusCode, se.Type, se.Code, se.DeclineCode, se.PaymentIntent)
		}
		got, err := h.intents.Get(pi.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != stripe.PaymentIntentStatusRequiresPaymentMethod || got.LastPaymentError == nil ||
			got.LastPaymentError.Msg != "Your card was declined." {
			t.Errorf("after the decline: %s %+v, want requires_payment_method with the error", got.Status, got.LastPaymentError)
		}
		paid, err := h.confirmWith(pi, "pm_card_visa")
		if err != nil || paid.Status != stripe.PaymentIntentStatusSucceeded || paid.LastPaymentError != nil {
			t.Fatalf("paying the declined intent again: %v %+v", err, paid)
		}
		want := []string{"payment_intent.created", "charge.failed", "payment_intent.payment_failed",
			"charge.succeeded", "payment_intent.succeeded", "charge.updated"}
		if got := h.intentEvents(t, pi.ID); !slices.Equal(got, want) {
			t.Errorf("events %v, want %v", got, want)
		}
	})

	t.Run("ThreeDSecure", func(t *testing.T) {
		pi := h.newIntent(t)
		got := h.confirmThreeDS(t, pi)
		if got.Status != stripe.PaymentIntentStatusRequiresAction || got.NextAction == nil || got.NextAction.RedirectToURL == nil {
			t.Fatalf("3-D Secure card: %s next_action %+v, want requires_action with a redirect", got.Status, got.NextAction)
		}
		_, err := h.confirmWith(pi, "pm_card_visa")
		if se := stripeErr(t, err); se.Code != "payment_intent_unexpected_state" {
			t.Errorf("confirming while authentication is pending: %s", se.Code)
		}
		// The customer's browser follows the redirect and completes the challenge.
		page := got.NextAction.RedirectToURL.URL
		resp, body := getPage(t, page)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Complete authentication") {
			t.Fatalf("challenge page %s: %d\n%s", page, resp.StatusCode, body)
		}
		u, _ := url.Parse(page)
		resp, _ = pay(t, u.Scheme+"://"+u.Host+u.Path, url.Values{"client_secret": {pi.ClientSecret}, "outcome": {"complete"}})
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusSeeOther || loc.Path != "/payment-complete/" || loc.Query().Get("payment_intent") != pi.ID ||
			loc.Query().Get("redirect_status") != "succeeded" {
			t.Errorf("completed challenge answered %d Location %s", resp.StatusCode, loc)
		}
		want := []string{"payment_intent.created", "payment_intent.requires_action", "charge.succeeded",
			"payment_intent.succeeded", "charge.updated"}
		if got := h.intentEvents(t, pi.ID); !slices.Equal(got, want) {
			t.Errorf("events %v, want %v", got, want)
		}
	})

	t.Run("ThreeDSecureFailed", func(t *testing.T) {
		pi := h.newIntent(t)
		got := h.confirmThreeDS(t, pi)
		u, _ := url.Parse(got.NextAction.RedirectToURL.URL)
		wrong, _ := pay(t, u.Scheme+"://"+u.Host+u.Path, url.Values{"client_secret": {pi.ID + "_secret_wrong"}, "outcome": {"complete"}})
		if wrong.StatusCode != http.StatusNotFound {
			t.Errorf("challenge with a wrong client secret answered %d, want 404", wrong.StatusCode)
		}
		resp, _ := pay(t, u.Scheme+"://"+u.Host+u.Path, url.Values{"client_secret": {pi.ClientSecret}, "outcome": {"fail"}})
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if loc.Query().Get("redirect_status") != "failed" {
			t.Errorf("failed challenge returns with %s", loc)
		}
		after, err := h.intents.Get(pi.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if after.Status != stripe.PaymentIntentStatusRequiresPaymentMethod || after.LastPaymentError == nil ||
			after.LastPaymentError.Code != "payment_intent_authentication_failure" {
			t.Errorf("after a failed challenge: %s %+v", after.Status, after.LastPaymentError)
		}
		if paid, err := h.confirmWith(pi, "pm_card_visa"); err != nil || paid.Status != stripe.PaymentIntentStatusSucceeded {
			t.Errorf("paying by another card after a failed challenge: %v", err)
		}
	})

	t.Run("UnknownPaymentMethod", func(t *testing.T) {
		pi := h.newIntent(t)
		_, err := h.confirmWith(pi, "pm_made_up")
		if se := stripeErr(t, err); se.Code != "resource_missing" || se.Param != "payment_method" {
			t.Errorf("unknown payment method: %s %s", se.Code, se.Param)
		}
		_, err = h.confirmWith(&stripe.PaymentIntent{ID: "pi_missing"}, "pm_card_visa")
		if se := stripeErr(t, err); se.HTTPStatusCode != http.StatusNotFound {
			t.Errorf("confirming a missing intent: %d", se.HTTPStatusCode)
		}
	})
}

func TestPaymentIntentCancel(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pi := h.newIntent(t)
	got, err := h.intents.Cancel(pi.ID, &stripe.PaymentIntentCancelParams{CancellationReason: stripe.String("abandoned")})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != stripe.PaymentIntentStatusCanceled || got.CancellationReason != "abandoned" || got.CanceledAt == 0 {
		t.Errorf("canceled intent: %s %q %d", got.Status, got.CancellationReason, got.CanceledAt)
	}
	ev := waitForEvent(t, h, "payment_intent.canceled", pi.ID)
	var obj stripe.PaymentIntent
	object(t, ev, &obj)
	if obj.Status != "canceled" || obj.Metadata["order_id"] != "42" {
		t.Errorf("payment_intent.canceled carries %s %v", obj.Status, obj.Metadata)
	}
	_, err = h.confirmWith(pi, "pm_card_visa")
	if se := stripeErr(t, err); se.Code != "payment_intent_unexpected_state" {
		t.Errorf("confirming a canceled intent: %s", se.Code)
	}
	_, err = h.intents.Cancel(pi.ID, &stripe.PaymentIntentCancelParams{CancellationReason: stripe.String("bored")})
	if se := stripeErr(t, err); se.Param != "cancellation_reason" {
		t.Errorf("bad cancellation_reason: %s %s", se.Code, se.Param)
	}
}

// waitForEvent waits for the webhook of typ about intent id (the intent itself, or its charge).
func waitForEvent(t *testing.T, h *harness, typ, id string) stripe.Event {
	t.Helper()
	var found stripe.Event
	waitFor(t, typ+" for "+id, func() bool {
		h.rc.mu.Lock()
		defer h.rc.mu.Unlock()
		for _, ev := range h.rc.acked {
			if string(ev.Type) == typ && aboutIntent(ev, id) {
				found = ev
				return true
			}
		}
		return false
	})
	return found
}

// TestDevPageListsIntents: the simulator's own page lists the intents paid on a shop's page,
// and refunds one as POST /v1/refunds would.
func TestDevPageListsIntents(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pi := h.newIntent(t)
	if _, err := h.confirmWith(pi, "pm_card_visa"); err != nil {
		t.Fatal(err)
	}
	_, page := getPage(t, h.sim.URL()+"/")
	contains(t, page, "Recent payment intents", pi.ID, "$48.00", "succeeded", `action="/dev/refund/`+pi.ID+`"`)
	resp, body := pay(t, h.sim.URL()+"/dev/refund/"+pi.ID, url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("refund from the dev page: %d\n%s", resp.StatusCode, body)
	}
	waitForEvent(t, h, "charge.refunded", pi.ID)
	_, page = getPage(t, h.sim.URL()+"/")
	contains(t, page, "refunded $48.00")
	if strings.Contains(page, `action="/dev/refund/`+pi.ID+`"`) {
		t.Errorf("a fully refunded intent still offers Refund")
	}
}
