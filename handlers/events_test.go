package handlers

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/sessions"

	"storefront/store"
)

// liveWithin is how soon a committed change must reach an open stream.
const liveWithin = time.Second

func TestOrderEvents(t *testing.T) {
	t.Run("SnapshotFirst", func(t *testing.T) {
		shop := newTestShop(t)
		c := shop.client()
		c.signup("ann@example.com")
		c.addToCart("canvas-tote", 1)
		paid := c.checkout()
		shop.sendEvent("evt_snap_paid", "checkout.session.completed", sessionObject(paid, "paid"))
		c.addToCart("stoneware-mug", 2)
		pending := c.checkout()

		s := c.openOrderStream("/orders/events")
		if got, want := s.res.Header.Get("Content-Type"), "text/event-stream"; !strings.HasPrefix(got, want) {
			t.Errorf("Content-Type %q, want %q", got, want)
		}
		if got, want := s.res.Header.Get("Cache-Control"), "no-store"; got != want {
			t.Errorf("Cache-Control %q, want %q", got, want)
		}
		first := s.next(t, liveWithin)
		if ms, err := strconv.Atoi(first.Retry); err != nil || ms <= 0 {
			t.Errorf("first message has retry %q, want a positive number of milliseconds before any data", first.Retry)
		}
		if first.HasData {
			t.Errorf("first message carries data before the retry field: %q", first.Data)
		}
		snap := s.nextData(t, liveWithin)
		for _, want := range []string{
			fmt.Sprintf(`id="order-%d"`, paid.ID), fmt.Sprintf(`id="order-%d"`, pending.ID),
			`data-status="paid"`, `data-status="pending"`, ">Paid<", ">Awaiting payment<",
		} {
			if !strings.Contains(snap.Data, want) {
				t.Errorf("snapshot lacks %s:\n%s", want, snap.Data)
			}
		}
	})

	t.Run("PaidReachesOwnerOnly", func(t *testing.T) {
		shop := newTestShop(t)
		ann, bob := shop.client(), shop.client()
		ann.signup("ann@example.com")
		bob.signup("bob@example.com")
		ann.addToCart("canvas-tote", 2)
		bob.addToCart("stoneware-mug", 1)
		o := ann.checkout()
		bobs := bob.checkout()

		annStream := ann.openOrderStream("/orders/events")
		bobStream := bob.openOrderStream("/orders/events")
		if snap := annStream.nextData(t, liveWithin); !strings.Contains(snap.Data, fmt.Sprintf(`id="order-%d"`, o.ID)) {
			t.Fatalf("ann's snapshot lacks her order %d:\n%s", o.ID, snap.Data)
		}
		if snap := bobStream.nextData(t, liveWithin); !strings.Contains(snap.Data, fmt.Sprintf(`id="order-%d"`, bobs.ID)) {
			t.Fatalf("bob's snapshot lacks his order %d:\n%s", bobs.ID, snap.Data)
		}

		start := time.Now()
		shop.sendEvent("evt_live_paid", "checkout.session.completed", sessionObject(o, "paid"))
		msg := annStream.nextData(t, liveWithin-time.Since(start))
		for _, want := range []string{
			fmt.Sprintf(`id="order-%d"`, o.ID), `data-status="paid"`, `class="status status-paid"`, ">Paid<",
			`id="cart-link"`, `hx-swap-oob="true"`, `data-count="0"`,
		} {
			if !strings.Contains(msg.Data, want) {
				t.Errorf("live message lacks %s:\n%s", want, msg.Data)
			}
		}
		if strings.Contains(msg.Data, fmt.Sprintf(`id="order-%d"`, bobs.ID)) {
			t.Errorf("ann's live message carries bob's order:\n%s", msg.Data)
		}
		// Publishing happens before the webhook answers, so by now bob's stream would have it.
		if m, ok := bobStream.quiet(max(liveWithin-time.Since(start), 200*time.Millisecond)); ok {
			t.Errorf("bob's stream received a message about someone else's order: %+v", m)
		}
	})

	t.Run("Refused", func(t *testing.T) {
		shop := newTestShop(t)
		ann, bob, anon := shop.client(), shop.client(), shop.client()
		ann.signup("ann@example.com")
		bob.signup("bob@example.com")
		ann.addToCart("canvas-tote", 1)
		o := ann.checkout()
		cases := []struct {
			name   string
			client *testClient
			path   string
			status int
		}{
			{"AnonymousUserStream", anon, "/orders/events", http.StatusUnauthorized},
			{"OtherUsersSession", bob, "/orders/events?session_id=" + url.QueryEscape(o.CheckoutSessionID), http.StatusNotFound},
			{"AnonymousForUsersSession", anon, "/orders/events?session_id=" + url.QueryEscape(o.CheckoutSessionID), http.StatusNotFound},
			{"UnknownSession", bob, "/orders/events?session_id=cs_test_nosuchsession", http.StatusNotFound},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res := tc.client.get(tc.path)
				if got, want := res.StatusCode, tc.status; got != want {
					t.Fatalf("status %d, want %d; body:\n%s", got, want, res.body)
				}
				if got, want := res.Header.Get("HX-Reswap"), "none"; got != want {
					t.Errorf("HX-Reswap %q, want %q", got, want)
				}
				if ct := res.Header.Get("Content-Type"); strings.HasPrefix(ct, "text/event-stream") {
					t.Errorf("refusal answered as an event stream (%q)", ct)
				}
				if strings.Contains(res.body, o.CheckoutSessionID) || strings.Contains(res.body, "order-status") {
					t.Errorf("refusal leaks the order:\n%s", res.body)
				}
			})
		}
		// The owner may follow her own checkout.
		s := ann.openOrderStream("/orders/events?session_id=" + url.QueryEscape(o.CheckoutSessionID))
		if snap := s.nextData(t, liveWithin); !strings.Contains(snap.Data, `id="order-status"`) {
			t.Errorf("owner's session stream snapshot lacks the status panel:\n%s", snap.Data)
		}
	})

	t.Run("GuestSuccessStream", func(t *testing.T) {
		shop := newTestShop(t)
		guest := shop.client()
		guest.addToCart("canvas-tote", 1)
		o := guest.checkout()
		if o.UserID != 0 {
			t.Fatalf("guest order has user %d", o.UserID)
		}
		s := guest.openOrderStream("/orders/events?session_id=" + url.QueryEscape(o.CheckoutSessionID))
		snap := s.nextData(t, liveWithin)
		for _, want := range []string{`id="order-status"`, `data-status="pending"`, "Awaiting payment confirmation"} {
			if !strings.Contains(snap.Data, want) {
				t.Errorf("snapshot lacks %s:\n%s", want, snap.Data)
			}
		}

		// A bank transfer: completed but unpaid, then paid later.
		start := time.Now()
		shop.sendEvent("evt_guest_completed", "checkout.session.completed", sessionObject(o, "unpaid"))
		msg := s.nextData(t, liveWithin-time.Since(start))
		for _, want := range []string{`id="order-status"`, `data-status="processing"`, "<h2>", "Processing"} {
			if !strings.Contains(msg.Data, want) {
				t.Errorf("processing message lacks %s:\n%s", want, msg.Data)
			}
		}

		start = time.Now()
		shop.sendEvent("evt_guest_async_paid", "checkout.session.async_payment_succeeded", sessionObject(o, "paid"))
		msg = s.nextData(t, liveWithin-time.Since(start))
		// The order summary is resent too, now with the payment time and the receipt address.
		for _, want := range []string{`id="order-status"`, `data-status="paid"`, "<h2>Paid</h2>", `hx-swap-oob="true"`, `data-count="0"`,
			`id="order-details"`, "<dt>Paid</dt>", "buyer@example.com"} {
			if !strings.Contains(msg.Data, want) {
				t.Errorf("paid message lacks %s:\n%s", want, msg.Data)
			}
		}
		if strings.Contains(msg.Data, `class="order-row"`) {
			t.Errorf("success-page stream sent an orders-page row:\n%s", msg.Data)
		}
	})

	t.Run("ShopDoneEndsStreams", func(t *testing.T) {
		shop := newTestShop(t)
		ann, guest := shop.client(), shop.client()
		ann.signup("ann@example.com")
		guest.addToCart("canvas-tote", 1)
		o := guest.checkout()
		streams := map[string]*sseTestStream{
			"user":    ann.openOrderStream("/orders/events"),
			"session": guest.openOrderStream("/orders/events?session_id=" + url.QueryEscape(o.CheckoutSessionID)),
		}
		for _, s := range streams {
			s.next(t, liveWithin) // the retry field: connected and subscribed
		}
		close(shop.done)
		for name, s := range streams {
			if err := s.waitEnd(time.Second); err != nil {
				t.Errorf("%s stream: %v", name, err)
			}
		}
	})

	t.Run("ServerShutdownWithOpenStreams", func(t *testing.T) {
		shop := newTestShop(t)
		base, srv, done := startEventsTestServer(t, shop)
		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		postEventsTestForm(t, browser, base+"/signup", url.Values{"email": {"ann@example.com"}, "password": {"correct horse"}}, http.StatusSeeOther)
		p, err := shop.db.ProductBySlug(context.Background(), "canvas-tote")
		if err != nil {
			t.Fatal(err)
		}
		postEventsTestForm(t, browser, base+"/cart/items", url.Values{"product_id": {fmt.Sprint(p.ID)}, "quantity": {"1"}}, http.StatusSeeOther)
		var cs struct{ SessionID string }
		body := postEventsTestForm(t, browser, base+"/create-checkout-session/", url.Values{}, http.StatusOK, "Accept", "application/json")
		if err := json.Unmarshal([]byte(body), &cs); err != nil || cs.SessionID == "" {
			t.Fatalf("checkout answer %q: %v", body, err)
		}
		var streams []*sseTestStream
		for range 3 {
			streams = append(streams,
				openSSETestStream(t, browser, base+"/orders/events"),
				openSSETestStream(t, browser, base+"/orders/events?session_id="+url.QueryEscape(cs.SessionID)))
		}
		for _, s := range streams {
			s.nextData(t, liveWithin)
		}

		// The order run uses: end the streams, then shut down with a 10 s grace.
		start := time.Now()
		close(done)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = srv.Shutdown(ctx)
		elapsed := time.Since(start)
		if err != nil {
			t.Fatalf("Shutdown with open streams: %v after %v", err, elapsed)
		}
		if elapsed > 2*time.Second {
			t.Errorf("Shutdown took %v with open streams, want well under 10 s", elapsed)
		}
		for i, s := range streams {
			if err := s.waitEnd(time.Second); err != nil {
				t.Errorf("stream %d: %v", i, err)
			}
		}
	})
}

