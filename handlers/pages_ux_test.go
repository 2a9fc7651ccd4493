package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// flashOf is the one-time confirmation a page shows, or "".
func flashOf(body string) string {
	m := regexp.MustCompile(`<p class="flash" role="status">([^<]*)</p>`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

func TestConfirmations(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t)
	c := shop.client()
	c.signup("ann@example.com")
	if got := flashOf(c.get("/").body); !strings.Contains(got, "Your account is ready") {
		t.Errorf("page after sign-up says %q, want a welcome", got)
	}
	if got := flashOf(c.get("/").body); got != "" {
		t.Errorf("the welcome shows twice: %q", got)
	}

	if res := c.post("/logout", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: status %d", res.StatusCode)
	}
	home := c.get("/")
	if got := flashOf(home.body); !strings.Contains(got, "logged out") {
		t.Errorf("page after logout says %q, want that the shopper is logged out", got)
	}
	if strings.Contains(home.body, "nav-user") {
		t.Error("still shown as logged in after logout")
	}

	res := c.post("/login", url.Values{"email": {"ann@example.com"}, "password": {"correct horse"}, "next": {"/cart"}})
	if got, want := res.Header.Get("Location"), "/cart"; got != want {
		t.Fatalf("login went to %q, want %q", got, want)
	}
	if got := flashOf(c.get("/cart").body); got != "You are logged in as ann@example.com." {
		t.Errorf("page after login says %q", got)
	}

	t.Run("LogInInsteadIsALink", func(t *testing.T) {
		other := shop.client()
		res := other.post("/signup", url.Values{"email": {"ann@example.com"}, "password": {"another one"}, "next": {"/cart"}})
		if got, want := res.StatusCode, http.StatusConflict; got != want {
			t.Fatalf("status %d, want %d", got, want)
		}
		if !strings.Contains(res.body, `<a href="/login?next=%2Fcart">Log in instead?</a>`) {
			t.Errorf("no link to log in instead:\n%s", res.body)
		}
	})
}

func TestSuccessPageWording(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t)
	c := shop.client()
	c.addToCart("canvas-tote", 1)
	o := c.checkout()
	success := "/success/?session_id=" + url.QueryEscape(o.CheckoutSessionID)

	pending := c.get(success).body
	// Without JavaScript the page cannot update itself: that claim is shown only to scripts.
	if !strings.Contains(pending, `payment. <span class="js-only">This page updates by itself`) {
		t.Errorf("pending page claims to update itself without JavaScript:\n%s", pending)
	}
	if !strings.Contains(pending, "<noscript>") || !strings.Contains(pending, "Reload this page") {
		t.Error("pending page offers no reload without JavaScript")
	}

	shop.sendEvent("evt_failed", "checkout.session.async_payment_failed", sessionObject(o, "unpaid"))
	failed := c.get(success).body
	if strings.Contains(failed, "Thank you for your order") {
		t.Errorf("failed payment is headed with thanks:\n%s", failed)
	}
	for _, want := range []string{
		"<h1>Payment failed</h1>",
		`<form method="post" action="/create-checkout-session/"><button type="submit">Try again</button>`,
		`<a class="button secondary" href="/cart">Back to cart</a>`,
	} {
		if !strings.Contains(failed, want) {
			t.Errorf("failed-payment page lacks %s", want)
		}
	}
}

func TestNewOrderShowsWhenCheckoutStarts(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t)
	c := shop.client()
	c.signup("ann@example.com")
	stream := c.openOrderStream("/orders/events")
	stream.next(t, liveWithin) // retry
	c.addToCart("stoneware-mug", 2)
	o := c.checkout()
	m := stream.nextData(t, liveWithin)
	for _, want := range []string{fmt.Sprintf(`id="order-%d"`, o.ID), ">Awaiting payment<"} {
		if !strings.Contains(m.Data, want) {
			t.Errorf("no new row on the orders page at checkout; message lacks %s:\n%s", want, m.Data)
		}
	}
}

func TestPageBasics(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t, func(d *Deps) { d.Simulated = true })
	c := shop.client()
	home := c.get("/").body

	if !strings.Contains(home, `<meta name="description" content="`) {
		t.Error("no meta description")
	}
	imgs := regexp.MustCompile(`<img [^>]*>`).FindAllString(home, -1)
	if len(imgs) < 5 {
		t.Fatalf("catalogue shows %d images", len(imgs))
	}
	for i, img := range imgs {
		lazy := strings.Contains(img, `loading="lazy"`)
		if i < 4 && (lazy || !strings.Contains(img, `fetchpriority="high"`)) {
			t.Errorf("image %d of the first row is not fetched eagerly: %s", i, img)
		}
		if i >= 4 && !lazy {
			t.Errorf("image %d below the first row is not lazy: %s", i, img)
		}
	}
	// The simulated-payments banner sits inside the header landmark.
	header := home[strings.Index(home, "<header"):strings.Index(home, "</header>")]
	if !strings.Contains(header, "Payments are simulated") {
		t.Error("the simulated-payments banner is outside the header landmark")
	}
	if !strings.Contains(home, `src="/assets/app.js?v=`) {
		t.Error("the page does not load assets/app.js")
	}
	if res := c.get("/assets/app.js"); res.StatusCode != http.StatusOK || !strings.Contains(res.body, "pageshow") {
		t.Errorf("app.js: status %d", res.StatusCode)
	}
	if res := c.get("/cart"); res.Header.Get("Cache-Control") != "no-store" {
		t.Error("the cart may be cached, and a restored copy would show a stale cart")
	}
}
