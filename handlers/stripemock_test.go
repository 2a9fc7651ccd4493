package handlers

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"storefront/payments"
	"storefront/store"
)

// Integration tests: the real payments.Gateway (stripe-go) against Stripe's official mock server,
// `go tool stripe-mock`, with every request that reaches "Stripe" recorded for inspection.

// stripeMockBinary is the stripe-mock executable, built once per test binary.
var stripeMockBinary struct {
	once sync.Once
	path string
	err  error
}

// stripeMockPath returns the path of the stripe-mock binary, building it (through the Go build
// cache) the first time. A missing module, e.g. offline without a module cache, fails clearly.
func stripeMockPath(t *testing.T) string {
	t.Helper()
	stripeMockBinary.once.Do(func() {
		var stderr bytes.Buffer
		cmd := exec.Command("go", "tool", "-n", "stripe-mock")
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			stripeMockBinary.err = fmt.Errorf("go tool -n stripe-mock: %v\n%s", err, stderr.String())
			return
		}
		path := strings.TrimSpace(string(out))
		if _, err := os.Stat(path); err != nil {
			stripeMockBinary.err = fmt.Errorf("go tool -n stripe-mock printed %q: %v", path, err)
			return
		}
		stripeMockBinary.path = path
	})
	if stripeMockBinary.err != nil {
		t.Fatalf("cannot build stripe-mock (it is a tool in go.mod; building it needs the Go module proxy "+
			"or a module cache that already holds github.com/stripe/stripe-mock): %v", stripeMockBinary.err)
	}
	return stripeMockBinary.path
}

// startStripeMock runs stripe-mock on a free loopback port until the test ends and returns its base URL.
func startStripeMock(t *testing.T) string {
	t.Helper()
	// Both listeners on port 0: with only -http-addr, stripe-mock still opens HTTPS on the fixed port 12112.
	cmd := exec.Command(stripeMockPath(t), "-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start stripe-mock: %v", err)
	}
	exited := make(chan struct{})
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	addr := make(chan string, 1)
	var output syncBuffer
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			output.Write([]byte(line + "\n"))
			if a, ok := strings.CutPrefix(line, "Listening for HTTP at address: "); ok {
				addr <- strings.TrimSpace(a)
			}
		}
		io.Copy(io.Discard, stdout)
		cmd.Wait()
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case <-exited:
		t.Fatalf("stripe-mock exited before listening:\n%s%s", output.String(), stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("stripe-mock did not say where it listens within 30s:\n%s%s", output.String(), stderr.String())
	}
	// It prints the address once it listens; wait until it also answers.
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := http.Get(base + "/v1/checkout/sessions/cs_test_ping")
		if err == nil {
			res.Body.Close()
			return base
		}
		if time.Now().After(deadline) {
			t.Fatalf("stripe-mock at %s does not answer: %v\n%s", base, err, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stripeCall is one request that reached the Stripe API.
type stripeCall struct {
	Method         string
	Path           string
	Form           url.Values
	Query          url.Values
	IdempotencyKey string
}

// recordingTransport records every request it forwards, with its form body decoded.
type recordingTransport struct {
	next  http.RoundTripper
	mu    sync.Mutex
	calls []stripeCall
}

func (rt *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("recording transport: form body %q: %w", body, err)
	}
	rt.mu.Lock()
	rt.calls = append(rt.calls, stripeCall{Method: req.Method, Path: req.URL.Path, Form: form, Query: req.URL.Query(),
		IdempotencyKey: req.Header.Get("Idempotency-Key")})
	rt.mu.Unlock()
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.ContentLength = int64(len(body))
	return rt.next.RoundTrip(out)
}

// recorded returns a copy of the requests seen so far.
func (rt *recordingTransport) recorded() []stripeCall {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]stripeCall(nil), rt.calls...)
}

// newMockGateway returns the real gateway talking to apiBase through a recording transport.
func newMockGateway(apiBase string) (*payments.Gateway, *recordingTransport) {
	rt := &recordingTransport{next: http.DefaultTransport}
	g := payments.NewGateway(payments.Config{
		SecretKey:      "sk_test_123",
		PublishableKey: "pk_test_123",
		APIBase:        apiBase,
		HTTPClient:     &http.Client{Transport: rt, Timeout: 10 * time.Second},
		MaxRetries:     0,
	})
	return g, rt
}

