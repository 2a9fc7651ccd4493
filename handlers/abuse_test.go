package handlers

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// TestBodiesAreCapped sends forms far larger than any form of the shop: each is refused with 413
// before it is read whole, and nothing is written or spooled to disk.
func TestBodiesAreCapped(t *testing.T) {
	shop := newTestShop(t)
	db := shop.sql(t)
	c := shop.client()

	big := url.Values{"email": {strings.Repeat("a", 100<<10) + "@example.com"}, "password": {"whatever1"}}
	for _, path := range []string{"/login", "/signup", "/cart/items"} {
		if res := c.post(path, big); res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("POST %s with a 100 KiB form: status %d, want 413", path, res.StatusCode)
		}
	}

	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // multipart files beyond the in-memory limit would be spooled here
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("product_id", "1")
	part, _ := mw.CreateFormFile("upload", "big.bin")
	part.Write(bytes.Repeat([]byte{'x'}, 8<<20))
	mw.Close()
	req := c.request(http.MethodPost, "/cart/items", nil)
	req.Body = io.NopCloser(&body)
	req.ContentLength = int64(body.Len())
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("8 MiB multipart POST /cart/items: status %d, want 413", res.StatusCode)
	}
	if spooled, _ := os.ReadDir(tmp); len(spooled) > 0 {
		t.Errorf("the upload was spooled to %d temporary files", len(spooled))
	}
	if got := sqlInt(t, db, "SELECT count(*) FROM users") + sqlInt(t, db, "SELECT count(*) FROM cart_items"); got != 0 {
		t.Errorf("refused bodies wrote %d rows", got)
	}
	// A form of ordinary size still works.
	if res := c.post("/cart/items", url.Values{"product_id": {fmt.Sprint(productID(t, shop, "canvas-tote"))}, "quantity": {"1"}}); res.StatusCode >= 400 {
		t.Errorf("an ordinary add to cart: status %d", res.StatusCode)
	}
}

// TestWritesWithoutLoginAreLimited: sign-ups, new anonymous carts and checkouts are limited per
// address, with 429 and Retry-After; another address is not affected.
func TestWritesWithoutLoginAreLimited(t *testing.T) {
	t.Parallel()

	t.Run("Signups", func(t *testing.T) {
		shop := newTestShop(t)
		for i := range signupPerAddress {
			res := shop.serveFrom("192.0.2.1:1", http.MethodPost, "/signup", credentials(fmt.Sprintf("u%d@example.com", i), testPassword))
			if res.Code != http.StatusSeeOther {
				t.Fatalf("sign-up %d: status %d, want 303", i+1, res.Code)
			}
		}
		res := shop.serveFrom("192.0.2.1:1", http.MethodPost, "/signup", credentials("one-more@example.com", testPassword))
		if res.Code != http.StatusTooManyRequests || res.Header().Get("Retry-After") == "" {
			t.Errorf("sign-up over the limit: status %d, Retry-After %q; want 429 with Retry-After", res.Code, res.Header().Get("Retry-After"))
		}
		if res := shop.serveFrom("192.0.2.2:1", http.MethodPost, "/signup", credentials("elsewhere@example.com", testPassword)); res.Code != http.StatusSeeOther {
			t.Errorf("sign-up from another address: status %d, want 303", res.Code)
		}
		if got := sqlInt(t, shop.sql(t), "SELECT count(*) FROM users"); got != signupPerAddress+1 {
			t.Errorf("%d accounts, want %d", got, signupPerAddress+1)
		}
	})

	t.Run("AnonymousCarts", func(t *testing.T) {
		shop := newTestShop(t)
		add := url.Values{"product_id": {fmt.Sprint(productID(t, shop, "canvas-tote"))}, "quantity": {"1"}}
		for i := range cartsPerAddr {
			if res := shop.serveFrom("192.0.2.1:1", http.MethodPost, "/cart/items", add); res.Code >= 400 {
				t.Fatalf("new cart %d: status %d", i+1, res.Code)
			}
		}
		if res := shop.serveFrom("192.0.2.1:1", http.MethodPost, "/cart/items", add); res.Code != http.StatusTooManyRequests || res.Header().Get("Retry-After") == "" {
			t.Errorf("a new cart over the limit: status %d, want 429 with Retry-After", res.Code)
		}
		if got := sqlInt(t, shop.sql(t), "SELECT count(*) FROM carts"); got != cartsPerAddr {
			t.Errorf("%d carts, want %d", got, cartsPerAddr)
		}
		// A shopper who already has a cart keeps using it.
		c := shop.client()
		c.addToCart("canvas-tote", 1)
		c.addToCart("stoneware-mug", 1)
	})

	t.Run("Checkouts", func(t *testing.T) {
		shop := newTestShop(t)
		c := shop.client()
		c.addToCart("canvas-tote", 1)
		for i := range checkoutsPerIP {
			c.addToCart("stoneware-mug", 1) // a changed cart is a new checkout
			if res := c.post("/create-checkout-session/", nil); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("checkout %d: status %d, want 303", i+1, res.StatusCode)
			}
		}
		c.addToCart("stoneware-mug", 1)
		res := c.post("/create-checkout-session/", nil)
		if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
			t.Errorf("checkout over the limit: status %d, want 429 with Retry-After", res.StatusCode)
		}
		if got := len(shop.fake.calls()); got != checkoutsPerIP {
			t.Errorf("%d Checkout Sessions created, want %d", got, checkoutsPerIP)
		}
	})
}

