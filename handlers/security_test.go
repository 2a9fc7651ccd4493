package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// crossSite are the headers a browser sends with a form posted from another website.
var crossSite = []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}

// shopPages fetches a set of pages and fragments a shopper can reach: anonymous, logged in with
// a cart and an order, error pages, and refused forms.
func shopPages(t *testing.T, shop *testShop) map[string]response {
	t.Helper()
	anon := shop.client()
	user := shop.client()
	user.signup("gil@example.com")
	user.addToCart("canvas-tote", 1)
	o := user.checkout()
	user.addToCart("stoneware-mug", 2)
	mug := productID(t, shop, "stoneware-mug")
	htmx := []string{"HX-Request", "true"}

	return map[string]response{
		"catalogue":             anon.get("/"),
		"catalogue logged in":   user.get("/"),
		"product":               anon.get("/products/canvas-tote"),
		"unknown product":       anon.get("/products/no-such-thing"),
		"unknown page":          anon.get("/no-such-page"),
		"signup":                anon.get("/signup"),
		"login":                 anon.get("/login?next=%2Forders"),
		"refused signup":        anon.post("/signup", credentials("not-an-email", "short")),
		"refused login":         anon.post("/login", credentials("gil@example.com", "wrong password")),
		"refused signup (htmx)": anon.post("/signup", credentials("not-an-email", "short"), htmx...),
		"empty cart":            anon.get("/cart"),
		"cart":                  user.get("/cart"),
		"cart badge":            user.get("/cart/badge"),
		"refused add":           anon.post("/cart/items", url.Values{"product_id": {fmt.Sprint(mug)}, "quantity": {"0"}}),
		"refused add (htmx)":    anon.post("/cart/items", url.Values{"product_id": {fmt.Sprint(mug)}, "quantity": {"0"}}, htmx...),
		"added (htmx)":          anon.post("/cart/items", url.Values{"product_id": {fmt.Sprint(mug)}, "quantity": {"1"}}, htmx...),
		"refused update":        user.post(fmt.Sprintf("/cart/items/%d", mug), url.Values{"quantity": {"abc"}}),
		"updated (htmx)":        user.post(fmt.Sprintf("/cart/items/%d", mug), url.Values{"quantity": {"3"}}, htmx...),
		"orders":                user.get("/orders"),
		"order":                 user.get(fmt.Sprintf("/orders/%d", o.ID)),
		"success":               user.get("/success/?session_id=" + url.QueryEscape(o.CheckoutSessionID)),
		"cancelled":             user.get("/cancelled/"),
		"cross-site post":       user.post("/cart/items", url.Values{"product_id": {fmt.Sprint(mug)}, "quantity": {"1"}}, crossSite...),
		"orders anonymous":      shop.client().get("/orders"), // a redirect
		"healthz":               anon.get("/healthz"),
		"stylesheet":            anon.get("/assets/app.css"),
		"empty checkout":        anon.post("/create-checkout-session/", nil),
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t)
	for name, res := range shopPages(t, shop) {
		csp := res.Header.Get("Content-Security-Policy")
		if csp == "" {
			t.Errorf("%s: no Content-Security-Policy", name)
			continue
		}
		for _, banned := range []string{"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'"} {
			if strings.Contains(csp, banned) {
				t.Errorf("%s: Content-Security-Policy allows %s: %s", name, banned, csp)
			}
		}
		directives := map[string]string{}
		for _, d := range strings.Split(csp, ";") {
			name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
			directives[name] = value
		}
		if got, want := directives["frame-ancestors"], "'none'"; got != want {
			t.Errorf("%s: frame-ancestors %q, want %q", name, got, want)
		}
		for _, directive := range []string{"script-src", "style-src"} {
			sources := directives[directive]
			if sources == "" {
				sources = directives["default-src"]
			}
			if sources == "" || strings.Contains(sources, "*") || strings.Contains(sources, "data:") || strings.Contains(sources, "http:") {
				t.Errorf("%s: %s %q lets in code from anywhere", name, directive, sources)
			}
		}
		if got, want := res.Header.Get("X-Content-Type-Options"), "nosniff"; got != want {
			t.Errorf("%s: X-Content-Type-Options %q, want %q", name, got, want)
		}
		if got := res.Header.Get("Referrer-Policy"); got == "" || got == "unsafe-url" || got == "no-referrer-when-downgrade" {
			t.Errorf("%s: Referrer-Policy %q", name, got)
		}
	}
}

