package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"storefront/store"
)

// rowIDs lists the order ids of a page's order rows, in page order.
func rowIDs(body string) []string {
	var ids []string
	for _, m := range regexp.MustCompile(`<article class="order-row" id="order-(\d+)"`).FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// pastOrders gives the user n more orders, made before any order placed afterwards, as if
// bought over the years: copies of nothing, expired, of 1.00 each.
func pastOrders(t *testing.T, shop *testShop, userID int64, n int) {
	t.Helper()
	db := shop.sql(t)
	for i := range n {
		sqlExec(t, db, `INSERT INTO orders (user_id, cart_fingerprint, status, amount_total, currency, created_at, updated_at)
			VALUES (?, ?, 'expired', 100, 'usd', '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z')`, userID, fmt.Sprint("past-", i))
	}
}

func TestOrderHistoryPages(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t)
	c := shop.client()
	u := c.signup("ann@example.com")
	pastOrders(t, shop, u.ID, 24)
	c.addToCart("canvas-tote", 1)
	newest := c.checkout() // order 25

	first := c.get("/orders")
	ids := rowIDs(first.body)
	if len(ids) != ordersPerPage || ids[0] != fmt.Sprint(newest.ID) || ids[19] != "6" {
		t.Fatalf("first page shows orders %v, want the newest %d, from %d down to 6", ids, ordersPerPage, newest.ID)
	}
	for _, want := range []string{`href="/orders?page=2" rel="next"`, `hx-sse:connect="/orders/events"`, "Page 1 of 2",
		fmt.Sprintf(`href="/orders/%d"`, newest.ID)} {
		if !strings.Contains(first.body, want) {
			t.Errorf("first page lacks %s", want)
		}
	}
	if strings.Contains(first.body, `rel="prev"`) {
		t.Errorf("first page links to a previous page")
	}

	second := c.get("/orders?page=2")
	if got := rowIDs(second.body); strings.Join(got, ",") != "5,4,3,2,1" {
		t.Errorf("second page shows orders %v, want 5 to 1", got)
	}
	if !strings.Contains(second.body, `href="/orders" rel="prev"`) || strings.Contains(second.body, `rel="next"`) {
		t.Errorf("second page should link back to the first and nowhere further")
	}
	if strings.Contains(second.body, `hx-sse:connect="`) {
		t.Errorf("an older page opens a live stream, whose rows would be the newest orders")
	}
	if got := rowIDs(c.get("/orders?page=99").body); len(got) != 5 {
		t.Errorf("page 99 of 2 shows %d orders, want the last page's 5", len(got))
	}
	if got := rowIDs(c.get("/orders?page=nonsense").body); len(got) != ordersPerPage || got[0] != ids[0] {
		t.Errorf("a page that is not a number shows %v, want the first page", got)
	}

	t.Run("JSON", func(t *testing.T) {
		// A JSON answer carries up to ordersPerJSONPage orders: these 25 at once, newest first.
		res := c.get("/orders", "Accept", "application/json")
		var out map[string][]map[string]any
		if err := json.Unmarshal([]byte(res.body), &out); err != nil || len(out) != 1 || len(out["orders"]) != 25 {
			t.Fatalf("JSON: %v, %d keys, %d orders; want {\"orders\": [25 orders]}\n%s", err, len(out), len(out["orders"]), res.body)
		}
		if got := fmt.Sprint(out["orders"][0]["id"]); got != ids[0] {
			t.Errorf("JSON starts with order %s, want the newest, %s", got, ids[0])
		}
		if got := res.Header.Get("Link"); got != "" {
			t.Errorf("Link %q on the only JSON page", got)
		}
		var keys []string
		for k := range out["orders"][0] {
			keys = append(keys, k)
		}
		for _, k := range []string{"id", "status", "amountTotal", "currency", "checkoutSessionId", "createdAt", "items", "paymentIntentId", "kind"} {
			if _, ok := out["orders"][0][k]; !ok {
				t.Errorf("JSON order lacks %q (has %v)", k, keys)
			}
		}
		if got := out["orders"][0]["id"]; got != float64(newest.ID) {
			t.Errorf("JSON's first order is %v, want the newest %d", got, newest.ID)
		}
	})

	t.Run("LiveFirstPageOnly", func(t *testing.T) {
		s := c.openOrderStream("/orders/events")
		if got := rowIDs(s.nextData(t, liveWithin).Data); len(got) != ordersPerPage {
			t.Fatalf("the stream starts with %d rows, want the first page's %d", len(got), ordersPerPage)
		}
		old, err := shop.db.Order(context.Background(), 1)
		if err != nil {
			t.Fatal(err)
		}
		shop.server.publishOrder(old) // an order of page 2 changes: not this page's business
		shop.sendEvent("evt_history_paid", "checkout.session.completed", sessionObject(newest, "paid"))
		msg := s.nextData(t, liveWithin)
		if got := rowIDs(msg.Data); len(got) != 1 || got[0] != fmt.Sprint(newest.ID) || !strings.Contains(msg.Data, ">Paid<") {
			t.Errorf("next message shows orders %v, want only the newest, paid:\n%s", got, msg.Data)
		}
	})
}

