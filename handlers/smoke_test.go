package handlers

import (
	"net/http"
	"strings"
	"testing"
)

func TestPurchaseSmoke(t *testing.T) {
	shop := newTestShop(t)
	c := shop.client()
	c.signup("ann@example.com")
	c.addToCart("canvas-tote", 2)
	o := c.checkout()
	if o.Status != "pending" {
		t.Fatalf("status %s, want pending", o.Status)
	}
	shop.sendEvent("evt_1", "checkout.session.completed", sessionObject(o, "paid"))
	if got := shop.order(o.ID).Status; got != "paid" {
		t.Fatalf("status %s, want paid", got)
	}
	res := c.get("/orders")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.body, "Paid") {
		t.Fatalf("orders page: %d\n%s", res.StatusCode, res.body)
	}
}
