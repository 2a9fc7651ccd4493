package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"storefront/store"
)

// TestConcurrentCheckouts runs 200 guests through the whole purchase at once against run with
// the checkout simulator: add to cart, check out, pay with the 4242 card on the hosted page.
// Checkouts interleave with the webhooks the simulator sends for the earlier ones. Nothing may
// answer 5xx, SQLite must never report itself busy, and every order must end paid.
func TestConcurrentCheckouts(t *testing.T) {
	if testing.Short() {
		t.Skip("200 concurrent checkouts; skipped with -short")
	}
	const guests = 200
	// Shoppers come through a reverse proxy, each from an address of their own, as in a
	// deployment: the per-address limits apply to each of them, not to the proxy.
	shop := startShop(t, map[string]string{"TRUSTED_PROXIES": "127.0.0.1"})
	productIDs := concProductIDs(t, shop.URL)

	transport := &http.Transport{MaxIdleConns: 0, MaxIdleConnsPerHost: guests}
	defer transport.CloseIdleConnections()
	var (
		mu        sync.Mutex
		failures  []string
		sessionOf = make([]string, guests)
		pages     = make([]string, guests)
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, fmt.Sprintf(format, args...))
	}
	var wg sync.WaitGroup
	for i := range guests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := newConcGuest(transport)
			productID := productIDs[i%len(productIDs)]
			res, _, err := g.send(http.MethodPost, shop.URL+"/cart/items", url.Values{"product_id": {productID}, "quantity": {fmt.Sprint(1 + i%3)}}, nil)
			if err != nil || res.StatusCode != http.StatusSeeOther {
				fail("guest %d: add to cart: %v %v", i, concStatus(res), err)
				return
			}
			res, body, err := g.send(http.MethodPost, shop.URL+"/create-checkout-session/", url.Values{}, map[string]string{"Accept": "application/json"})
			if err != nil || res.StatusCode != http.StatusOK {
				fail("guest %d: checkout: %v %v %s", i, concStatus(res), err, body)
				return
			}
			var started struct{ SessionID, URL string }
			if err := json.Unmarshal([]byte(body), &started); err != nil || started.URL == "" {
				fail("guest %d: checkout answered %s", i, body)
				return
			}
			pay := url.Values{"email": {fmt.Sprintf("guest%d@example.com", i)}, "method": {"card"},
				"card_number": {"4242424242424242"}, "expiry": {"12/34"}, "cvc": {"123"}}
			res, body, err = g.send(http.MethodPost, started.URL, pay, nil)
			if err != nil || res.StatusCode != http.StatusSeeOther {
				fail("guest %d: pay on the hosted page: %v %v %s", i, concStatus(res), err, body)
				return
			}
			success := res.Header.Get("Location")
			res, _, err = g.send(http.MethodGet, success, nil, nil)
			if err != nil || res.StatusCode != http.StatusOK {
				fail("guest %d: success page %s: %v %v", i, success, concStatus(res), err)
				return
			}
			sessionOf[i], pages[i] = started.SessionID, success
		}()
	}
	wg.Wait()
	for _, f := range failures {
		t.Error(f)
	}
	if t.Failed() {
		t.FailNow()
	}

	// The simulator delivers the webhooks in the background; each success page turns paid.
	deadline := time.Now().Add(30 * time.Second)
	g := newConcGuest(transport)
	for i, page := range pages {
		for {
			res, body, err := g.send(http.MethodGet, page, nil, nil)
			if err != nil || res.StatusCode != http.StatusOK {
				t.Fatalf("success page of guest %d: %v %v", i, concStatus(res), err)
			}
			if strings.Contains(body, `id="order-status" data-status="paid"`) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("guest %d: order not paid within 30 s; success page says:\n%s", i, concStatusPanel(body))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	if err := shop.stop(); err != nil {
		t.Fatal(err)
	}
	logs := shop.logs.String()
	// status=5 is a 5xx in the request log; the others are failed or refused webhooks.
	for _, bad := range []string{"SQLITE_BUSY", "database is locked", "status=5", "webhook not stored", "webhook delivery failed", "webhook refused"} {
		if strings.Contains(logs, bad) {
			t.Errorf("the shop's log contains %q", bad)
		}
	}
	db, err := store.Open(context.Background(), filepath.Join(shop.Dir, "storefront.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i, sid := range sessionOf {
		o, err := db.OrderBySession(context.Background(), sid)
		if err != nil {
			t.Fatalf("guest %d: %v", i, err)
		}
		if o.Status != store.StatusPaid {
			t.Errorf("guest %d: order %d is %s, want paid", i, o.ID, o.Status)
		}
	}
}

// concGuest is a shopper with a cookie jar who does not follow redirects.
type concGuest struct {
	http *http.Client
	addr string // the shopper's address, as the reverse proxy reports it
}

func newConcGuest(transport http.RoundTripper) *concGuest {
	jar, _ := cookiejar.New(nil)
	b := make([]byte, 2)
	rand.Read(b)
	return &concGuest{http: &http.Client{Jar: jar, Transport: transport, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		addr: fmt.Sprintf("10.1.%d.%d", b[0], b[1])}
}

// send makes a request (a form POST when form is not nil) and reads the answer; any 5xx is an error.
func (g *concGuest) send(method, target string, form url.Values, headers map[string]string) (*http.Response, string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		return nil, "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("X-Forwarded-For", g.addr)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := g.http.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err == nil && res.StatusCode >= 500 {
		err = fmt.Errorf("%s %s answered %d", method, target, res.StatusCode)
	}
	return res, string(b), err
}

func concStatus(res *http.Response) any {
	if res == nil {
		return "no response"
	}
	return res.StatusCode
}

var concProductIDField = regexp.MustCompile(`name="product_id" value="(\d+)"`)

// concProductIDs reads the products on offer from the catalogue page, as a browser would.
func concProductIDs(t *testing.T, shopURL string) []string {
	t.Helper()
	res, err := http.Get(shopURL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var ids []string
	for _, m := range concProductIDField.FindAllStringSubmatch(string(b), -1) {
		ids = append(ids, m[1])
	}
	if len(ids) == 0 {
		t.Fatalf("no add-to-cart forms on the catalogue:\n%s", b)
	}
	return ids
}

var concStatusPanelRe = regexp.MustCompile(`(?s)<div class="status-panel.*?</div>`)

func concStatusPanel(page string) string {
	if m := concStatusPanelRe.FindString(page); m != "" {
		return m
	}
	return page
}