// sseTestMessage is one dispatched block of an event stream.
type sseTestMessage struct {
	Retry   string // the retry field, if the block had one
	Data    string // data lines joined by newlines
	HasData bool
}

// readSSETestMessage reads the next block that carries data or a retry field, skipping
// comments (heartbeats) and empty blocks, as an EventSource would.
func readSSETestMessage(r *bufio.Reader) (sseTestMessage, error) {
	var (
		m    sseTestMessage
		data []string
		seen bool
	)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return m, err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			if seen {
				m.Data, m.HasData = strings.Join(data, "\n"), len(data) > 0
				return m, nil
			}
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "data":
			data, seen = append(data, value), true
		case "retry":
			m.Retry, seen = value, true
		}
	}
}

// sseTestStream is an open event stream read in the background, message by message.
type sseTestStream struct {
	res    *http.Response
	msgs   chan sseTestMessage // closed when the stream ends
	err    error               // why it ended; read only after msgs is closed
	cancel context.CancelFunc
}

// openOrderStream opens an event stream with the client's cookies and fails the test unless
// it is answered 200.
func (c *testClient) openOrderStream(path string) *sseTestStream {
	c.t.Helper()
	streamClient := &http.Client{Jar: c.http.Jar, CheckRedirect: c.http.CheckRedirect} // no timeout: streams last
	return openSSETestStream(c.t, streamClient, c.shop.srv.URL+path)
}

