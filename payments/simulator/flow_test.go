package simulator_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"storefront/payments/simulator"
)

func TestCardPaymentSucceeds(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.create(t)
	resp, body := pay(t, s.URL, cardForm("4242 4242 4242 4242"))
	wantSuccessRedirect(t, resp, body, s.ID)

	want := []string{"payment_intent.created", "charge.succeeded", "payment_intent.succeeded", "checkout.session.completed", "charge.updated"}
	waitFor(t, "five card payment events", func() bool { return len(h.rc.types()) >= len(want) })
	// Every event is created before it is delivered: the API's list says no other is coming.
	if got := h.createdTypes(t); !slices.Equal(got, want) {
		t.Fatalf("events created %v, want %v", got, want)
	}
	if got := h.rc.types(); !slices.Equal(got, want) {
		t.Fatalf("events delivered %v, want %v", got, want)
	}

	got := h.get(t, s.ID)
	if got.Status != stripe.CheckoutSessionStatusComplete || got.PaymentStatus != stripe.CheckoutSessionPaymentStatusPaid {
		t.Errorf("session %s/%s, want complete/paid", got.Status, got.PaymentStatus)
	}
	if got.PaymentIntent == nil || !strings.HasPrefix(got.PaymentIntent.ID, "pi_") {
		t.Fatalf("payment_intent %+v", got.PaymentIntent)
	}
	if got.CustomerDetails == nil || got.CustomerDetails.Email != "payer@example.com" {
		t.Errorf("customer_details %+v", got.CustomerDetails)
	}
	if got.URL != "" {
		t.Errorf("completed session still has url %q", got.URL)
	}

	ev, _ := h.rc.event("checkout.session.completed")
	var cs stripe.CheckoutSession
	object(t, ev, &cs)
	if cs.ID != s.ID || cs.PaymentStatus != stripe.CheckoutSessionPaymentStatusPaid || cs.AmountTotal != 4800 ||
		cs.Currency != "usd" || cs.ClientReferenceID != "7" || cs.Metadata["order_id"] != "42" || cs.PaymentIntent.ID != got.PaymentIntent.ID {
		t.Errorf("checkout.session.completed object: %+v", cs)
	}
	ev, _ = h.rc.event("charge.succeeded")
	var ch stripe.Charge
	object(t, ev, &ch)
	if !strings.HasPrefix(ch.ID, "ch_") || ch.Amount != 4800 || ch.AmountCaptured != 4800 || !ch.Paid ||
		ch.Status != stripe.ChargeStatusSucceeded || ch.PaymentIntent.ID != got.PaymentIntent.ID || ch.Refunded {
		t.Errorf("charge.succeeded object: %+v", ch)
	}
	ev, _ = h.rc.event("payment_intent.succeeded")
	var pi stripe.PaymentIntent
	object(t, ev, &pi)
	if pi.ID != got.PaymentIntent.ID || pi.Amount != 4800 || pi.Status != stripe.PaymentIntentStatusSucceeded {
		t.Errorf("payment_intent.succeeded object: %+v", pi)
	}

	// A second click on Pay must not charge twice: it goes to the shop like the first.
	resp, body = pay(t, s.URL, cardForm("4242424242424242"))
	wantSuccessRedirect(t, resp, body, s.ID)
	time.Sleep(50 * time.Millisecond)
	if n := len(h.rc.types()); n != len(want) {
		t.Errorf("a second submission produced %d more events", n-len(want))
	}
}