func TestOrderDetail(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t)
	ann := shop.client()
	ann.signup("ann@example.com")
	ann.addToCart("canvas-tote", 2)
	o := ann.checkout()
	path := fmt.Sprintf("/orders/%d", o.ID)

	page := ann.get(path)
	for _, want := range []string{fmt.Sprintf(`hx-sse:connect="/orders/events?order_id=%d"`, o.ID), "2 × Canvas Tote Bag",
		"Awaiting payment", "Resume payment", o.CheckoutSessionID} {
		if !strings.Contains(page.body, want) {
			t.Errorf("order page lacks %s", want)
		}
	}
	if strings.Contains(page.body, "Buy again") {
		t.Errorf("an order awaiting payment offers Buy again; it should be paid or cancelled first")
	}

	t.Run("OwnerOnly", func(t *testing.T) {
		bob := shop.client()
		bob.signup("bob@example.com")
		if res := bob.get(path); res.StatusCode != http.StatusNotFound {
			t.Errorf("another user's GET %s: %d, want 404", path, res.StatusCode)
		}
		if res := bob.get(fmt.Sprintf("/orders/events?order_id=%d", o.ID)); res.StatusCode != http.StatusNotFound {
			t.Errorf("another user's stream of the order: %d, want 404", res.StatusCode)
		}
		if res := shop.client().get(path); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
			t.Errorf("a visitor not logged in: %d to %q, want a login redirect", res.StatusCode, res.Header.Get("Location"))
		}
	})

	t.Run("Live", func(t *testing.T) {
		s := ann.openOrderStream(fmt.Sprintf("/orders/events?order_id=%d", o.ID))
		if snap := s.nextData(t, liveWithin); !strings.Contains(snap.Data, `class="panel order-detail" data-status="pending"`) {
			t.Fatalf("the stream starts without the order's detail:\n%s", snap.Data)
		}
		ann.addToCart("stoneware-mug", 1)
		// A second checkout is published to ann's streams but not this order's; it replaces this
		// one, which expires (and is shown so) before its payment arrives.
		other := ann.checkout()
		shop.sendEvent("evt_detail_paid", "checkout.session.completed", sessionObject(o, "paid"))
		paid := s.nextData(t, liveWithin)
		for i := 0; i < 3 && !strings.Contains(paid.Data, `data-status="paid"`); i++ {
			if strings.Contains(paid.Data, fmt.Sprintf("Order #%d", other.ID)) {
				t.Fatalf("the order's page got another order:\n%s", paid.Data)
			}
			paid = s.nextData(t, liveWithin)
		}
		if strings.Contains(paid.Data, fmt.Sprintf("Order #%d", other.ID)) || !strings.Contains(paid.Data, `data-status="paid"`) ||
			!strings.Contains(paid.Data, "pi_"+o.CheckoutSessionID) || !strings.Contains(paid.Data, "Buy again") {
			t.Fatalf("after payment the page shows:\n%s\nwant this order paid, its payment id and Buy again", paid.Data)
		}
		shop.sendEvent("evt_detail_refund", "charge.refunded", whChargeObject(o, "pi_"+o.CheckoutSessionID, false, 1000))
		refunded := s.nextData(t, liveWithin)
		if !strings.Contains(refunded.Data, "Refunded</span><span>−$10.00") {
			t.Errorf("after a partial refund of $10.00 the page shows:\n%s", refunded.Data)
		}
	})
}