// closedPortURL is the base URL of a loopback port that nothing listens on.
func closedPortURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// swappableCheckout lets a test change the payment provider of a running shop, e.g. bring Stripe back up.
type swappableCheckout struct {
	mu  sync.Mutex
	cur PaymentGateway
}

func (s *swappableCheckout) set(c PaymentGateway) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cur = c
}

func (s *swappableCheckout) get() PaymentGateway {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

func (s *swappableCheckout) ExpireCheckoutSession(ctx context.Context, id string) error {
	return s.get().ExpireCheckoutSession(ctx, id)
}

func (s *swappableCheckout) CreateCheckoutSession(ctx context.Context, req payments.CheckoutRequest) (payments.CheckoutSession, error) {
	return s.get().CreateCheckoutSession(ctx, req)
}
func (s *swappableCheckout) PublishableKey() string { return s.get().PublishableKey() }
func (s *swappableCheckout) CheckoutOrigin() string { return s.get().CheckoutOrigin() }

// checkoutShape is one of the three ways a client may ask to start a checkout.
type checkoutShape struct {
	name    string
	headers []string
}

var checkoutShapes = []checkoutShape{
	{"JSON", []string{"Accept", "application/json"}},
	{"HTMX", []string{"HX-Request", "true"}},
	{"Form", nil},
}

// sessionAnswer decodes the JSON answer to a checkout.
func sessionAnswer(t *testing.T, res response) (sessionID, checkoutURL string) {
	t.Helper()
	if got, want := res.StatusCode, http.StatusOK; got != want {
		t.Fatalf("checkout: status %d, want %d; body:\n%s", got, want, res.body)
	}
	var out struct {
		SessionID string `json:"sessionId"`
		URL       string `json:"url"`
	}
	if err := json.Unmarshal([]byte(res.body), &out); err != nil {
		t.Fatalf("checkout answer %q: %v", res.body, err)
	}
	return out.SessionID, out.URL
}

// onlyCall returns the single request recorded since skip requests, failing unless there is exactly one.
func onlyCall(t *testing.T, rt *recordingTransport, skip int) stripeCall {
	t.Helper()
	calls := rt.recorded()[skip:]
	if got, want := len(calls), 1; got != want {
		t.Fatalf("%d requests reached Stripe, want %d: %+v", got, want, calls)
	}
	return calls[0]
}

func TestCheckoutStripeMock(t *testing.T) {
	mock := startStripeMock(t)
	ctx := context.Background()

	t.Run("LoggedInRequest", func(t *testing.T) {
		t.Parallel()
		g, rt := newMockGateway(mock)
		shop := newTestShop(t, withCheckout(g))
		c := shop.client()
		u := c.signup("ann@example.com")
		tote := c.addToCart("canvas-tote", 2)
		mug := c.addToCart("stoneware-mug", 1)

		sessionID, _ := sessionAnswer(t, c.post("/create-checkout-session/", nil, "Accept", "application/json"))
		o, err := shop.db.OrderBySession(ctx, sessionID)
		if err != nil {
			t.Fatalf("order of session %s: %v", sessionID, err)
		}
		call := onlyCall(t, rt, 0)
		if got, want := call.Method+" "+call.Path, "POST /v1/checkout/sessions"; got != want {
			t.Errorf("request %q, want %q", got, want)
		}
		if got, want := call.IdempotencyKey, o.IdempotencyKey(); got != want {
			t.Errorf("Idempotency-Key %q, want %q", got, want)
		}
		want := map[string]string{
			"mode":                                   "payment",
			"client_reference_id":                    strconv.FormatInt(u.ID, 10),
			"customer_email":                         "ann@example.com",
			"metadata[order_id]":                     strconv.FormatInt(o.ID, 10),
			"success_url":                            shop.srv.URL + "/success/?session_id={CHECKOUT_SESSION_ID}",
			"cancel_url":                             shop.srv.URL + "/cancelled/",
			"line_items[0][quantity]":                "2",
			"line_items[0][price_data][currency]":    "usd",
			"line_items[0][price_data][unit_amount]": strconv.FormatInt(tote.Price, 10),
			"line_items[0][price_data][product_data][name]": tote.Name,
			"line_items[1][quantity]":                       "1",
			"line_items[1][price_data][currency]":           "usd",
			"line_items[1][price_data][unit_amount]":        strconv.FormatInt(mug.Price, 10),
			"line_items[1][price_data][product_data][name]": mug.Name,
		}
		for key, value := range want {
			if got := call.Form[key]; len(got) != 1 || got[0] != value {
				t.Errorf("%s = %q, want %q", key, got, value)
			}
		}
		if got := call.Form.Get("line_items[2][quantity]"); got != "" {
			t.Errorf("a third line item was sent (quantity %q); the cart has two lines", got)
		}
		if got, want := o.AmountTotal, 2*tote.Price+mug.Price; got != want {
			t.Errorf("order total %d, want %d", got, want)
		}
	})

	t.Run("GuestRequest", func(t *testing.T) {
		t.Parallel()
		g, rt := newMockGateway(mock)
		shop := newTestShop(t, withCheckout(g))
		c := shop.client()
		tote := c.addToCart("canvas-tote", 3)

		sessionID, _ := sessionAnswer(t, c.post("/create-checkout-session/", nil, "Accept", "application/json"))
		o, err := shop.db.OrderBySession(ctx, sessionID)
		if err != nil {
			t.Fatalf("order of session %s: %v", sessionID, err)
		}
		call := onlyCall(t, rt, 0)
		for _, key := range []string{"client_reference_id", "customer_email"} {
			if got, ok := call.Form[key]; ok {
				t.Errorf("guest checkout sent %s = %q", key, got)
			}
		}
		if got, want := o.UserID, int64(0); got != want {
			t.Errorf("guest order has user %d", got)
		}
		for key, value := range map[string]string{
			"mode":                                          "payment",
			"metadata[order_id]":                            strconv.FormatInt(o.ID, 10),
			"line_items[0][quantity]":                       "3",
			"line_items[0][price_data][unit_amount]":        strconv.FormatInt(tote.Price, 10),
			"line_items[0][price_data][currency]":           "usd",
			"line_items[0][price_data][product_data][name]": tote.Name,
		} {
			if got := call.Form.Get(key); got != value {
				t.Errorf("%s = %q, want %q", key, got, value)
			}
		}
		if got, want := call.IdempotencyKey, o.IdempotencyKey(); got != want {
			t.Errorf("Idempotency-Key %q, want %q", got, want)
		}
	})

	t.Run("ForgedPricesIgnored", func(t *testing.T) {
		t.Parallel()
		g, rt := newMockGateway(mock)
		shop := newTestShop(t, withCheckout(g))
		forged := url.Values{
			"price":                                  {"1"},
			"amount":                                 {"1"},
			"unit_amount":                            {"1"},
			"amount_total":                           {"1"},
			"currency":                               {"jpy"},
			"line_items[0][price_data][unit_amount]": {"1"},
			"line_items[0][quantity]":                {"1"},
		}
		// withoutOrderID is the request Stripe saw, minus the fields that differ between orders:
		// the order id, and expires_at (31–41 minutes ahead, in ten-minute steps), which must
		// still be there and in range.
		withoutOrderID := func(f url.Values) url.Values {
			t.Helper()
			expires, err := strconv.ParseInt(f.Get("expires_at"), 10, 64)
			if ahead := time.Until(time.Unix(expires, 0)); err != nil || ahead < 29*time.Minute || ahead > 42*time.Minute {
				t.Errorf("expires_at %q is not 30–41 minutes ahead", f.Get("expires_at"))
			}
			out := url.Values{}
			for k, v := range f {
				if k != "metadata[order_id]" && k != "expires_at" {
					out[k] = v
				}
			}
			return out
		}

		clean := shop.client()
		tote := clean.addToCart("canvas-tote", 2)
		sessionAnswer(t, clean.post("/create-checkout-session/", nil, "Accept", "application/json"))
		reference := withoutOrderID(onlyCall(t, rt, 0).Form)

		tests := []struct {
			name string
			req  func(base string) *http.Request
		}{
			{"FormFields", func(base string) *http.Request {
				r, _ := http.NewRequest(http.MethodPost, base+"/create-checkout-session/", strings.NewReader(forged.Encode()))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				return r
			}},
			{"QueryString", func(base string) *http.Request {
				r, _ := http.NewRequest(http.MethodPost, base+"/create-checkout-session/?"+forged.Encode(), nil)
				return r
			}},
			{"JSONBody", func(base string) *http.Request {
				body := `{"price":1,"amount":1,"unit_amount":1,"amount_total":1,"line_items":[{"price_data":{"unit_amount":1},"quantity":1}]}`
				r, _ := http.NewRequest(http.MethodPost, base+"/create-checkout-session/", strings.NewReader(body))
				r.Header.Set("Content-Type", "application/json")
				return r
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c := shop.client()
				c.addToCart("canvas-tote", 2)
				before := len(rt.recorded())
				req := tt.req(shop.srv.URL)
				req.Header.Set("Accept", "application/json")
				res, err := sendRaw(c, req)
				if err != nil {
					t.Fatal(err)
				}
				sessionID, _ := sessionAnswer(t, res)
				got := withoutOrderID(onlyCall(t, rt, before).Form)
				if !reflect.DeepEqual(got, reference) {
					t.Errorf("forged request changed what reached Stripe:\n got %v\nwant %v", got, reference)
				}
				o, err := shop.db.OrderBySession(ctx, sessionID)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := o.AmountTotal, 2*tote.Price; got != want {
					t.Errorf("order total %d, want %d", got, want)
				}
			})
		}
	})

	t.Run("AnswerShapes", func(t *testing.T) {
		t.Parallel()
		g, rt := newMockGateway(mock)
		shop := newTestShop(t, withCheckout(g))
		c := shop.client()
		u := c.signup("bob@example.com")
		for _, shape := range checkoutShapes {
			t.Run(shape.name, func(t *testing.T) {
				// A changed cart makes a new order: an unchanged one would reuse the open session.
				// The previous shape's session, which it replaces, is expired first.
				c.addToCart("field-notebook", 1)
				before := len(rt.recorded())
				res := c.post("/create-checkout-session/", nil, shape.headers...)
				if before > 0 {
					before++
				}
				onlyCall(t, rt, before)
				orders, err := shop.db.OrdersForUser(ctx, u.ID, 1)
				if err != nil || len(orders) == 0 {
					t.Fatalf("no order after checkout: %v", err)
				}
				o := orders[0]
				if !strings.HasPrefix(o.CheckoutSessionID, "cs_test_") || !strings.HasPrefix(o.CheckoutURL, "https://checkout.stripe.com/") {
					t.Fatalf("order %d has session %q, url %q; want stripe-mock's", o.ID, o.CheckoutSessionID, o.CheckoutURL)
				}
				switch shape.name {
				case "JSON":
					if got, want := res.Header.Get("Content-Type"), "application/json"; got != want {
						t.Errorf("Content-Type %q, want %q", got, want)
					}
					sessionID, checkoutURL := sessionAnswer(t, res)
					if sessionID != o.CheckoutSessionID || checkoutURL != o.CheckoutURL {
						t.Errorf("answer {%q, %q}, want the order's {%q, %q}", sessionID, checkoutURL, o.CheckoutSessionID, o.CheckoutURL)
					}
				case "HTMX":
					if got, want := res.StatusCode, http.StatusOK; got != want {
						t.Fatalf("status %d, want %d; body:\n%s", got, want, res.body)
					}
					if got, want := res.Header.Get("HX-Redirect"), o.CheckoutURL; got != want {
						t.Errorf("HX-Redirect %q, want %q", got, want)
					}
				case "Form":
					if got, want := res.StatusCode, http.StatusSeeOther; got != want {
						t.Fatalf("status %d, want %d; body:\n%s", got, want, res.body)
					}
					if got, want := res.Header.Get("Location"), o.CheckoutURL; got != want {
						t.Errorf("Location %q, want %q", got, want)
					}
				}
			})
		}
	})

	t.Run("OrderListedPendingAndCartKept", func(t *testing.T) {
		t.Parallel()
		g, _ := newMockGateway(mock)
		shop := newTestShop(t, withCheckout(g))
		c := shop.client()
		c.signup("cy@example.com")
		tote := c.addToCart("canvas-tote", 2)
		sessionID, _ := sessionAnswer(t, c.post("/create-checkout-session/", nil, "Accept", "application/json"))

		res := c.get("/orders", "Accept", "application/json")
		if got, want := res.StatusCode, http.StatusOK; got != want {
			t.Fatalf("GET /orders: status %d, want %d; body:\n%s", got, want, res.body)
		}
		var list struct {
			Orders []struct {
				ID                int64  `json:"id"`
				Status            string `json:"status"`
				AmountTotal       int64  `json:"amountTotal"`
				Currency          string `json:"currency"`
				CheckoutSessionID string `json:"checkoutSessionId"`
				Items             []struct {
					ProductID  int64  `json:"productId"`
					Name       string `json:"name"`
					Quantity   int    `json:"quantity"`
					UnitAmount int64  `json:"unitAmount"`
				} `json:"items"`
			} `json:"orders"`
		}
		if err := json.Unmarshal([]byte(res.body), &list); err != nil {
			t.Fatalf("GET /orders: %v\n%s", err, res.body)
		}
		if got, want := len(list.Orders), 1; got != want {
			t.Fatalf("%d orders listed, want %d:\n%s", got, want, res.body)
		}
		o := list.Orders[0]
		if got, want := o.Status, "pending"; got != want {
			t.Errorf("status %q, want %q", got, want)
		}
		if got, want := o.CheckoutSessionID, sessionID; got != want {
			t.Errorf("checkoutSessionId %q, want %q", got, want)
		}
		if got, want := fmt.Sprint(o.AmountTotal, o.Currency), fmt.Sprint(2*tote.Price, "usd"); got != want {
			t.Errorf("amount %s, want %s", got, want)
		}
		if len(o.Items) != 1 || o.Items[0].ProductID != tote.ID || o.Items[0].Name != tote.Name ||
			o.Items[0].Quantity != 2 || o.Items[0].UnitAmount != tote.Price {
			t.Errorf("items %+v, want 2 × %s at %d", o.Items, tote.Name, tote.Price)
		}

		page := c.get("/orders")
		if got, want := page.StatusCode, http.StatusOK; got != want {
			t.Fatalf("orders page: status %d, want %d", got, want)
		}
		for _, want := range []string{fmt.Sprintf("Order #%d", o.ID), "Awaiting payment", tote.Name} {
			if !strings.Contains(page.body, want) {
				t.Errorf("orders page lacks %q:\n%s", want, page.body)
			}
		}

		assertCartHolds(t, c, tote.Name, "$48.00")
	})

	t.Run("Config", func(t *testing.T) {
		t.Parallel()
		g, rt := newMockGateway(mock)
		shop := newTestShop(t, withCheckout(g))
		res := shop.client().get("/config/")
		if got, want := res.StatusCode, http.StatusOK; got != want {
			t.Fatalf("status %d, want %d", got, want)
		}
		if got, want := res.Header.Get("Content-Type"), "application/json"; got != want {
			t.Errorf("Content-Type %q, want %q", got, want)
		}
		var got map[string]string
		if err := json.Unmarshal([]byte(res.body), &got); err != nil {
			t.Fatalf("body %q: %v", res.body, err)
		}
		if want := map[string]string{"publicKey": "pk_test_123"}; !reflect.DeepEqual(got, want) {
			t.Errorf("config %v, want %v", got, want)
		}
		if n := len(rt.recorded()); n != 0 {
			t.Errorf("GET /config/ made %d Stripe requests", n)
		}
	})

	t.Run("StripeDown", func(t *testing.T) {
		t.Parallel()
		down := closedPortURL(t)
		downGateway, downRT := newMockGateway(down)
		provider := &swappableCheckout{cur: downGateway}
		shop := newTestShop(t, withCheckout(provider))
		c := shop.client()
		u := c.signup("dee@example.com")
		tote := c.addToCart("canvas-tote", 2)

		var failed []int64
		for _, shape := range checkoutShapes {
			t.Run(shape.name, func(t *testing.T) {
				before := len(downRT.recorded())
				res := c.post("/create-checkout-session/", nil, shape.headers...)
				if got, want := res.StatusCode, http.StatusBadGateway; got != want {
					t.Fatalf("status %d, want %d; body:\n%s", got, want, res.body)
				}
				onlyCall(t, downRT, before) // it did try to reach Stripe
				message := "could not reach our payment provider"
				if shape.name == "JSON" {
					var out struct{ Error string }
					if err := json.Unmarshal([]byte(res.body), &out); err != nil {
						t.Fatalf("JSON error body %q: %v", res.body, err)
					}
					if !strings.Contains(out.Error, message) {
						t.Errorf("error %q lacks %q", out.Error, message)
					}
				} else if !strings.Contains(res.body, message) {
					t.Errorf("body lacks %q:\n%s", message, res.body)
				}
				for _, raw := range []string{"dial tcp", "connection refused", strings.TrimPrefix(down, "http://"), "/v1/checkout/sessions"} {
					if strings.Contains(res.body, raw) {
						t.Errorf("body shows raw error text %q:\n%s", raw, res.body)
					}
				}

				orders, err := shop.db.OrdersForUser(ctx, u.ID, 1)
				if err != nil || len(orders) == 0 {
					t.Fatalf("no order after failed checkout: %v", err)
				}
				o := orders[0]
				for _, id := range failed {
					if o.ID == id {
						t.Fatalf("checkout reused failed order %d", id)
					}
				}
				failed = append(failed, o.ID)
				if got, want := o.Status, store.StatusFailed; got != want {
					t.Errorf("order status %q, want %q", got, want)
				}
				if n, err := shop.db.CartCount(ctx, store.CartRef{UserID: u.ID}); err != nil || n != 2 {
					t.Errorf("cart holds %d items (err %v), want 2", n, err)
				}
				line := logLineWith(shop.logs.String(), `msg="create checkout session"`, fmt.Sprintf("order_id=%d ", o.ID))
				if line == "" {
					t.Fatalf("no error log line for order %d:\n%s", o.ID, shop.logs.String())
				}
				for _, want := range []string{"level=ERROR", "error=", "stripe_request_id=", strings.TrimPrefix(down, "http://")} {
					if !strings.Contains(line, want) {
						t.Errorf("log line lacks %q: %s", want, line)
					}
				}
			})
		}
		assertCartHolds(t, c, tote.Name, "$48.00")

		t.Run("BackUp", func(t *testing.T) {
			up, upRT := newMockGateway(mock)
			provider.set(up)
			sessionID, _ := sessionAnswer(t, c.post("/create-checkout-session/", nil, "Accept", "application/json"))
			onlyCall(t, upRT, 0)
			o, err := shop.db.OrderBySession(ctx, sessionID)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range failed {
				if o.ID == id {
					t.Errorf("successful checkout reused failed order %d", id)
				}
				if got, want := shop.order(id).Status, store.StatusFailed; got != want {
					t.Errorf("failed order %d is now %q, want %q", id, got, want)
				}
			}
			if got, want := o.Status, store.StatusPending; got != want {
				t.Errorf("new order status %q, want %q", got, want)
			}
		})
	})
}

// sendRaw sends req with c's cookies, for requests the harness cannot shape; it never fails the test,
// so it is safe in goroutines.
func sendRaw(c *testClient, req *http.Request) (response, error) {
	res, err := c.http.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, err
	}
	return response{Response: res, body: string(b)}, nil
}

// logLineWith returns the first log line containing every one of parts, or "".
func logLineWith(logs string, parts ...string) string {
	for _, line := range strings.Split(logs, "\n") {
		ok := true
		for _, p := range parts {
			if !strings.Contains(line, p) {
				ok = false
				break
			}
		}
		if ok {
			return line
		}
	}
	return ""
}

// assertCartHolds checks that the client's cart page still lists product with the given total.
func assertCartHolds(t *testing.T, c *testClient, product, total string) {
	t.Helper()
	res := c.get("/cart")
	if got, want := res.StatusCode, http.StatusOK; got != want {
		t.Fatalf("GET /cart: status %d, want %d", got, want)
	}
	if strings.Contains(res.body, "Your cart is empty") || !strings.Contains(res.body, product) ||
		!strings.Contains(res.body, "Total <strong>"+total+"</strong>") {
		t.Errorf("cart page does not show %s with total %s:\n%s", product, total, res.body)
	}
}