func TestDeclinedCardKeepsSessionOpen(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.create(t)
	body := payAndRetry(t, s.URL, cardForm("4000 0000 0000 0002"))
	contains(t, body, "Your card was declined.", `name="card_number"`)

	// Events of one session arrive in order, so once payment_failed is in, nothing else is pending.
	types := h.rc.waitForType(t, "payment_intent.payment_failed")
	if slices.Contains(types, "checkout.session.completed") {
		t.Fatalf("a declined card completed the session: %v", types)
	}
	if got := h.get(t, s.ID); got.Status != stripe.CheckoutSessionStatusOpen || got.PaymentStatus != stripe.CheckoutSessionPaymentStatusUnpaid {
		t.Errorf("after decline session is %s/%s, want open/unpaid", got.Status, got.PaymentStatus)
	}

	// The customer tries another card on the same page and the same payment intent.
	resp, body := pay(t, s.URL, cardForm("4242424242424242"))
	wantSuccessRedirect(t, resp, body, s.ID)
	types = h.rc.waitForType(t, "charge.updated")
	want := []string{"payment_intent.created", "charge.failed", "payment_intent.payment_failed",
		"charge.succeeded", "payment_intent.succeeded", "checkout.session.completed", "charge.updated"}
	if !slices.Equal(types, want) {
		t.Errorf("events %v, want %v", types, want)
	}
}

func TestHostedFormValidation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.create(t)
	cases := []struct {
		name   string
		mutate func(f map[string][]string)
		want   string
	}{
		{"Luhn-invalid number", func(f map[string][]string) { f["card_number"] = []string{"4242 4242 4242 4241"} }, "Your card number is invalid."},
		{"unknown card", func(f map[string][]string) { f["card_number"] = []string{"4111 1111 1111 1111"} }, "use one of the test cards"},
		{"short number", func(f map[string][]string) { f["card_number"] = []string{"4242"} }, "Your card number is incomplete."},
		{"past expiry", func(f map[string][]string) { f["expiry"] = []string{"01/20"} }, "expiration date is in the past"},
		{"bad expiry", func(f map[string][]string) { f["expiry"] = []string{"13/30"} }, "expiration date is incomplete"},
		{"short CVC", func(f map[string][]string) { f["cvc"] = []string{"12"} }, "security code must be 3 digits"},
		{"bad email", func(f map[string][]string) { f["email"] = []string{"nope"} }, "Enter a valid email address"},
		{"no method", func(f map[string][]string) { f["method"] = []string{"crypto"} }, "Choose a payment method."},
		{"unknown account", func(f map[string][]string) {
			f["method"] = []string{"bank_transfer"}
			f["account_number"] = []string{"123456"}
		}, "test account numbers"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := cardForm("4242424242424242")
			tc.mutate(f)
			body := payAndRetry(t, s.URL, f)
			contains(t, body, tc.want, `<form class="pay-form" method="post"`, `aria-invalid="true"`)
		})
	}
	got := h.get(t, s.ID)
	if got.Status != stripe.CheckoutSessionStatusOpen || got.PaymentIntent != nil {
		t.Errorf("invalid forms changed the session: %s, payment_intent %v", got.Status, got.PaymentIntent)
	}
	if n := len(h.rc.types()); n != 0 {
		t.Errorf("invalid forms sent %d events", n)
	}
}

func TestBankTransferSucceedsLater(t *testing.T) {
	t.Parallel()
	// Long enough that the state right after the redirect is observable even on a loaded machine.
	h := newHarness(t, func(c *simulator.Config) { c.AsyncDelay = time.Second })
	s := h.create(t)
	resp, body := pay(t, s.URL, bankForm("000123456789"))
	wantSuccessRedirect(t, resp, body, s.ID)
	got := h.get(t, s.ID)
	if got.Status != stripe.CheckoutSessionStatusComplete || got.PaymentStatus != stripe.CheckoutSessionPaymentStatusUnpaid {
		t.Errorf("right after the transfer session is %s/%s, want complete/unpaid", got.Status, got.PaymentStatus)
	}
	types := h.rc.waitForType(t, "checkout.session.async_payment_succeeded")
	want := []string{"payment_intent.created", "payment_intent.processing", "charge.pending", "checkout.session.completed",
		"charge.succeeded", "payment_intent.succeeded", "checkout.session.async_payment_succeeded"}
	if !slices.Equal(types, want) {
		t.Errorf("events %v, want %v", types, want)
	}
	ev, _ := h.rc.event("checkout.session.completed")
	var cs stripe.CheckoutSession
	object(t, ev, &cs)
	if cs.PaymentStatus != stripe.CheckoutSessionPaymentStatusUnpaid {
		t.Errorf("completed event payment_status %q, want unpaid", cs.PaymentStatus)
	}
	if got := h.get(t, s.ID); got.PaymentStatus != stripe.CheckoutSessionPaymentStatusPaid {
		t.Errorf("after settlement payment_status %q, want paid", got.PaymentStatus)
	}
}

