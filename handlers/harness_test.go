package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/sessions"
	"github.com/stripe/stripe-go/v76/webhook"

	"storefront/live"
	"storefront/payments"
	"storefront/store"
	"storefront/store/storetest"
)

// testSecret signs the webhooks of test shops.
const testSecret = "whsec_test_secret"

// testShop is the shop's handler on an httptest server with a temporary database.
type testShop struct {
	t        *testing.T
	srv      *httptest.Server
	db       *store.DB
	dsn      string // where db is: an SQLite file, or a PostgreSQL schema (see storetest)
	checkout PaymentGateway
	fake     *fakeCheckout // nil when a real gateway is used
	broker   *live.Broker[*store.Order]
	logs     *syncBuffer
	done     chan struct{}
	server   *server
}

type shopOption func(*Deps)

// withCheckout replaces the fake payment provider, e.g. by a gateway to stripe-mock.
func withCheckout(c PaymentGateway) shopOption { return func(d *Deps) { d.Payments = c } }

// sql opens a connection to the shop's database behind the store's back, for changes no
// handler makes (retiring a product, adding products) and for counting rows.
func (s *testShop) sql(t *testing.T) storetest.DB {
	t.Helper()
	return storetest.Conn(t, s.dsn)
}

func newTestShop(t *testing.T, opts ...shopOption) *testShop {
	t.Helper()
	return newTestShopAt(t, storetest.DSN(t), opts...)
}

// newTestShopAt starts a shop on the database at dsn, which another test shop may share: a
// second instance of the same shop (PostgreSQL).
func newTestShopAt(t *testing.T, dsn string, opts ...shopOption) *testShop {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := &testShop{t: t, db: db, dsn: dsn, fake: &fakeCheckout{}, broker: live.NewBroker[*store.Order](), logs: &syncBuffer{}, done: make(chan struct{})}
	cookies := sessions.NewCookieStore([]byte("0123456789abcdef0123456789abcdef"), []byte("abcdef0123456789abcdef0123456789"))
	cookies.Options = &sessions.Options{Path: "/", MaxAge: 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode}
	d := Deps{
		Store:          db,
		Payments:       s.fake,
		Broker:         s.broker,
		Sessions:       cookies,
		Logger:         slog.New(slog.NewTextHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		WebhookSecrets: []string{testSecret},
		Done:           s.done,
	}
	for _, o := range opts {
		o(&d)
	}
	if d.Payments != PaymentGateway(s.fake) {
		s.fake = nil
	}
	s.checkout = d.Payments
	s.srv = httptest.NewUnstartedServer(nil)
	s.srv.Start()
	d.BaseURL, _ = url.Parse(s.srv.URL)
	s.server, s.srv.Config.Handler = newServer(d)
	select { // on PostgreSQL, until the shop listens to the other instances, /healthz says 503
	case <-db.Listening():
	case <-time.After(10 * time.Second):
		t.Fatal("the shop does not listen to the other instances' notes after 10 s")
	}
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			close(s.done)
		}
		s.srv.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", s.logs.String())
		}
	})
	return s
}

// client is a browser-like client with its own cookie jar that does not follow redirects.
func (s *testShop) client() *testClient {
	jar, _ := cookiejar.New(nil)
	return &testClient{t: s.t, shop: s, http: &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type testClient struct {
	t    *testing.T
	shop *testShop
	http *http.Client
}

// response is an answer with its body already read.
type response struct {
	*http.Response
	body string
}

// request builds a request to the shop: a form body when form is not nil, headers as name, value pairs.
func (c *testClient) request(method, path string, form url.Values, headers ...string) *http.Request {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.shop.srv.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return req
}

// do sends a request through the client (cookies kept, redirects not followed) and reads the answer.
func (c *testClient) do(method, path string, form url.Values, headers ...string) response {
	c.t.Helper()
	res, err := c.http.Do(c.request(method, path, form, headers...))
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{Response: res, body: string(b)}
}

// get fetches path; headers are name, value pairs.
func (c *testClient) get(path string, headers ...string) response {
	c.t.Helper()
	return c.do(http.MethodGet, path, nil, headers...)
}

// post submits a form to path; headers are name, value pairs.
func (c *testClient) post(path string, form url.Values, headers ...string) response {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	return c.do(http.MethodPost, path, form, headers...)
}

// signup creates an account and leaves the client logged in; it returns the user.
func (c *testClient) signup(email string) store.User {
	c.t.Helper()
	res := c.post("/signup", url.Values{"email": {email}, "password": {"correct horse"}})
	if res.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("signup %s: status %d, body:\n%s", email, res.StatusCode, res.body)
	}
	u, err := c.shop.db.UserByEmail(context.Background(), strings.ToLower(email))
	if err != nil {
		c.t.Fatal(err)
	}
	return u
}

// addToCart puts quantity of the product with the given slug in the client's cart.
func (c *testClient) addToCart(slug string, quantity int) store.Product {
	c.t.Helper()
	p, err := c.shop.db.ProductBySlug(context.Background(), slug)
	if err != nil {
		c.t.Fatal(err)
	}
	res := c.post("/cart/items", url.Values{"product_id": {fmt.Sprint(p.ID)}, "quantity": {fmt.Sprint(quantity)}})
	if res.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("add %s: status %d, body:\n%s", slug, res.StatusCode, res.body)
	}
	return p
}