// streamStatus opens an event stream with the client's cookies and returns the answer's status
// and Retry-After, closing the stream again unless keep is set.
func (c *testClient) streamStatus(path string) (int, string) {
	c.t.Helper()
	req := c.request(http.MethodGet, path, nil, "Accept", "text/event-stream")
	res, err := (&http.Client{Jar: c.http.Jar}).Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode, res.Header.Get("Retry-After")
}

// TestEventStreamsAreCapped: per user, per address and in all; over a cap 429 with Retry-After,
// and a closed stream gives its place back.
func TestEventStreamsAreCapped(t *testing.T) {
	t.Parallel()

	t.Run("PerUser", func(t *testing.T) {
		shop := newTestShop(t)
		c := shop.client()
		c.signup("streams@example.com")
		var open []*sseTestStream
		for range streamsPerUser {
			open = append(open, c.openOrderStream("/orders/events"))
		}
		if status, retry := c.streamStatus("/orders/events"); status != http.StatusTooManyRequests || retry == "" {
			t.Fatalf("stream %d of one user: status %d, Retry-After %q; want 429 with Retry-After", streamsPerUser+1, status, retry)
		}
		other := shop.client()
		other.signup("other@example.com")
		other.openOrderStream("/orders/events") // another user is not affected

		open[0].cancel()
		waitFor(t, "a closed stream to give its place back", func() bool {
			status, _ := c.streamStatus("/orders/events")
			return status == http.StatusOK
		})
	})

	t.Run("PerAddress", func(t *testing.T) {
		shop := newTestShop(t)
		for i := range streamsPerAddress / streamsPerUser {
			c := shop.client()
			c.signup(fmt.Sprintf("u%d@example.com", i))
			for range streamsPerUser {
				c.openOrderStream("/orders/events")
			}
		}
		c := shop.client()
		c.signup("late@example.com")
		if status, retry := c.streamStatus("/orders/events"); status != http.StatusTooManyRequests || retry == "" {
			t.Errorf("stream %d from one address: status %d, Retry-After %q; want 429", streamsPerAddress+1, status, retry)
		}
	})

	t.Run("InAll", func(t *testing.T) {
		shop := newTestShop(t, func(d *Deps) { d.MaxStreams = 3 })
		for i := range 3 {
			c := shop.client()
			c.signup(fmt.Sprintf("u%d@example.com", i))
			c.openOrderStream("/orders/events")
		}
		c := shop.client()
		c.signup("fourth@example.com")
		if status, _ := c.streamStatus("/orders/events"); status != http.StatusTooManyRequests {
			t.Errorf("stream over MAX_STREAMS: status %d, want 429", status)
		}
		if res := c.get("/healthz"); res.StatusCode != http.StatusOK {
			t.Errorf("/healthz with every stream taken: %d", res.StatusCode)
		}
	})
}