func openSSETestStream(t *testing.T, client *http.Client, rawURL string) *sseTestStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	res, err := client.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		cancel()
		t.Fatalf("GET %s: status %d, body:\n%s", rawURL, res.StatusCode, b)
	}
	s := &sseTestStream{res: res, msgs: make(chan sseTestMessage, 64), cancel: cancel}
	go func() {
		defer close(s.msgs)
		defer res.Body.Close()
		r := bufio.NewReader(res.Body)
		for {
			m, err := readSSETestMessage(r)
			if err != nil {
				s.err = err
				return
			}
			select {
			case s.msgs <- m:
			case <-ctx.Done():
				s.err = ctx.Err()
				return
			}
		}
	}()
	t.Cleanup(cancel)
	return s
}

// next returns the next message, failing the test if none arrives within d.
func (s *sseTestStream) next(t *testing.T, d time.Duration) sseTestMessage {
	t.Helper()
	timer := time.NewTimer(max(d, 0))
	defer timer.Stop()
	select {
	case m, ok := <-s.msgs:
		if !ok {
			t.Fatalf("stream ended (%v) while waiting for a message", s.err)
		}
		return m
	case <-timer.C:
		t.Fatalf("no message within %v", d)
	}
	return sseTestMessage{}
}

// nextData returns the next message that carries data, failing the test if none arrives within d.
func (s *sseTestStream) nextData(t *testing.T, d time.Duration) sseTestMessage {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		if m := s.next(t, time.Until(deadline)); m.HasData {
			return m
		}
	}
}

