package handlers

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
)

// TestBodiesAreCapped sends forms far larger than any form of the shop: each is refused with 413
// before it is read whole, and nothing is written or spooled to disk.
func TestBodiesAreCapped(t *testing.T) {
	shop := newTestShop(t)
	db := shopSQL(t, shop)
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
		if got := sqlInt(t, shopSQL(t, shop), "SELECT count(*) FROM users"); got != signupPerAddress+1 {
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
		if got := sqlInt(t, shopSQL(t, shop), "SELECT count(*) FROM carts"); got != cartsPerAddr {
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
