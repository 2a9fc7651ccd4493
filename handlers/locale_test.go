package handlers

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"storefront/components"
)

func TestPricesFollowAcceptLanguage(t *testing.T) {
	t.Parallel()
	if len(components.Locales) > localeSlots {
		t.Fatalf("%d locales, but live messages are kept for %d", len(components.Locales), localeSlots)
	}
	shop := newTestShop(t)
	anon := shop.client()
	german, english := ">24,00\u00a0$<", ">$24.00<" // the canvas tote
	for _, tc := range []struct{ accept, want, not string }{
		{"de-DE,de;q=0.9,en;q=0.5", german, english},
		{"en-US,en;q=0.9", english, german},
		{"de-AT", german, english}, // the nearest language the shop knows
		{"", english, german},
		{"zh-CN", english, german}, // unknown: the shop's default
		{"fr;q=0.9, ja;q=0.5", ">24,00\u00a0$<", english},
		{"de-DE", german, english}, // again, now from the kept page
	} {
		for _, path := range []string{"/", "/?q=tote", "/products/canvas-tote"} {
			res := anon.get(path, "Accept-Language", tc.accept)
			if !strings.Contains(res.body, tc.want) || strings.Contains(res.body, tc.not) {
				t.Errorf("GET %s in %q: want the price as %q, not %q", path, tc.accept, tc.want, tc.not)
			}
			if vary := strings.Join(res.Header.Values("Vary"), ", "); !strings.Contains(vary, "Accept-Language") {
				t.Errorf("GET %s: Vary %q lacks Accept-Language, so a cache could serve one language's prices to another", path, vary)
			}
		}
	}

	t.Run("Cart", func(t *testing.T) {
		c := shop.client()
		c.addToCart("canvas-tote", 2)
		if res := c.get("/cart", "Accept-Language", "fr-FR"); !strings.Contains(res.body, "Total <strong>48,00\u00a0$</strong>") {
			t.Errorf("the cart in fr-FR does not total 48,00 $")
		}
	})

	t.Run("LiveInEachLanguage", func(t *testing.T) {
		c := shop.client()
		c.signup("ann@example.com")
		c.addToCart("canvas-tote", 1)
		o := c.checkout()
		path := fmt.Sprintf("%s/orders/events?order_id=%d", shop.srv.URL, o.ID)
		streams := map[string]*sseTestStream{}
		for _, lang := range []string{"de-DE", "en-US"} {
			client := &http.Client{Jar: c.http.Jar, Transport: languageTransport(lang)}
			streams[lang] = openSSETestStream(t, client, path)
			streams[lang].nextData(t, liveWithin) // the snapshot
		}
		shop.sendEvent("evt_locale_paid", "checkout.session.completed", sessionObject(o, "paid"))
		for lang, want := range map[string]string{"de-DE": "24,00\u00a0$", "en-US": "$24.00"} {
			if msg := streams[lang].nextData(t, liveWithin); !strings.Contains(msg.Data, want) || !strings.Contains(msg.Data, `data-status="paid"`) {
				t.Errorf("the %s stream's paid message lacks %q:\n%s", lang, want, msg.Data)
			}
		}
	})
}

// languageTransport sends every request with an Accept-Language header, as a browser does.
type languageTransport string

func (l languageTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Accept-Language", string(l))
	return http.DefaultTransport.RoundTrip(r)
}
