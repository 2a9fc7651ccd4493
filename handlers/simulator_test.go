package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"storefront/payments"
	"storefront/payments/simulator"
	"storefront/store"
)

// Integration tests: the shop's own gateway (stripe-go) against the checkout simulator, whose
// signed webhooks reach the shop's real /webhook/ through a recording proxy.

// cardEvents is the sequence Stripe, and so the simulator, sends for a successful card payment.
var cardEvents = []string{"payment_intent.created", "charge.succeeded", "payment_intent.succeeded",
	"checkout.session.completed", "charge.updated"}

// simShop is a test shop paying through a running checkout simulator.
type simShop struct {
	*testShop
	sim   *simulator.Simulator
	gw    *payments.Gateway
	proxy *simWebhookProxy
}

// simDelivery is one webhook attempt the proxy saw.
type simDelivery struct {
	EventID   string
	Type      string
	ObjectID  string
	Attempt   int    // 1 for the first attempt at this event
	Forwarded bool   // false when the proxy answered 500 itself
	Status    int    // the shop's status, when forwarded
	Outcome   string // the shop's "outcome", when forwarded
}

// simWebhookProxy stands between the simulator and the shop's /webhook/: it forwards deliveries
// unchanged, but fails the first failFirst attempts at each event without forwarding them.
type simWebhookProxy struct {
	target    string
	failFirst int

	mu sync.Mutex
	// loseAnswers makes the proxy forward the first loseAnswers attempts at each event (after the
	// failFirst ones) but answer 500 anyway, as if the shop's 200 were lost on the way back.
	loseAnswers int
	attempts    map[string]int
	deliveries  []simDelivery
}

// setLoseAnswers sets loseAnswers; call it before anything is paid.
func (p *simWebhookProxy) setLoseAnswers(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.loseAnswers = n
}