// checkout starts a checkout of the client's cart and returns the order it created.
func (c *testClient) checkout() store.Order {
	c.t.Helper()
	res := c.post("/create-checkout-session/", nil, "Accept", "application/json")
	if res.StatusCode != http.StatusOK {
		c.t.Fatalf("checkout: status %d, body:\n%s", res.StatusCode, res.body)
	}
	var out struct{ SessionID string }
	if err := json.Unmarshal([]byte(res.body), &out); err != nil {
		c.t.Fatal(err)
	}
	o, err := c.shop.db.OrderBySession(context.Background(), out.SessionID)
	if err != nil {
		c.t.Fatal(err)
	}
	return o
}

// order reloads an order from the database.
func (s *testShop) order(id int64) store.Order {
	s.t.Helper()
	o, err := s.db.Order(context.Background(), id)
	if err != nil {
		s.t.Fatal(err)
	}
	return o
}

// event is a Stripe-format event for tests; object is its data.object.
func event(id, typ string, object map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{
		"id": id, "object": "event", "api_version": payments.APIVersion, "created": time.Now().Unix(),
		"livemode": false, "type": typ, "data": map[string]any{"object": object},
	})
	return b
}

// sessionObject is the data.object of a checkout.session.* event for an order, as Stripe would send it.
func sessionObject(o store.Order, paymentStatus string) map[string]any {
	obj := map[string]any{
		"id": o.CheckoutSessionID, "object": "checkout.session", "status": "complete",
		"payment_status": paymentStatus, "amount_total": o.AmountTotal, "currency": o.Currency,
		"client_reference_id": nil, "metadata": map[string]string{"order_id": fmt.Sprint(o.ID)},
		"payment_intent": "pi_" + o.CheckoutSessionID, "customer_details": map[string]any{"email": "buyer@example.com"},
	}
	if o.UserID != 0 {
		obj["client_reference_id"] = fmt.Sprint(o.UserID)
	}
	return obj
}

// postWebhook delivers a payload signed with secret at time at; an empty secret sends no signature.
func (s *testShop) postWebhook(payload []byte, secret string, at time.Time) response {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.srv.URL+"/webhook/", bytes.NewReader(payload))
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: at})
		req.Header.Set("Stripe-Signature", signed.Header)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{Response: res, body: string(b)}
}

// sendEvent delivers a correctly signed event and fails the test unless it is accepted.
func (s *testShop) sendEvent(id, typ string, object map[string]any) {
	s.t.Helper()
	if res := s.postWebhook(event(id, typ, object), testSecret, time.Now()); res.StatusCode != http.StatusOK {
		s.t.Fatalf("webhook %s %s: status %d, body %s", id, typ, res.StatusCode, res.body)
	}
}

// fakeCheckout stands in for Stripe in handler tests: it records requests and makes sessions.
type fakeCheckout struct {
	mu       sync.Mutex
	requests []payments.CheckoutRequest
	expired  []string
	fail     error
}

func (f *fakeCheckout) CreateCheckoutSession(_ context.Context, req payments.CheckoutRequest) (payments.CheckoutSession, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, req)
	if f.fail != nil {
		return payments.CheckoutSession{}, f.fail
	}
	id := fmt.Sprintf("cs_test_fake_%d_%s", req.OrderID, strings.ReplaceAll(req.IdempotencyKey, "-", ""))
	return payments.CheckoutSession{ID: id, URL: "https://checkout.example.test/pay/" + id, ExpiresAt: time.Now().Add(24 * time.Hour)}, nil
}

func (f *fakeCheckout) ExpireCheckoutSession(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.expired = append(f.expired, id)
	return nil
}

func (f *fakeCheckout) PublishableKey() string { return "pk_test_fake" }
func (f *fakeCheckout) CheckoutOrigin() string { return "https://checkout.example.test" }

func (f *fakeCheckout) calls() []payments.CheckoutRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]payments.CheckoutRequest(nil), f.requests...)
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// serveFrom sends a request as if from the client address addr ("host:port"), which a test
// server's loopback connections cannot show, and returns the recorded answer.
func (s *testShop) serveFrom(addr, method, path string, form url.Values) *httptest.ResponseRecorder {
	s.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, s.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.RemoteAddr = addr
	rec := httptest.NewRecorder()
	s.srv.Config.Handler.ServeHTTP(rec, req)
	return rec
}

// waitFor polls cond until it holds, failing the test after ten seconds: for state another
// goroutine reaches in its own time (a stream released, a worker done), never a fixed sleep.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (f *fakeCheckout) expiredSessions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.expired...)
}

// watcher collects what the broker publishes to some topics, for tests that check what the
// shop announced.
type watcher struct {
	C   chan *store.Order
	sub *live.Subscription[*store.Order]
}

// watch subscribes to topics; messages beyond 64 unread fail the test.
func (s *testShop) watch(topics ...string) *watcher {
	w := &watcher{C: make(chan *store.Order, 64)}
	w.sub = s.broker.Subscribe(func(o *store.Order) {
		select {
		case w.C <- o:
		default:
			s.t.Errorf("more than %d unread changes published to %v", cap(w.C), topics)
		}
	}, topics...)
	return w
}

func (w *watcher) Close() { w.sub.Close() }
