package simulator_test

import (
	"context"
	"encoding/json"
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
	checkoutsession "github.com/stripe/stripe-go/v76/checkout/session"
	"github.com/stripe/stripe-go/v76/event"
	"github.com/stripe/stripe-go/v76/paymentintent"
	"github.com/stripe/stripe-go/v76/refund"
	"github.com/stripe/stripe-go/v76/webhook"

	"storefront/payments/simulator"
)

const (
	testSecret = "whsec_test_simulator"
	testKey    = "sk_test_x"
)

// receiver is a webhook endpoint that verifies every delivery as the storefront would.
type receiver struct {
	srv *httptest.Server
	// policy decides the status for an attempt (1-based per event); nil answers 200.
	policy func(ev stripe.Event, attempt int) int
	// newerVersions accepts events of API versions newer than stripe-go's, as the shop does.
	newerVersions bool

	mu       sync.Mutex
	acked    []stripe.Event // acknowledged events, in delivery order
	requests []string       // event id of every attempt, in order
	attempts map[string]int
	bodies   map[string][]byte // the last body delivered for each event id
	problems []string
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	rc := &receiver{attempts: map[string]int{}, bodies: map[string][]byte{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	t.Cleanup(func() {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		for _, p := range rc.problems {
			t.Errorf("webhook receiver: %s", p)
		}
	})
	return rc
}

func (rc *receiver) setPolicy(p func(ev stripe.Event, attempt int) int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.policy = p
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	ev, err := webhook.ConstructEventWithOptions(body, r.Header.Get("Stripe-Signature"), testSecret,
		webhook.ConstructEventOptions{IgnoreAPIVersionMismatch: rc.newerVersions})
	if err != nil {
		rc.problems = append(rc.problems, "bad delivery: "+err.Error())
		rc.mu.Unlock()
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		rc.problems = append(rc.problems, "Content-Type "+ct)
	}
	if ua := r.Header.Get("User-Agent"); ua != "Stripe/1.0 (+https://stripe.com/docs/webhooks)" {
		rc.problems = append(rc.problems, "User-Agent "+ua)
	}
	rc.attempts[ev.ID]++
	rc.requests = append(rc.requests, ev.ID)
	rc.bodies[ev.ID] = body
	status := http.StatusOK
	if rc.policy != nil {
		status = rc.policy(ev, rc.attempts[ev.ID])
	}
	if status < 300 {
		rc.acked = append(rc.acked, ev)
	}
	rc.mu.Unlock()
	w.WriteHeader(status)
}

// types lists the acknowledged event types in delivery order.
func (rc *receiver) types() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := make([]string, len(rc.acked))
	for i, ev := range rc.acked {
		out[i] = string(ev.Type)
	}
	return out
}

func (rc *receiver) event(typ string) (stripe.Event, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, ev := range rc.acked {
		if string(ev.Type) == typ {
			return ev, true
		}
	}
	return stripe.Event{}, false
}

// waitForType waits until an event of typ has been acknowledged and returns the types so far.
func (rc *receiver) waitForType(t *testing.T, typ string) []string {
	t.Helper()
	waitFor(t, "event "+typ, func() bool { return slices.Contains(rc.types(), typ) })
	return rc.types()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// harness is a running simulator wired to a receiver, with stripe-go clients pointed at it.
type harness struct {
	sim      *simulator.Simulator
	rc       *receiver
	sessions *checkoutsession.Client
	refunds  *refund.Client
	events   *event.Client
	intents  *paymentintent.Client
	dbPath   string
	stop     func()
}

func testConfig(t *testing.T, rc *receiver) simulator.Config {
	return simulator.Config{
		Addr:          "127.0.0.1:0",
		DBPath:        filepath.Join(t.TempDir(), "sim.db"),
		WebhookURL:    rc.srv.URL + "/webhook/",
		WebhookSecret: testSecret,
		SecretKey:     testKey,
		AsyncDelay:    50 * time.Millisecond,
		RetryBase:     10 * time.Millisecond,
		RetryMax:      40 * time.Millisecond,
		Logger:        slog.New(slog.DiscardHandler),
		Faults:        "off", // whatever SIMULATOR_FAULTS the developer's shell has
	}
}

// start runs a simulator until the test ends (or stop is called) and checks it shuts down promptly.
func start(t *testing.T, cfg simulator.Config, rc *receiver) *harness {
	t.Helper()
	sim, err := simulator.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sim.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run returned %v, want nil", err)
				}
			case <-time.After(2 * time.Second):
				t.Errorf("Run did not return within 2s of cancellation")
			}
		})
	}
	t.Cleanup(stop)
	backend := stripe.GetBackendWithConfig(stripe.APIBackend, &stripe.BackendConfig{
		URL:           stripe.String(sim.URL()),
		LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelError},
	})
	return &harness{
		sim:      sim,
		rc:       rc,
		sessions: &checkoutsession.Client{B: backend, Key: testKey},
		refunds:  &refund.Client{B: backend, Key: testKey},
		events:   &event.Client{B: backend, Key: testKey},
		intents:  &paymentintent.Client{B: backend, Key: testKey},
		dbPath:   cfg.DBPath,
		stop:     stop,
	}
}

func newHarness(t *testing.T, mutate ...func(*simulator.Config)) *harness {
	t.Helper()
	rc := newReceiver(t)
	cfg := testConfig(t, rc)
	for _, m := range mutate {
		m(&cfg)
	}
	return start(t, cfg, rc)
}