func TestBuyAgain(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t)
	db := shop.sql(t)
	ann := shop.client()
	ann.signup("ann@example.com")
	tote := ann.addToCart("canvas-tote", 2)
	mug := ann.addToCart("stoneware-mug", 1)
	kettle := ann.addToCart("pour-over-kettle", 1)
	o := ann.checkout()
	shop.sendEvent("evt_again_paid", "checkout.session.completed", sessionObject(o, "paid"))
	path := fmt.Sprintf("/orders/%d/buy-again", o.ID)

	t.Run("OthersCannot", func(t *testing.T) {
		bob := shop.client()
		bob.signup("bob@example.com")
		if res := bob.post(path, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("another user's Buy again: %d, want 404", res.StatusCode)
		}
		if res := bob.get("/cart"); !strings.Contains(res.body, `data-count="0"`) {
			t.Errorf("another user's cart changed after a refused Buy again")
		}
	})

	// Since the order: the kettle is no longer sold, the mug costs a dollar more, and one tote is left.
	sqlExec(t, db, "UPDATE products SET active = 0 WHERE slug = 'pour-over-kettle'")
	sqlExec(t, db, "UPDATE products SET price = price + 100 WHERE id = ?", mug.ID)
	sqlExec(t, db, "UPDATE products SET stock = sold + 1 WHERE id = ?", tote.ID)

	res := ann.post(path, nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/cart" {
		t.Fatalf("Buy again: %d to %q, want 303 to /cart", res.StatusCode, res.Header.Get("Location"))
	}
	cart := ann.get("/cart").body
	for _, want := range []string{
		fmt.Sprintf("Added to your cart: 1 × %s, 1 × %s.", tote.Name, mug.Name),
		fmt.Sprintf("Could not add %s (no longer sold).", kettle.Name),
		fmt.Sprintf("Only 1 %s could be added", tote.Name),
		fmt.Sprintf("%s now costs %s (you paid %s).", mug.Name, dollars(mug.Price+100), dollars(mug.Price)),
		fmt.Sprintf("Total <strong>%s</strong>", dollars(tote.Price+mug.Price+100)),
	} {
		if !strings.Contains(cart, want) {
			t.Errorf("cart after Buy again lacks %q\n%s", want, cart)
		}
	}

	// Again: the last tote is in the cart already, so it counts as sold out.
	sqlExec(t, db, "UPDATE products SET active = 0 WHERE id = ?", mug.ID)
	res = ann.post(path, nil)
	if got, want := res.Header.Get("Location"), fmt.Sprintf("/orders/%d", o.ID); got != want {
		t.Errorf("Buy again with nothing to add goes to %q, want the order %q", got, want)
	}
	want := fmt.Sprintf("Nothing could be added to your cart: %s (sold out); %s (no longer sold); %s (no longer sold).", tote.Name, mug.Name, kettle.Name)
	if page := ann.get(res.Header.Get("Location")).body; !strings.Contains(page, want) {
		t.Errorf("the order page does not say why nothing was added")
	}
	c, err := shop.db.Cart(context.Background(), store.CartRef{UserID: o.UserID})
	if err != nil || len(c.Lines) != 1 || c.Lines[0].Product.ID != tote.ID || c.Lines[0].Quantity != 1 {
		t.Errorf("cart after adding nothing: %+v (%v), want the one tote added the first time", c.Lines, err)
	}

	t.Run("PendingRefused", func(t *testing.T) {
		bea := shop.client()
		bea.signup("bea@example.com")
		bea.addToCart("field-notebook", 1)
		p := bea.checkout()
		if res := bea.post(fmt.Sprintf("/orders/%d/buy-again", p.ID), nil); res.StatusCode != http.StatusConflict {
			t.Errorf("Buy again of an order awaiting payment: %d, want 409", res.StatusCode)
		}
	})
}

func dollars(cents int64) string { return fmt.Sprintf("$%d.%02d", cents/100, cents%100) }

// TestGuestBuyAgain: a guest's signed order link offers Buy again, which fills the cart of
// the browser that follows it; an altered link adds nothing.
func TestGuestBuyAgain(t *testing.T) {
	t.Parallel()
	links := NewGuestLinks(&url.URL{Scheme: "http", Host: "shop.test"}, linkSecret)
	shop := newTestShop(t, func(d *Deps) { d.GuestLinks = links })
	buyer := shop.client()
	mug := buyer.addToCart("stoneware-mug", 2)
	o := buyer.checkout()
	shop.sendEvent("evt_guest_again_paid", "checkout.session.completed", sessionObject(o, "paid"))
	link := pathOf(t, links.OrderURL(o.ID, time.Hour))
	again := strings.Replace(link, "?", "/buy-again?", 1)

	other := shop.client() // on another device: no cart yet
	page := other.get(link).body
	if !strings.Contains(page, fmt.Sprintf(`action="%s"`, strings.ReplaceAll(again, "&", "&amp;"))) {
		t.Fatalf("the guest's order page offers no Buy again to %s", again)
	}
	if res := other.post(strings.Replace(again, "sig=", "sig=x", 1), nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("Buy again through an altered link: %d, want 404", res.StatusCode)
	}
	res := other.post(again, nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/cart" {
		t.Fatalf("Buy again: %d to %q, want 303 to /cart", res.StatusCode, res.Header.Get("Location"))
	}
	if cart := other.get("/cart").body; !strings.Contains(cart, fmt.Sprintf("Added to your cart: 2 × %s.", mug.Name)) ||
		!strings.Contains(cart, `data-count="2"`) {
		t.Errorf("the guest's cart after Buy again does not hold and say 2 × %s", mug.Name)
	}
}