func TestBankTransferFailsLater(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.create(t)
	resp, body := pay(t, s.URL, bankForm("000111111116"))
	wantSuccessRedirect(t, resp, body, s.ID)
	types := h.rc.waitForType(t, "checkout.session.async_payment_failed")
	want := []string{"payment_intent.created", "payment_intent.processing", "charge.pending", "checkout.session.completed",
		"charge.failed", "payment_intent.payment_failed", "checkout.session.async_payment_failed"}
	if !slices.Equal(types, want) {
		t.Errorf("events %v, want %v", types, want)
	}
	if got := h.get(t, s.ID); got.Status != stripe.CheckoutSessionStatusComplete || got.PaymentStatus != stripe.CheckoutSessionPaymentStatusUnpaid {
		t.Errorf("after failure session is %s/%s, want complete/unpaid", got.Status, got.PaymentStatus)
	}
	// A failed transfer has no charge to refund.
	_, err := h.refunds.New(&stripe.RefundParams{PaymentIntent: stripe.String(h.get(t, s.ID).PaymentIntent.ID)})
	if se := stripeErr(t, err); se.HTTPStatusCode != http.StatusBadRequest {
		t.Errorf("refunding a failed transfer: %d, want 400", se.HTTPStatusCode)
	}
}

func TestSessionExpiresOnItsOwn(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *simulator.Config) { c.SessionTTL = 300 * time.Millisecond })
	s := h.create(t)
	h.rc.waitForType(t, "checkout.session.expired")
	if got := h.get(t, s.ID); got.Status != stripe.CheckoutSessionStatusExpired {
		t.Errorf("status %q, want expired", got.Status)
	}
	resp, body := getPage(t, s.URL)
	if resp.StatusCode != http.StatusGone {
		t.Errorf("expired page status %d, want 410", resp.StatusCode)
	}
	contains(t, body, "This checkout session has expired", "http://localhost:8000/cancelled/")
	resp, _ = pay(t, s.URL, cardForm("4242424242424242"))
	if resp.StatusCode != http.StatusGone {
		t.Errorf("paying an expired session answered %d, want 410", resp.StatusCode)
	}
	if n := len(h.rc.types()); n != 1 {
		t.Errorf("events %v, want only the expiry", h.rc.types())
	}
}

