package handlers

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestCataloguePageShared: the home page an anonymous visitor without a cart gets is the same
// page compressed as the browser asks, while a shopper with a cart, or one logged in, still
// sees their own cart count on it.
func TestCataloguePageShared(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t)
	anon := shop.client()
	plain := anon.get("/")
	if plain.StatusCode != http.StatusOK || !strings.Contains(plain.body, `data-count="0"`) {
		t.Fatalf("anonymous home page: status %d, body:\n%s", plain.StatusCode, plain.body)
	}
	for _, tc := range []struct{ accept, want string }{
		{"gzip, deflate, br, zstd", "br"},
		{"gzip", "gzip"},
		{"br;q=0, gzip", "gzip"},
		{"", ""},
	} {
		res := shop.client().get("/", "Accept-Encoding", tc.accept)
		if got := res.Header.Get("Content-Encoding"); got != tc.want {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q", tc.accept, got, tc.want)
			continue
		}
		got, err := io.ReadAll(decoders[tc.want](bytes.NewReader([]byte(res.body))))
		if err != nil || string(got) != plain.body {
			t.Errorf("Accept-Encoding %q: the body is not the anonymous page (%v)", tc.accept, err)
		}
		if vary := strings.Join(res.Header.Values("Vary"), ", "); vary != "Accept-Encoding, Accept-Language" || res.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("Accept-Encoding %q: Vary %q, Content-Type %q", tc.accept, vary, res.Header.Get("Content-Type"))
		}
	}

	guest := shop.client()
	guest.addToCart("canvas-tote", 2)
	if res := guest.get("/"); !strings.Contains(res.body, `data-count="2"`) {
		t.Errorf("a guest with 2 items in the cart sees no count of 2 on the home page")
	}
	user := shop.client()
	user.signup("cached-page@example.com")
	user.addToCart("canvas-tote", 3)
	if res := user.get("/"); !strings.Contains(res.body, `data-count="3"`) {
		t.Errorf("a logged-in shopper with 3 items in the cart sees no count of 3 on the home page")
	}
	if res := shop.client().get("/"); res.body != plain.body {
		t.Errorf("another anonymous visitor gets a different page after others filled their carts")
	}
}

// TestCachedHomePageKeepsConfirmations: after logging out, the home page says so, though an
// anonymous visitor with no cart otherwise gets the shared page; and nobody else sees it.
func TestCachedHomePageKeepsConfirmations(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t)
	shop.client().get("/") // the shared page is made
	c := shop.client()
	c.signup("bye@example.com")
	c.post("/logout", nil)
	if home := c.get("/"); !strings.Contains(strings.ToLower(home.body), "logged out") {
		t.Errorf("the home page after logout does not confirm it")
	}
	if other := shop.client().get("/"); strings.Contains(strings.ToLower(other.body), "logged out") {
		t.Errorf("another visitor's home page shows the logout confirmation")
	}
}