// TestLogoutEndsStreams: a page left open after logout stops following the account, and is not
// sent the account's next order.
func TestLogoutEndsStreams(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t)
	c := shop.client()
	c.signup("leaving@example.com")
	c.addToCart("canvas-tote", 1)
	o := c.checkout()
	orders := c.openOrderStream("/orders/events")
	orders.nextData(t, 5*time.Second) // the current state
	success := c.openOrderStream("/orders/events?session_id=" + o.CheckoutSessionID)
	success.nextData(t, 5*time.Second)

	if res := c.post("/logout", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: status %d", res.StatusCode)
	}
	for name, st := range map[string]*sseTestStream{"orders": orders, "success": success} {
		timeout := time.After(10 * time.Second)
	read:
		for {
			select {
			case m, open := <-st.msgs:
				if !open {
					break read
				}
				if m.HasData {
					t.Errorf("%s stream got data after logout: %q", name, m.Data)
				}
			case <-timeout:
				t.Fatalf("the %s stream is still open 10s after logout", name)
			}
		}
	}
	// The streams have ended (msgs closed) before the order is paid: nothing can reach them.
	shop.sendEvent("evt_after_logout", "checkout.session.completed", sessionObject(o, "paid"))
}

// TestClientHangingUpIsNoServerError: a request whose client has gone is not logged as an error.
func TestClientHangingUpIsNoServerError(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t)
	c := shop.client()
	c.signup("gone@example.com")
	for _, path := range []string{"/", "/orders", "/cart"} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		req := c.request(http.MethodGet, path, nil).WithContext(ctx)
		for _, ck := range c.http.Jar.Cookies(req.URL) {
			req.AddCookie(ck)
		}
		rec := httptest.NewRecorder()
		shop.srv.Config.Handler.ServeHTTP(rec, req)
	}
	if logs := shop.logs.String(); strings.Contains(logs, "level=ERROR") {
		t.Errorf("a client hanging up was logged as an error:\n%s", logs)
	}
}

// TestLimitsBehindAProxy: behind the shop's own reverse proxy, limits apply per shopper (the
// address the proxy forwards); a forwarded address from anyone else is ignored.
func TestLimitsBehindAProxy(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t, func(d *Deps) { d.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")} })
	login := func(peer, forwarded string) int {
		req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(credentials("x@example.com", "guess").Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", forwarded)
		req.RemoteAddr = peer
		rec := httptest.NewRecorder()
		shop.srv.Config.Handler.ServeHTTP(rec, req)
		return rec.Code
	}
	for range loginPerAddress {
		login("10.0.0.1:5000", "1.2.3.4, 198.51.100.1") // the client wrote 1.2.3.4; the proxy added the real one
	}
	if got := login("10.0.0.1:5000", "198.51.100.1"); got != http.StatusTooManyRequests {
		t.Errorf("the same shopper through the proxy: %d, want 429", got)
	}
	if got := login("10.0.0.1:5000", "198.51.100.2"); got == http.StatusTooManyRequests {
		t.Errorf("another shopper through the same proxy was limited")
	}
	// Not the proxy: X-Forwarded-For is the client's own claim, and the peer is limited.
	for range loginPerAddress {
		login("192.0.2.9:1", fmt.Sprint("203.0.113.", 1))
	}
	if got := login("192.0.2.9:1", "203.0.113.99"); got != http.StatusTooManyRequests {
		t.Errorf("a client forging X-Forwarded-For escaped its limit: %d", got)
	}
}