func TestNoInlineCode(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t)
	scripts := regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script\s*>`)
	banned := map[string]*regexp.Regexp{
		"style attribute": regexp.MustCompile(`(?i)\sstyle\s*=`),
		"style element":   regexp.MustCompile(`(?i)<style\b`),
		"hx-on":           regexp.MustCompile(`(?i)hx-on`),
		"js: expression":  regexp.MustCompile(`(?i)js:`),
		"javascript: URL": regexp.MustCompile(`(?i)javascript:`),
		"event handler":   regexp.MustCompile(`(?i)\son[a-z]+\s*=`),
	}
	pages, scriptTags := 0, 0
	for name, res := range shopPages(t, shop) {
		if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			continue
		}
		pages++
		for _, m := range scripts.FindAllStringSubmatch(res.body, -1) {
			scriptTags++
			if strings.TrimSpace(m[2]) != "" {
				t.Errorf("%s: inline script %q", name, m[0])
			}
			if !strings.Contains(m[1], "src=") {
				t.Errorf("%s: script without src: %q", name, m[0])
			}
		}
		for what, re := range banned {
			if loc := re.FindStringIndex(res.body); loc != nil {
				t.Errorf("%s: %s at %q", name, what, res.body[max(0, loc[0]-40):min(len(res.body), loc[1]+40)])
			}
		}
	}
	if pages < 20 || scriptTags == 0 {
		t.Errorf("only %d HTML responses and %d script tags checked", pages, scriptTags)
	}
}

func TestSessionCookie(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t)
	mug := productID(t, shop, "stoneware-mug")
	c := shop.client()
	for name, res := range map[string]response{
		"guest cart": c.post("/cart/items", url.Values{"product_id": {fmt.Sprint(mug)}, "quantity": {"1"}}),
		"signup":     c.post("/signup", credentials("hal@example.com", testPassword)),
		"logout":     c.post("/logout", nil),
		"login":      c.post("/login", credentials("hal@example.com", testPassword)),
	} {
		ck := sessionCookie(res)
		if ck == nil {
			t.Errorf("%s: no session cookie set", name)
			continue
		}
		if !ck.HttpOnly {
			t.Errorf("%s: session cookie is readable from JavaScript", name)
		}
		if got, want := ck.SameSite, http.SameSiteLaxMode; got != want {
			t.Errorf("%s: SameSite %v, want Lax", name, got)
		}
		if ck.Secure {
			t.Errorf("%s: Secure cookie over http: browsers would drop it", name)
		}
		if got, want := ck.Path, "/"; got != want {
			t.Errorf("%s: Path %q, want %q", name, got, want)
		}
	}
}

func TestCrossOriginProtection(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t)
	db := shop.sql(t)
	mug := productID(t, shop, "stoneware-mug")

	user := shop.client()
	user.signup("ivy@example.com")
	user.addToCart("canvas-tote", 1)
	guest := shop.client()
	guest.addToCart("canvas-tote", 1)

	type counts struct{ users, carts, lines, quantity, orders, sessionVersion, checkouts int }
	snapshot := func() counts {
		return counts{
			users:          sqlInt(t, db, "SELECT count(*) FROM users"),
			carts:          sqlInt(t, db, "SELECT count(*) FROM carts"),
			lines:          sqlInt(t, db, "SELECT count(*) FROM cart_items"),
			quantity:       sqlInt(t, db, "SELECT coalesce(sum(quantity), 0) FROM cart_items"),
			orders:         sqlInt(t, db, "SELECT count(*) FROM orders"),
			sessionVersion: sqlInt(t, db, "SELECT sum(session_version) FROM users"),
			checkouts:      len(shop.fake.calls()),
		}
	}

	for _, headers := range [][]string{
		crossSite,
		{"Sec-Fetch-Site", "same-site", "Origin", "https://shop.evil.example"},
		{"Origin", "https://evil.example"}, // a browser too old to send Sec-Fetch-Site
	} {
		for _, tc := range []struct {
			path string
			c    *testClient
			form url.Values
		}{
			{"/signup", shop.client(), credentials("mallory@example.com", testPassword)},
			{"/login", guest, credentials("ivy@example.com", testPassword)},
			{"/cart/items", guest, url.Values{"product_id": {fmt.Sprint(mug)}, "quantity": {"5"}}},
			{"/cart/items", user, url.Values{"product_id": {fmt.Sprint(mug)}, "quantity": {"5"}}},
			{fmt.Sprintf("/cart/items/%d", productID(t, shop, "canvas-tote")), user, url.Values{"quantity": {"0"}}},
			{"/create-checkout-session/", user, nil},
			{"/logout", user, nil},
		} {
			before := snapshot()
			res := tc.c.post(tc.path, tc.form, headers...)
			if got, want := res.StatusCode, http.StatusForbidden; got != want {
				t.Errorf("%s %v: status %d, want %d", tc.path, headers, got, want)
			}
			if !strings.Contains(res.body, "sent from another website") {
				t.Errorf("%s %v: no explanation:\n%s", tc.path, headers, res.body)
			}
			if sessionCookie(res) != nil {
				t.Errorf("%s %v: refused request set a cookie", tc.path, headers)
			}
			if after := snapshot(); after != before {
				t.Errorf("%s %v: refused request wrote: before %+v, after %+v", tc.path, headers, before, after)
			}
		}
	}
	if !user.isLoggedIn() {
		t.Errorf("a cross-site logout logged the user out")
	}
	if guest.isLoggedIn() {
		t.Errorf("a cross-site login logged the guest in")
	}

	t.Run("SameOrigin", func(t *testing.T) {
		sameOrigin := []string{"Sec-Fetch-Site", "same-origin", "Origin", shop.srv.URL}
		c := shop.client()
		res := c.post("/cart/items", url.Values{"product_id": {fmt.Sprint(mug)}, "quantity": {"1"}}, sameOrigin...)
		if got, want := res.StatusCode, http.StatusSeeOther; got != want {
			t.Errorf("add to cart: status %d, want %d\n%s", got, want, res.body)
		}
		res = c.post("/signup", credentials("jo@example.com", testPassword), sameOrigin...)
		if got, want := res.StatusCode, http.StatusSeeOther; got != want {
			t.Errorf("signup: status %d, want %d\n%s", got, want, res.body)
		}
		res = c.post("/create-checkout-session/", nil, append(sameOrigin, "Accept", "application/json")...)
		if got, want := res.StatusCode, http.StatusOK; got != want {
			t.Errorf("checkout: status %d, want %d\n%s", got, want, res.body)
		}
		// A bookmark or typed URL (Sec-Fetch-Site: none) is the user's own doing.
		res = c.post("/logout", nil, "Sec-Fetch-Site", "none")
		if got, want := res.StatusCode, http.StatusSeeOther; got != want {
			t.Errorf("logout: status %d, want %d", got, want)
		}
	})

	t.Run("WebhookIsNotBlocked", func(t *testing.T) {
		payload := []byte(`{"id":"evt_x","object":"event","type":"checkout.session.completed","data":{"object":{}}}`)
		for _, tc := range []struct {
			name   string
			secret string
		}{
			{"ForgedSignature", "whsec_wrong"},
			{"NoSignature", ""},
		} {
			res := shop.postWebhook(payload, tc.secret, time.Now())
			if got, want := res.StatusCode, http.StatusBadRequest; got != want {
				t.Errorf("%s: status %d, want %d (not 403: Stripe sends no browser headers)", tc.name, got, want)
			}
		}
	})
}