func (p *simWebhookProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "proxy: "+err.Error(), http.StatusBadRequest)
		return
	}
	var ev struct {
		ID   string `json:"id"`
		Type string `json:"type"`
		Data struct {
			Object struct {
				ID string `json:"id"`
			} `json:"object"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		http.Error(w, "proxy: event is not JSON: "+err.Error(), http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	p.attempts[ev.ID]++
	d := simDelivery{EventID: ev.ID, Type: ev.Type, ObjectID: ev.Data.Object.ID, Attempt: p.attempts[ev.ID]}
	loseAnswer := d.Attempt > p.failFirst && d.Attempt <= p.failFirst+p.loseAnswers
	p.mu.Unlock()
	record := func() {
		p.mu.Lock()
		p.deliveries = append(p.deliveries, d)
		p.mu.Unlock()
	}

	if d.Attempt <= p.failFirst {
		record()
		http.Error(w, "proxy: simulated outage", http.StatusInternalServerError)
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, p.target, bytes.NewReader(body))
	if err != nil {
		http.Error(w, "proxy: "+err.Error(), http.StatusInternalServerError)
		return
	}
	for _, h := range []string{"Content-Type", "Stripe-Signature", "User-Agent"} {
		req.Header.Set(h, r.Header.Get(h))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, "proxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(res.Body)
	var out struct{ Outcome string }
	_ = json.Unmarshal(answer, &out)
	d.Forwarded, d.Status, d.Outcome = true, res.StatusCode, out.Outcome
	record()
	if loseAnswer {
		http.Error(w, "proxy: simulated lost answer", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", res.Header.Get("Content-Type"))
	w.WriteHeader(res.StatusCode)
	w.Write(answer)
}

// seen returns a copy of every attempt so far, in arrival order.
func (p *simWebhookProxy) seen() []simDelivery {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.deliveries)
}

// acknowledged returns the attempts the shop answered with a 2xx, in arrival order.
func (p *simWebhookProxy) acknowledged() []simDelivery {
	var out []simDelivery
	for _, d := range p.seen() {
		if d.Forwarded && d.Status >= 200 && d.Status <= 299 {
			out = append(out, d)
		}
	}
	return out
}

// waitAcknowledged waits until the shop has accepted an event of type typ and returns that delivery.
func (p *simWebhookProxy) waitAcknowledged(t *testing.T, typ string) simDelivery {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, d := range p.acknowledged() {
			if d.Type == typ {
				return d
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the shop never accepted a %s event; deliveries seen: %+v", typ, p.seen())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// newSimulatedShop starts a shop, a webhook proxy failing the first failFirst attempts at each
// event, and a checkout simulator delivering to it; the shop pays through payments.NewGateway.
//
// The shop reads its provider's CheckoutOrigin once, in NewServer, to build its
// Content-Security-Policy, so the gateway must exist before the shop: the simulator is created
// (which binds its port) before the shop, and the proxy learns the shop's address afterwards.
// faults, if given, switches on the simulator's webhook fault injection (SIMULATOR_FAULTS syntax).
func newSimulatedShop(t *testing.T, failFirst int, faults ...string) *simShop {
	t.Helper()
	return startSimulatedShop(t, failFirst, false, faults)
}

// startSimulatedShop is newSimulatedShop; with elements the shop also offers paying on its own
// page, through the simulator's PaymentIntents API and its Stripe.js stand-in.
func startSimulatedShop(t *testing.T, failFirst int, elements bool, faults []string) *simShop {
	t.Helper()
	proxy := &simWebhookProxy{failFirst: failFirst, attempts: map[string]int{}}
	proxySrv := httptest.NewServer(proxy)
	t.Cleanup(proxySrv.Close)

	simLogs := &syncBuffer{}
	sim, err := simulator.New(simulator.Config{
		Addr:          "127.0.0.1:0",
		DBPath:        filepath.Join(t.TempDir(), "sim.db"),
		WebhookURL:    proxySrv.URL,
		WebhookSecret: testSecret,
		SecretKey:     "sk_test_sim",
		AsyncDelay:    150 * time.Millisecond,
		RetryBase:     10 * time.Millisecond,
		RetryMax:      50 * time.Millisecond,
		Faults:        faultsOrOff(faults),
		Logger:        slog.New(slog.NewTextHandler(simLogs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("simulator.New: %v", err)
	}
	t.Cleanup(func() { sim.Close() }) // in case setup stops before Run

	gw := payments.NewGateway(payments.Config{SecretKey: "sk_test_sim", PublishableKey: "pk_test_sim",
		APIBase: sim.URL(), CheckoutOrigin: sim.URL()})
	swap := &swappableCheckout{}
	swap.set(gw)
	opts := []shopOption{withCheckout(swap)}
	if elements {
		opts = append(opts, func(d *Deps) { d.Intents, d.PaymentUI, d.StripeJS = gw, UIBoth, sim.URL()+"/v3/" })
	}
	shop := newTestShop(t, opts...)
	proxy.target = shop.srv.URL + "/webhook/" // before Run: nothing is delivered until then

	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- sim.Run(ctx) }()
	// Registered last, so it runs first: the simulator stops delivering before the shop and proxy close.
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-stopped:
			if err != nil {
				t.Errorf("simulator Run: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("simulator Run did not return within 5s of cancel")
		}
		if t.Failed() {
			t.Logf("simulator log:\n%s", simLogs.String())
		}
	})
	return &simShop{testShop: shop, sim: sim, gw: gw, proxy: proxy}
}

// faultsOrOff is the simulator's fault setting: the ones given, or none (whatever the environment says).
func faultsOrOff(faults []string) string {
	if len(faults) == 0 {
		return "off"
	}
	return strings.Join(faults, ",")
}

// waitOrderStatus polls the order until it has status want, failing after 5 s.
func (s *simShop) waitOrderStatus(t *testing.T, id int64, want store.Status) store.Order {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		o, err := s.db.Order(context.Background(), id)
		if err != nil {
			t.Fatalf("order %d: %v", id, err)
		}
		if o.Status == want {
			return o
		}
		if time.Now().After(deadline) {
			t.Fatalf("order %d is %q after 5s, want %q; deliveries: %+v", id, o.Status, want, s.proxy.seen())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// startCheckout checks the client's cart out through the shop and returns its order and the hosted payment page URL.
func (s *simShop) startCheckout(t *testing.T, c *testClient) (store.Order, string) {
	t.Helper()
	sessionID, payURL := sessionAnswer(t, c.post("/create-checkout-session/", nil, "Accept", "application/json"))
	if want := s.sim.URL() + "/c/pay/" + sessionID; payURL != want {
		t.Fatalf("checkout url %q, want the simulator's hosted page %q", payURL, want)
	}
	o, err := s.db.OrderBySession(context.Background(), sessionID)
	if err != nil {
		t.Fatalf("order of session %s: %v", sessionID, err)
	}
	return o, payURL
}

// successURL is where the simulator should send the shopper after paying for o.
func (s *simShop) successURL(o store.Order) string {
	return s.srv.URL + "/success/?session_id=" + o.CheckoutSessionID
}

// simPay submits the hosted payment form as a browser without JavaScript would, without following redirects.
func simPay(t *testing.T, payURL string, form url.Values) response {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.PostForm(payURL, form)
	if err != nil {
		t.Fatalf("POST %s: %v", payURL, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{Response: res, body: string(b)}
}

// simCardForm is the hosted form filled in with a card.
func simCardForm(email, number string) url.Values {
	return url.Values{"email": {email}, "method": {"card"}, "card_number": {number},
		"expiry": {fmt.Sprintf("12/%02d", (time.Now().Year()+3)%100)}, "cvc": {"123"}}
}

// simBankForm is the hosted form filled in with a bank account.
func simBankForm(email, account string) url.Values {
	return url.Values{"email": {email}, "method": {"bank_transfer"}, "account_number": {account}}
}

// assertRedirectedToSuccess checks that paying sent the shopper back to the shop's success page.
func (s *simShop) assertRedirectedToSuccess(t *testing.T, res response, o store.Order) {
	t.Helper()
	if got, want := res.StatusCode, http.StatusSeeOther; got != want {
		t.Fatalf("pay: status %d, want %d; body:\n%s", got, want, res.body)
	}
	if got, want := res.Header.Get("Location"), s.successURL(o); got != want {
		t.Errorf("pay: Location %q, want %q", got, want)
	}
}

// assertSuccessPageShows fetches the order's success page as c and checks it shows label.
func assertSuccessPageShows(t *testing.T, c *testClient, o store.Order, label string) {
	t.Helper()
	res := c.get("/success/?session_id=" + url.QueryEscape(o.CheckoutSessionID))
	if got, want := res.StatusCode, http.StatusOK; got != want {
		t.Fatalf("success page: status %d, want %d; body:\n%s", got, want, res.body)
	}
	if !strings.Contains(res.body, "<h2>"+label+"</h2>") && !strings.Contains(res.body, "<h1>"+label+"</h1>") {
		t.Errorf("success page does not show %q:\n%s", label, res.body)
	}
}

// simCountLines counts the shop's log lines containing every one of parts.
func simCountLines(logs string, parts ...string) int {
	n := 0
	for _, line := range strings.Split(logs, "\n") {
		if line != "" && logLineWith(line, parts...) != "" {
			n++
		}
	}
	return n
}

// asStripeError returns err's *stripe.Error, failing the test if it has none.
func asStripeError(t *testing.T, err error) *stripe.Error {
	t.Helper()
	var se *stripe.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) carries no *stripe.Error", err, err)
	}
	return se
}

func TestSimulatorThroughShop(t *testing.T) {
	ctx := context.Background()

	t.Run("Gateway", func(t *testing.T) {
		t.Parallel()
		s := newSimulatedShop(t, 0)
		request := func(key string, items ...payments.LineItem) payments.CheckoutRequest {
			return payments.CheckoutRequest{
				OrderID: 990001, IdempotencyKey: key, Currency: "usd", Items: items,
				SuccessURL: s.srv.URL + "/success/?session_id={CHECKOUT_SESSION_ID}",
				CancelURL:  s.srv.URL + "/cancelled/",
			}
		}
		tote := payments.LineItem{Name: "Canvas Tote Bag", UnitAmount: 2400, Quantity: 2}

		t.Run("Idempotent", func(t *testing.T) {
			first, err := s.gw.CreateCheckoutSession(ctx, request("gw-key-1", tote))
			if err != nil {
				t.Fatal(err)
			}
			again, err := s.gw.CreateCheckoutSession(ctx, request("gw-key-1", tote))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := again, first; got != want {
				t.Errorf("second create with the same key: %+v, want %+v", got, want)
			}
			if !strings.HasPrefix(first.ID, "cs_test_") {
				t.Errorf("session id %q lacks cs_test_", first.ID)
			}
			if got, want := first.URL, s.sim.URL()+"/c/pay/"+first.ID; got != want {
				t.Errorf("session url %q, want %q", got, want)
			}
			if d := time.Until(first.ExpiresAt); d < payments.SessionLifetime-time.Minute || d > payments.SessionLifetime+10*time.Minute {
				t.Errorf("session expires in %s, want about %s: sessions hold stock", d, payments.SessionLifetime)
			}
			other, err := s.gw.CreateCheckoutSession(ctx, request("gw-key-2", tote))
			if err != nil {
				t.Fatal(err)
			}
			if other.ID == first.ID {
				t.Errorf("a different idempotency key gave the same session %s", other.ID)
			}
		})

		t.Run("NoItems", func(t *testing.T) {
			_, err := s.gw.CreateCheckoutSession(ctx, request("gw-key-empty"))
			if err == nil {
				t.Fatal("creating a session with no line items succeeded")
			}
			se := asStripeError(t, err)
			if got, want := se.HTTPStatusCode, http.StatusBadRequest; got != want {
				t.Errorf("HTTP status %d, want %d (%v)", got, want, err)
			}
			if got, want := se.Type, stripe.ErrorTypeInvalidRequest; got != want {
				t.Errorf("error type %q, want %q", got, want)
			}
		})

		t.Run("Expire", func(t *testing.T) {
			cs, err := s.gw.CreateCheckoutSession(ctx, request("gw-key-expire", tote))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.gw.ExpireCheckoutSession(ctx, cs.ID); err != nil {
				t.Fatalf("expire open session: %v", err)
			}
			page := simPay(t, cs.URL, simCardForm("gw@example.com", "4242424242424242"))
			if got, want := page.StatusCode, http.StatusGone; got != want {
				t.Errorf("paying an expired session: status %d, want %d", got, want)
			}
			// Stripe refuses a second expire (400); the gateway reads the session, finds it
			// closed, and reports success: the caller wanted it unpayable, and it is.
			if err := s.gw.ExpireCheckoutSession(ctx, cs.ID); err != nil {
				t.Errorf("second expire: %v, want nil", err)
			}
		})

		t.Run("RefundUnknown", func(t *testing.T) {
			err := s.gw.Refund(ctx, "pi_test_unknown")
			if err == nil {
				t.Fatal("refunding an unknown payment intent succeeded")
			}
			se := asStripeError(t, err)
			if got, want := se.Code, stripe.ErrorCodeResourceMissing; got != want {
				t.Errorf("error code %q, want %q (%v)", got, want, err)
			}
		})
	})

	t.Run("Card", func(t *testing.T) {
		t.Parallel()
		s := newSimulatedShop(t, 0)
		c := s.client()
		u := c.signup("ann@example.com")
		c.addToCart("canvas-tote", 2)
		c.addToCart("stoneware-mug", 1)
		o, payURL := s.startCheckout(t, c)
		if got, want := o.AmountTotal, int64(2*2400+1800); got != want {
			t.Fatalf("order total %d, want %d", got, want)
		}

		s.assertRedirectedToSuccess(t, simPay(t, payURL, simCardForm(u.Email, "4242424242424242")), o)
		paid := s.waitOrderStatus(t, o.ID, store.StatusPaid)
		pi := s.proxy.waitAcknowledged(t, "payment_intent.succeeded")
		if got, want := paid.PaymentIntent, pi.ObjectID; got != want || !strings.HasPrefix(got, "pi_") {
			t.Errorf("order payment intent %q, want %q from payment_intent.succeeded", got, want)
		}
		if got, want := paid.CustomerEmail, u.Email; got != want {
			t.Errorf("order customer email %q, want %q", got, want)
		}
		if cart := c.get("/cart"); !strings.Contains(cart.body, "Your cart is empty") {
			t.Errorf("cart not emptied after payment:\n%s", cart.body)
		}
		assertSuccessPageShows(t, c, o, "Paid")
		// A plain form checkout redirects to the simulator, which the CSP's form-action must allow.
		if csp := c.get("/cart").Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' "+s.sim.URL()) {
			t.Errorf("Content-Security-Policy %q does not let forms go to the simulator at %s", csp, s.sim.URL())
		}

		s.proxy.waitAcknowledged(t, "charge.updated")
		var types []string
		outcomes := map[string]string{}
		for _, d := range s.proxy.acknowledged() {
			types = append(types, d.Type)
			outcomes[d.Type] = d.Outcome
		}
		if !slices.Equal(types, cardEvents) {
			t.Errorf("events accepted by the shop %q, want %q", types, cardEvents)
		}
		for _, typ := range cardEvents {
			want := string(store.OutcomeRecorded)
			if typ == "checkout.session.completed" {
				want = string(store.OutcomeApplied)
			}
			if got := outcomes[typ]; got != want {
				t.Errorf("%s: shop outcome %q, want %q", typ, got, want)
			}
		}
		completed := s.proxy.waitAcknowledged(t, "checkout.session.completed")
		if line := logLineWith(s.logs.String(), "event_id="+completed.EventID+" ", "outcome=applied",
			fmt.Sprintf("order_id=%d ", o.ID), "from=pending", "to=paid"); line == "" {
			t.Errorf("no webhook log line applying %s to order %d:\n%s", completed.EventID, o.ID, s.logs.String())
		}
	})

	t.Run("Declined", func(t *testing.T) {
		t.Parallel()
		s := newSimulatedShop(t, 0)
		c := s.client()
		u := c.signup("bea@example.com")
		c.addToCart("canvas-tote", 1)
		o, payURL := s.startCheckout(t, c)

		res := simPay(t, payURL, simCardForm(u.Email, "4000000000000002"))
		// As real Checkout does, a decline answers with a redirect to the payment page (post,
		// redirect, get), which then says what happened.
		if got, want := res.StatusCode, http.StatusSeeOther; got != want {
			t.Fatalf("pay: status %d, want %d; body:\n%s", got, want, res.body)
		}
		base, err := url.Parse(payURL)
		if err != nil {
			t.Fatal(err)
		}
		next, err := base.Parse(res.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		page, err := http.Get(next.String())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(page.Body)
		page.Body.Close()
		if !strings.Contains(string(body), "declined") {
			t.Errorf("the payment page after a decline does not say declined:\n%s", body)
		}
		// The simulator sends a session's events in order, so once the last one is in, all are.
		s.proxy.waitAcknowledged(t, "payment_intent.payment_failed")
		for _, d := range s.proxy.seen() {
			if strings.HasPrefix(d.Type, "checkout.session.") {
				t.Errorf("a declined card sent %s", d.Type)
			}
		}
		if got, want := s.order(o.ID).Status, store.StatusPending; got != want {
			t.Errorf("order status %q, want %q", got, want)
		}
		assertCartHolds(t, c, "Canvas Tote Bag", "$24.00")
	})

	t.Run("BankTransfer", func(t *testing.T) {
		tests := []struct {
			name    string
			account string
			final   store.Status
			label   string
			settles string // the event that settles the order
		}{
			{"Succeeds", "000123456789", store.StatusPaid, "Paid", "checkout.session.async_payment_succeeded"},
			{"Fails", "000111111116", store.StatusFailed, "Payment failed", "checkout.session.async_payment_failed"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				s := newSimulatedShop(t, 0)
				c := s.client()
				u := c.signup("cy@example.com")
				c.addToCart("field-notebook", 2)
				o, payURL := s.startCheckout(t, c)

				s.assertRedirectedToSuccess(t, simPay(t, payURL, simBankForm(u.Email, tt.account)), o)
				s.waitOrderStatus(t, o.ID, store.StatusProcessing)
				final := s.waitOrderStatus(t, o.ID, tt.final)
				assertSuccessPageShows(t, c, o, tt.label)

				// The handler logs an event's outcome before it answers, so once the proxy has
				// the answer the line is there (the order's status shows a moment earlier).
				completed := s.proxy.waitAcknowledged(t, "checkout.session.completed")
				settled := s.proxy.waitAcknowledged(t, tt.settles)
				logs := s.logs.String()
				if logLineWith(logs, "event_id="+completed.EventID+" ", "outcome=applied", "from=pending", "to=processing") == "" {
					t.Errorf("no log line moving order %d from pending to processing:\n%s", o.ID, logs)
				}
				if logLineWith(logs, "event_id="+settled.EventID+" ", "outcome=applied", "from=processing", "to="+string(tt.final)) == "" {
					t.Errorf("no log line moving order %d from processing to %s:\n%s", o.ID, tt.final, logs)
				}
				if tt.final == store.StatusPaid {
					if !strings.HasPrefix(final.PaymentIntent, "pi_") {
						t.Errorf("paid order has payment intent %q", final.PaymentIntent)
					}
					if cart := c.get("/cart"); !strings.Contains(cart.body, "Your cart is empty") {
						t.Errorf("cart not emptied after payment:\n%s", cart.body)
					}
				} else {
					assertCartHolds(t, c, "Field Notebooks, 3-pack", "$25.00")
				}
			})
		}
	})

	t.Run("Expiry", func(t *testing.T) {
		t.Parallel()
		s := newSimulatedShop(t, 0)
		c := s.client()
		c.signup("dee@example.com")
		c.addToCart("merino-beanie", 1)
		o, payURL := s.startCheckout(t, c)

		if err := s.gw.ExpireCheckoutSession(ctx, o.CheckoutSessionID); err != nil {
			t.Fatalf("expire: %v", err)
		}
		s.waitOrderStatus(t, o.ID, store.StatusExpired)
		assertSuccessPageShows(t, c, o, "Expired")
		if got, want := simPay(t, payURL, simCardForm("dee@example.com", "4242424242424242")).StatusCode, http.StatusGone; got != want {
			t.Errorf("paying the expired session: status %d, want %d", got, want)
		}
	})

	t.Run("Refund", func(t *testing.T) {
		t.Parallel()
		s := newSimulatedShop(t, 0)
		c := s.client()
		u := c.signup("eve@example.com")
		c.addToCart("pour-over-kettle", 1)
		o, payURL := s.startCheckout(t, c)
		s.assertRedirectedToSuccess(t, simPay(t, payURL, simCardForm(u.Email, "4242424242424242")), o)
		paid := s.waitOrderStatus(t, o.ID, store.StatusPaid)

		if err := s.gw.Refund(ctx, paid.PaymentIntent); err != nil {
			t.Fatalf("refund %s: %v", paid.PaymentIntent, err)
		}
		s.waitOrderStatus(t, o.ID, store.StatusRefunded)
		assertSuccessPageShows(t, c, o, "Refunded")
		refunded := s.proxy.waitAcknowledged(t, "charge.refunded")
		if got, want := refunded.Outcome, string(store.OutcomeApplied); got != want {
			t.Errorf("charge.refunded outcome %q, want %q", got, want)
		}

		err := s.gw.Refund(ctx, paid.PaymentIntent)
		if err == nil {
			t.Fatal("refunding a refunded payment succeeded")
		}
		if got, want := asStripeError(t, err).HTTPStatusCode, http.StatusBadRequest; got != want {
			t.Errorf("second refund: HTTP status %d, want %d", got, want)
		}
	})

	t.Run("Guest", func(t *testing.T) {
		t.Parallel()
		s := newSimulatedShop(t, 0)
		c := s.client()
		c.addToCart("wool-socks", 2)
		o, payURL := s.startCheckout(t, c)
		if o.UserID != 0 {
			t.Fatalf("guest order belongs to user %d", o.UserID)
		}

		s.assertRedirectedToSuccess(t, simPay(t, payURL, simCardForm("guest@example.com", "4242424242424242")), o)
		paid := s.waitOrderStatus(t, o.ID, store.StatusPaid)
		if got, want := paid.CustomerEmail, "guest@example.com"; got != want {
			t.Errorf("order customer email %q, want %q", got, want)
		}
		assertSuccessPageShows(t, c, o, "Paid")
		if cart := c.get("/cart"); !strings.Contains(cart.body, "Your cart is empty") {
			t.Errorf("guest cart not emptied after payment:\n%s", cart.body)
		}
	})

	t.Run("Retries", func(t *testing.T) {
		t.Parallel()
		s := newSimulatedShop(t, 2)
		raw := s.testShop.sql(t)
		c := s.client()
		u := c.signup("fay@example.com")
		c.addToCart("desk-succulent", 3)
		o, payURL := s.startCheckout(t, c)

		s.assertRedirectedToSuccess(t, simPay(t, payURL, simCardForm(u.Email, "4242424242424242")), o)
		s.waitOrderStatus(t, o.ID, store.StatusPaid)
		s.proxy.waitAcknowledged(t, "charge.updated")
		completed := s.proxy.waitAcknowledged(t, "checkout.session.completed")

		attempts := map[string]int{}
		forwarded := map[string]int{}
		var types []string
		for _, d := range s.proxy.seen() {
			attempts[d.EventID]++
			if d.Forwarded {
				forwarded[d.EventID]++
				types = append(types, d.Type)
			}
		}
		if !slices.Equal(types, cardEvents) {
			t.Errorf("events forwarded to the shop %q, want %q", types, cardEvents)
		}
		for id, n := range attempts {
			if n != 3 {
				t.Errorf("event %s attempted %d times, want 3 (2 failures, then success)", id, n)
			}
			if forwarded[id] != 1 {
				t.Errorf("event %s reached the shop %d times, want 1", id, forwarded[id])
			}
		}
		if got, want := attempts[completed.EventID], 3; got != want {
			t.Errorf("checkout.session.completed attempted %d times, want %d", got, want)
		}

		var rows int
		if err := raw.QueryRow("SELECT count(*) FROM stripe_events WHERE id = ?", completed.EventID).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if got, want := rows, 1; got != want {
			t.Errorf("%d stripe_events rows for %s, want %d", got, completed.EventID, want)
		}
		if got, want := simCountLines(s.logs.String(), "event_id="+completed.EventID+" ", "outcome=applied"), 1; got != want {
			t.Errorf("%d log lines applying %s, want %d:\n%s", got, completed.EventID, want, s.logs.String())
		}
	})

	t.Run("RetryAfterApplied", func(t *testing.T) {
		t.Parallel()
		s := newSimulatedShop(t, 0)
		s.proxy.setLoseAnswers(1)
		raw := s.testShop.sql(t)
		c := s.client()
		u := c.signup("gus@example.com")
		c.addToCart("enamel-pin-set", 2)
		o, payURL := s.startCheckout(t, c)

		s.assertRedirectedToSuccess(t, simPay(t, payURL, simCardForm(u.Email, "4242424242424242")), o)
		s.waitOrderStatus(t, o.ID, store.StatusPaid)
		s.proxy.waitAcknowledged(t, "charge.updated")
		completed := s.proxy.waitAcknowledged(t, "checkout.session.completed")

		// Each event reached the shop twice: its first answer was lost, so the simulator resent it.
		var outcomes []string
		for _, d := range s.proxy.seen() {
			if d.EventID == completed.EventID {
				outcomes = append(outcomes, fmt.Sprint(d.Status, " ", d.Outcome))
			}
		}
		if want := []string{"200 applied", "200 duplicate"}; !slices.Equal(outcomes, want) {
			t.Errorf("shop answers to %s: %q, want %q", completed.EventID, outcomes, want)
		}
		var rows int
		if err := raw.QueryRow("SELECT count(*) FROM stripe_events").Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if got, want := rows, len(cardEvents); got != want {
			t.Errorf("%d stripe_events rows, want %d (one per event)", got, want)
		}
		if got, want := simCountLines(s.logs.String(), "event_id="+completed.EventID+" ", "outcome=applied"), 1; got != want {
			t.Errorf("%d log lines applying %s, want %d:\n%s", got, completed.EventID, want, s.logs.String())
		}
		if got, want := s.order(o.ID).Status, store.StatusPaid; got != want {
			t.Errorf("order status %q, want %q", got, want)
		}
	})
}