func TestRefunds(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.create(t)
	resp, body := pay(t, s.URL, cardForm("4242424242424242"))
	wantSuccessRedirect(t, resp, body, s.ID)
	piID := h.get(t, s.ID).PaymentIntent.ID

	_, err := h.refunds.New(&stripe.RefundParams{PaymentIntent: stripe.String(piID), Amount: stripe.Int64(5000)})
	if se := stripeErr(t, err); se.HTTPStatusCode != http.StatusBadRequest || se.Param != "amount" {
		t.Errorf("refunding more than paid: %d %q", se.HTTPStatusCode, se.Param)
	}

	r, err := h.refunds.New(&stripe.RefundParams{PaymentIntent: stripe.String(piID), Amount: stripe.Int64(1000)})
	if err != nil {
		t.Fatalf("partial refund: %v", err)
	}
	if !strings.HasPrefix(r.ID, "re_") || r.Amount != 1000 || r.Status != stripe.RefundStatusSucceeded || r.PaymentIntent.ID != piID {
		t.Errorf("refund object %+v", r)
	}
	waitFor(t, "first charge.refunded", func() bool { return countType(h.rc.types(), "charge.refunded") == 1 })
	ev, _ := h.rc.event("charge.refunded")
	var ch stripe.Charge
	object(t, ev, &ch)
	if ch.AmountRefunded != 1000 || ch.Refunded {
		t.Errorf("after partial refund charge has amount_refunded %d refunded %v", ch.AmountRefunded, ch.Refunded)
	}

	r, err = h.refunds.New(&stripe.RefundParams{PaymentIntent: stripe.String(piID)})
	if err != nil {
		t.Fatalf("refund of the rest: %v", err)
	}
	if r.Amount != 3800 {
		t.Errorf("default refund amount %d, want the remaining 3800", r.Amount)
	}
	waitFor(t, "second charge.refunded", func() bool { return countType(h.rc.types(), "charge.refunded") == 2 })
	h.rc.mu.Lock()
	last := h.rc.acked[len(h.rc.acked)-1]
	h.rc.mu.Unlock()
	object(t, last, &ch)
	if ch.AmountRefunded != 4800 || !ch.Refunded {
		t.Errorf("after full refund charge has amount_refunded %d refunded %v", ch.AmountRefunded, ch.Refunded)
	}

	_, err = h.refunds.New(&stripe.RefundParams{PaymentIntent: stripe.String(piID)})
	if se := stripeErr(t, err); se.HTTPStatusCode != http.StatusBadRequest || se.Code != stripe.ErrorCodeChargeAlreadyRefunded {
		t.Errorf("refunding twice: %d %s", se.HTTPStatusCode, se.Code)
	}
	_, err = h.refunds.New(&stripe.RefundParams{PaymentIntent: stripe.String("pi_unknown")})
	if se := stripeErr(t, err); se.HTTPStatusCode != http.StatusBadRequest || se.Code != stripe.ErrorCodeResourceMissing {
		t.Errorf("unknown payment intent: %d %s", se.HTTPStatusCode, se.Code)
	}

	// A session whose card was declined has a payment intent but nothing to refund.
	open := h.create(t)
	pay(t, open.URL, cardForm("4000000000000002"))
	_, err = h.refunds.New(&stripe.RefundParams{PaymentIntent: stripe.String(h.get(t, open.ID).PaymentIntent.ID)})
	if se := stripeErr(t, err); se.HTTPStatusCode != http.StatusBadRequest {
		t.Errorf("refunding an unpaid intent: %d, want 400", se.HTTPStatusCode)
	}
}

func countType(types []string, typ string) int {
	n := 0
	for _, t := range types {
		if t == typ {
			n++
		}
	}
	return n
}

// clock is a settable time source for Config.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestSessionExpiresAtExpiresAt(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Now()}
	h := newHarness(t, func(c *simulator.Config) { c.Now = clk.Now })
	s := h.create(t)
	if want := clk.Now().Add(24 * time.Hour).Unix(); s.ExpiresAt != want {
		t.Errorf("expires_at %d, want %d", s.ExpiresAt, want)
	}
	clk.advance(23 * time.Hour)
	if resp, _ := getPage(t, s.URL); resp.StatusCode != http.StatusOK {
		t.Fatalf("page before expiry: %d", resp.StatusCode)
	}
	clk.advance(time.Hour)
	// The page notices at once; the background worker would within a second.
	if resp, _ := getPage(t, s.URL); resp.StatusCode != http.StatusGone {
		t.Errorf("page at expires_at: %d, want 410", resp.StatusCode)
	}
	h.rc.waitForType(t, "checkout.session.expired")
	// A pass of the background worker, which must not expire it again.
	if err := h.sim.RunWorkerPass(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := h.createdTypes(t); !slices.Equal(got, []string{"checkout.session.expired"}) {
		t.Errorf("events %v, want one checkout.session.expired", got)
	}
}

func TestBackgroundWorkerExpiresOnFakeClock(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Now()}
	h := newHarness(t, func(c *simulator.Config) { c.Now = clk.Now })
	s := h.create(t)
	clk.advance(24*time.Hour + time.Second)
	h.rc.waitForType(t, "checkout.session.expired")
	if got := h.get(t, s.ID); got.Status != stripe.CheckoutSessionStatusExpired {
		t.Errorf("status %q", got.Status)
	}
}