// quiet reports the first data message arriving within d, if any.
func (s *sseTestStream) quiet(d time.Duration) (sseTestMessage, bool) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case m, ok := <-s.msgs:
			if !ok {
				return sseTestMessage{}, false
			}
			if m.HasData {
				return m, true
			}
		case <-timer.C:
			return sseTestMessage{}, false
		}
	}
}

// waitEnd drains the stream until the server ends it, or fails after d.
func (s *sseTestStream) waitEnd(d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case _, ok := <-s.msgs:
			if !ok {
				if errors.Is(s.err, io.EOF) {
					return nil
				}
				return fmt.Errorf("stream broke instead of ending: %w", s.err)
			}
		case <-timer.C:
			return fmt.Errorf("still open %v after shutdown began", d)
		}
	}
}

// startEventsTestServer serves the shop's database, fake checkout and feed from a real
// http.Server, as run does, so that its Shutdown can be observed with open streams.
func startEventsTestServer(t *testing.T, shop *testShop) (base string, srv *http.Server, done chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base = "http://" + ln.Addr().String()
	baseURL, _ := url.Parse(base)
	cookies := sessions.NewCookieStore([]byte("fedcba9876543210fedcba9876543210"), []byte("9876543210fedcba9876543210fedcba"))
	cookies.Options = &sessions.Options{Path: "/", MaxAge: 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode}
	done = make(chan struct{})
	srv = &http.Server{
		Handler: NewServer(Deps{
			Store: shop.db, Payments: shop.fake, Broker: shop.broker, Sessions: cookies,
			Logger:  slog.New(slog.NewTextHandler(shop.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			BaseURL: baseURL, WebhookSecrets: []string{testSecret}, Done: done,
		}),
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      30 * time.Second,
	}
	go srv.Serve(ln)
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			close(done)
		}
		srv.Close()
	})
	return base, srv, done
}

// postEventsTestForm posts a form, checks the status and returns the body.
func postEventsTestForm(t *testing.T, client *http.Client, rawURL string, form url.Values, status int, headers ...string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := client.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatalf("POST %s: %v", rawURL, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != status {
		t.Fatalf("POST %s: status %d, want %d; body:\n%s", rawURL, res.StatusCode, status, b)
	}
	return string(b)
}

// TestChangeRenderedOncePerView: a change watched by many streams of one view is rendered once;
// a change the memo no longer holds is still rendered for whoever asks.
func TestChangeRenderedOncePerView(t *testing.T) {
	var m renderMemo
	o := &store.Order{ID: 1}
	m.add(o)
	var renders atomic.Int32
	render := func(buf *bytes.Buffer) error { renders.Add(1); buf.WriteString("data: x\n\n"); return nil }
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if msg, err := m.message(o, viewOrderRow, 0, render); err != nil || string(msg) != "data: x\n\n" {
				t.Errorf("message %q, %v", msg, err)
			}
		}()
	}
	wg.Wait()
	m.message(o, viewStatusPanel, 0, render)
	if got := renders.Load(); got != 2 {
		t.Errorf("rendered %d times for 100 streams of one view and 1 of another, want 2", got)
	}
	for i := range len(m.recent) {
		m.add(&store.Order{ID: int64(i + 2)})
	}
	if msg, _ := m.message(o, viewOrderRow, 0, render); string(msg) != "data: x\n\n" || renders.Load() != 3 {
		t.Errorf("an evicted change: message %q after %d renders, want it rendered again", msg, renders.Load())
	}
}
