package handlers

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"storefront/store"
)

// stockNoteOf cuts a product's stock note (<p id="stock-ID" …>…</p>) out of a page or message.
func stockNoteOf(t *testing.T, html string, productID int64) string {
	t.Helper()
	start := strings.Index(html, fmt.Sprintf(`<p id="stock-%d"`, productID))
	if start < 0 {
		t.Fatalf("no stock note of product %d in:\n%s", productID, html)
	}
	end := strings.Index(html[start:], "</p>")
	return html[start : start+end+len("</p>")]
}

// addButtonOf cuts a product's add-to-cart button out of a page or message.
func addButtonOf(t *testing.T, html string, productID int64) string {
	t.Helper()
	start := strings.Index(html, fmt.Sprintf(`<button type="submit" id="add-%d"`, productID))
	if start < 0 {
		t.Fatalf("no add-to-cart button of product %d in:\n%s", productID, html)
	}
	end := strings.Index(html[start:], "</button>")
	return html[start : start+end+len("</button>")]
}

// limitedProduct has an admin create a product with the given stock; it returns the product
// and the admin.
func limitedProduct(t *testing.T, shop *testShop, slug, stock string) (store.Product, *testClient) {
	t.Helper()
	admin := shop.admin("boss-" + slug + "@example.com")
	if res := admin.postMultipart("/admin/products", productFormValues("Lamp "+slug, slug, "30.00", stock), nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create product: status %d\n%s", res.StatusCode, res.body)
	}
	return shop.mustProductBySlug(slug), admin
}

func TestLiveStock(t *testing.T) {
	t.Parallel()

	t.Run("ProductPageTurnsSoldOutAndBack", func(t *testing.T) {
		t.Parallel()
		shop := newTestShop(t)
		p, _ := limitedProduct(t, shop, "last-lamp", "1")
		watcher := shop.client() // anonymous: stock is public
		page := watcher.get("/products/last-lamp").body
		if !strings.Contains(page, fmt.Sprintf(`hx-sse:connect="/stock/events?product=%d"`, p.ID)) {
			t.Fatalf("the product page opens no stock stream:\n%s", page)
		}
		if note := stockNoteOf(t, page, p.ID); !strings.Contains(note, "Only 1 left") {
			t.Fatalf("page note %q, want Only 1 left", note)
		}
		stream := watcher.openOrderStream(fmt.Sprintf("/stock/events?product=%d", p.ID))
		if note := stockNoteOf(t, stream.nextData(t, 10*time.Second).Data, p.ID); !strings.Contains(note, "Only 1 left") {
			t.Errorf("the stream starts with %q, want Only 1 left", note)
		}

		buyer := shop.client()
		buyer.addToCart("last-lamp", 1)
		o := buyer.checkout()
		msg := stream.nextData(t, 10*time.Second).Data
		if note := stockNoteOf(t, msg, p.ID); !strings.Contains(note, "Sold out") || !strings.Contains(note, `hx-swap-oob="true"`) {
			t.Errorf("after the last one was held the note is %q, want Sold out swapped in", note)
		}
		if button := addButtonOf(t, msg, p.ID); !strings.Contains(button, "disabled") {
			t.Errorf("after the last one was held the button is %q, want it disabled", button)
		}

		shop.sendEvent("evt_lamp_expired", "checkout.session.expired", sessionObject(o, "unpaid"))
		msg = stream.nextData(t, 10*time.Second).Data
		if note := stockNoteOf(t, msg, p.ID); !strings.Contains(note, "Only 1 left") {
			t.Errorf("after the checkout expired the note is %q, want Only 1 left again", note)
		}
		if button := addButtonOf(t, msg, p.ID); strings.Contains(button, "disabled") || !strings.Contains(button, "Add to cart") {
			t.Errorf("after the checkout expired the button is %q, want Add to cart", button)
		}
	})

	t.Run("CatalogueFollowsSalesAndEdits", func(t *testing.T) {
		t.Parallel()
		shop := newTestShop(t)
		p, admin := limitedProduct(t, shop, "grid-lamp", "3")
		watcher := shop.client()
		home := watcher.get("/").body
		_, version, err := shop.db.Catalogue(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		url := fmt.Sprintf("/stock/events?v=%d", version)
		if !strings.Contains(home, fmt.Sprintf(`hx-sse:connect="%s"`, url)) {
			t.Fatalf("the catalogue opens no stock stream at version %d:\n%s", version, home)
		}
		if note := stockNoteOf(t, home, p.ID); !strings.Contains(note, "Only 3 left") {
			t.Fatalf("card note %q, want Only 3 left", note)
		}
		// Up to date: the stream sends nothing until stock changes, and then only that product.
		stream := watcher.openOrderStream(url)
		buyer := shop.client()
		buyer.addToCart("grid-lamp", 2)
		o := buyer.checkout()
		msg := stream.nextData(t, 10*time.Second).Data
		if note := stockNoteOf(t, msg, p.ID); !strings.Contains(note, "Only 1 left") {
			t.Errorf("after 2 of 3 were held the card says %q, want Only 1 left", note)
		}
		if strings.Count(msg, `<p id="stock-`) != 1 {
			t.Errorf("the change's message carries other products' notes too:\n%s", msg)
		}
		shop.sendEvent("evt_grid_paid", "checkout.session.completed", sessionObject(o, "paid"))
		if got := shop.order(o.ID).Status; got != store.StatusPaid {
			t.Fatalf("order is %s, want paid", got)
		}
		// A sale turns the hold into sold: what is free stays 1, so nothing is sent; the next
		// message is the admin's edit below.

		p = shop.mustProductBySlug("grid-lamp")
		form := productFormValues(p.Name, p.Slug, "30.00", "2") // 2 sold: none left
		form.Set("version", fmt.Sprint(p.Version))
		if res := admin.postMultipart(fmt.Sprintf("/admin/products/%d", p.ID), form, nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("edit product: status %d\n%s", res.StatusCode, res.body)
		}
		msg = stream.nextData(t, 10*time.Second).Data
		if note := stockNoteOf(t, msg, p.ID); !strings.Contains(note, "Sold out") {
			t.Errorf("after the admin cut the stock the card says %q, want Sold out", note)
		}

		// A page rendered at an older version starts with every product's note.
		old := watcher.openOrderStream(fmt.Sprintf("/stock/events?v=%d", version))
		first := old.nextData(t, 10*time.Second).Data
		products, err := shop.db.Products(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got, want := strings.Count(first, `<p id="stock-`), len(products); got != want {
			t.Errorf("a stale page's stream starts with %d notes, want all %d", got, want)
		}
		if note := stockNoteOf(t, first, p.ID); !strings.Contains(note, "Sold out") {
			t.Errorf("a stale page's stream starts with %q, want Sold out", note)
		}
	})

	t.Run("BadRequestsAndCaps", func(t *testing.T) {
		t.Parallel()
		shop := newTestShop(t, func(d *Deps) { d.MaxStreams = 1 })
		get := func(path string) *http.Response {
			t.Helper()
			res, err := http.Get(shop.srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			return res
		}
		if res := get("/stock/events?product=abc"); res.StatusCode != http.StatusBadRequest {
			t.Errorf("?product=abc: status %d, want 400", res.StatusCode)
		}
		if res := get("/stock/events?product=999999"); res.StatusCode != http.StatusNotFound {
			t.Errorf("unknown product: status %d, want 404", res.StatusCode)
		}
		shop.client().openOrderStream("/stock/events?v=0")
		res := get("/stock/events?v=0")
		if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
			t.Errorf("a stream over the cap: status %d Retry-After %q, want 429 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
		}
	})
}