// toteParams is a typical storefront checkout: two Canvas Totes at $24.00.
func toteParams() *stripe.CheckoutSessionParams {
	return &stripe.CheckoutSessionParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModePayment)),
		SuccessURL:        stripe.String("http://localhost:8000/success/?session_id={CHECKOUT_SESSION_ID}"),
		CancelURL:         stripe.String("http://localhost:8000/cancelled/"),
		ClientReferenceID: stripe.String("7"),
		CustomerEmail:     stripe.String("shopper@example.com"),
		Metadata:          map[string]string{"order_id": "42"},
		LineItems: []*stripe.CheckoutSessionLineItemParams{{
			Quantity: stripe.Int64(2),
			PriceData: &stripe.CheckoutSessionLineItemPriceDataParams{
				Currency:    stripe.String("usd"),
				UnitAmount:  stripe.Int64(2400),
				ProductData: &stripe.CheckoutSessionLineItemPriceDataProductDataParams{Name: stripe.String("Canvas Tote")},
			},
		}},
	}
}

func (h *harness) create(t *testing.T) *stripe.CheckoutSession {
	t.Helper()
	s, err := h.sessions.New(toteParams())
	if err != nil {
		t.Fatalf("create session: %v", err)
	}
	return s
}

func (h *harness) get(t *testing.T, id string) *stripe.CheckoutSession {
	t.Helper()
	s, err := h.sessions.Get(id, nil)
	if err != nil {
		t.Fatalf("retrieve session %s: %v", id, err)
	}
	return s
}

// noRedirects is a browser without JavaScript that shows us the redirects instead of following them.
var noRedirects = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       5 * time.Second,
}

func cardForm(number string) url.Values {
	return url.Values{
		"email": {"payer@example.com"}, "method": {"card"},
		"card_number": {number}, "expiry": {"12 / 34"}, "cvc": {"123"},
	}
}

func bankForm(account string) url.Values {
	return url.Values{"email": {"payer@example.com"}, "method": {"bank_transfer"}, "account_number": {account}}
}

// pay submits the hosted payment form and returns the response with its body read.
func pay(t *testing.T, payURL string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := noRedirects.PostForm(payURL, form)
	if err != nil {
		t.Fatalf("submit payment form: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// paid creates a session and pays it by card, returning it as retrieved afterwards.
func (h *harness) paid(t *testing.T) *stripe.CheckoutSession {
	t.Helper()
	s := h.create(t)
	resp, body := pay(t, s.URL, cardForm("4242424242424242"))
	wantSuccessRedirect(t, resp, body, s.ID)
	return h.get(t, s.ID)
}

// payAndRetry submits a payment that must fail and follows the redirect back to the payment page
// (post/redirect/get), returning that page.
func payAndRetry(t *testing.T, payURL string, form url.Values) string {
	t.Helper()
	resp, body := pay(t, payURL, form)
	u, _ := url.Parse(payURL)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, u.Path+"?attempt=") {
		t.Fatalf("failed payment answered %d Location %q, want 303 back to %s?attempt=…; body:\n%s", resp.StatusCode, loc, u.Path, body)
	}
	resp, page := getPage(t, u.Scheme+"://"+u.Host+loc)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("payment page after a failed attempt: %d", resp.StatusCode)
	}
	return page
}

func getPage(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	resp, err := noRedirects.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func wantSuccessRedirect(t *testing.T, resp *http.Response, body, id string) {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("payment answered %d, want 303; body:\n%s", resp.StatusCode, body)
	}
	want := "http://localhost:8000/success/?session_id=" + id
	if got := resp.Header.Get("Location"); got != want {
		t.Fatalf("redirected to %q, want %q", got, want)
	}
}

// object decodes an event's data.object into v.
func object(t *testing.T, ev stripe.Event, v any) {
	t.Helper()
	if err := json.Unmarshal(ev.Data.Raw, v); err != nil {
		t.Fatalf("decode %s object: %v", ev.Type, err)
	}
}

func stripeErr(t *testing.T, err error) *stripe.Error {
	t.Helper()
	if err == nil {
		t.Fatal("call succeeded, want a Stripe error")
	}
	se, ok := err.(*stripe.Error)
	if !ok {
		t.Fatalf("error is %T (%v), want *stripe.Error", err, err)
	}
	return se
}

func contains(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q", w)
		}
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// getPageNoFail returns the status of a GET, or 0 when nothing answers.
func getPageNoFail(u string) (int, error) {
	resp, err := noRedirects.Get(u)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// createdTypes lists the types of every event the simulator has created, oldest first, through
// GET /v1/events: what has been or will be delivered, known without waiting for deliveries.
func (h *harness) createdTypes(t *testing.T) []string {
	t.Helper()
	var types []string
	for _, ev := range h.createdEvents(t) {
		types = append(types, string(ev.Type))
	}
	return types
}

// createdEvents lists every event the simulator has created (up to 100), oldest first.
func (h *harness) createdEvents(t *testing.T) []stripe.Event {
	t.Helper()
	p := &stripe.EventListParams{}
	p.Limit = stripe.Int64(100)
	it := h.events.List(p)
	var events []stripe.Event
	for it.Next() {
		events = append(events, *it.Event())
	}
	if err := it.Err(); err != nil {
		t.Fatalf("list events: %v", err)
	}
	slices.Reverse(events)
	return events
}
