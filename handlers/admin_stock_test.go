package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"

	"storefront/store"
)

// TestStockFiftyShoppersTenItems: 50 shoppers race for 10 of a product (not in parallel with
// other tests: its burst of requests would crowd their password hashing). Exactly 10 checkouts
// hold it and the rest are told it is gone; checkouts that expire give their stock back to the
// next shoppers; in the end exactly 10 are paid and nothing is held.
func TestStockFiftyShoppersTenItems(t *testing.T) {
	// Each shopper comes from an address of its own (through a trusted proxy), as in real life,
	// so the per-address checkout limit does not stand in for stock.
	shop := newTestShop(t, func(d *Deps) {
		d.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
	})
	admin := shop.admin("boss@example.com")
	if res := admin.postMultipart("/admin/products", productFormValues("Last Batch Mug", "last-batch-mug", "20.00", "10"), nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create product: status %d", res.StatusCode)
	}
	p := shop.mustProductBySlug("last-batch-mug")

	type shopper struct {
		c    *testClient
		addr string
	}
	shoppers := make([]shopper, 50)
	for i := range shoppers {
		shoppers[i] = shopper{shop.client(), fmt.Sprintf("198.51.100.%d", i+1)}
		res := shoppers[i].c.post("/cart/items", url.Values{"product_id": {fmt.Sprint(p.ID)}, "quantity": {"1"}}, "X-Forwarded-For", shoppers[i].addr)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("shopper %d add to cart: status %d", i, res.StatusCode)
		}
	}
	// checkoutAll starts the shoppers' checkouts at once and returns the orders of those that got one.
	checkoutAll := func(group []shopper) (orders []store.Order, losers []shopper) {
		t.Helper()
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, s := range group {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res := s.c.post("/create-checkout-session/", nil, "Accept", "application/json", "X-Forwarded-For", s.addr)
				mu.Lock()
				defer mu.Unlock()
				switch res.StatusCode {
				case http.StatusOK:
					var out struct{ SessionID string }
					json.Unmarshal([]byte(res.body), &out)
					o, err := shop.db.OrderBySession(context.Background(), out.SessionID)
					if err != nil {
						t.Errorf("order of session %q: %v", out.SessionID, err)
						return
					}
					orders = append(orders, o)
				case http.StatusConflict:
					if !strings.Contains(res.body, "Last Batch Mug") {
						t.Errorf("409 without the product's name: %s", res.body)
					}
					losers = append(losers, s)
				default:
					t.Errorf("checkout: status %d, body %s", res.StatusCode, res.body)
				}
			}()
		}
		wg.Wait()
		return orders, losers
	}

	held, losers := checkoutAll(shoppers)
	if len(held) != 10 || len(losers) != 40 {
		t.Fatalf("%d checkouts held stock and %d were refused, want 10 and 40", len(held), len(losers))
	}
	if got := shop.mustProductBySlug("last-batch-mug"); got.Held != 10 || got.Available() != 0 {
		t.Fatalf("held %d, available %d, want 10 and 0", got.Held, got.Available())
	}
	if page := shop.client().get("/products/last-batch-mug"); !strings.Contains(page.body, "Sold out") {
		t.Error("the product page does not say sold out while every unit is held")
	}
	// Four checkouts expire; six are paid.
	for i, o := range held {
		if i < 4 {
			shop.sendEvent(fmt.Sprintf("evt_expired_%d", o.ID), "checkout.session.expired", sessionObject(o, "unpaid"))
		} else {
			shop.sendEvent(fmt.Sprintf("evt_paid_%d", o.ID), "checkout.session.completed", sessionObject(o, "paid"))
		}
	}
	if got := shop.mustProductBySlug("last-batch-mug"); got.Held != 0 || got.Sold != 6 || got.Available() != 4 {
		t.Fatalf("after expiry: held %d sold %d available %d, want 0, 6 and 4", got.Held, got.Sold, got.Available())
	}
	second, rest := checkoutAll(losers)
	if len(second) != 4 || len(rest) != 36 {
		t.Fatalf("second round: %d held, %d refused, want 4 and 36", len(second), len(rest))
	}
	for _, o := range second {
		shop.sendEvent(fmt.Sprintf("evt_paid_%d", o.ID), "checkout.session.completed", sessionObject(o, "paid"))
	}
	paid, _, err := shop.db.AdminOrders(context.Background(), store.OrderFilter{Status: store.StatusPaid}, 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(paid) != 10 {
		t.Errorf("%d orders paid, want exactly 10", len(paid))
	}
	if got := shop.mustProductBySlug("last-batch-mug"); got.Held != 0 || got.Sold != 10 {
		t.Errorf("in the end held %d sold %d, want 0 and 10", got.Held, got.Sold)
	}
}
