package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"storefront/mail"
)

// guestPaid has a guest check out and pays for the order by webhook; it returns the order id.
func guestPaid(t *testing.T, shop *mailedShop) int64 {
	t.Helper()
	c := shop.client()
	c.addToCart("stoneware-mug", 2)
	o := c.checkout()
	shop.sendEvent("evt_paid_"+o.CheckoutSessionID, "checkout.session.completed", sessionObject(o, "paid"))
	return o.ID
}

func TestReceiptOnceForDuplicateWebhooks(t *testing.T) {
	shop := newMailedShop(t)
	c := shop.client()
	c.addToCart("stoneware-mug", 1)
	o := c.checkout()
	var wg sync.WaitGroup
	for i := range 20 {
		id := "evt_completed" // Stripe's retries of one event
		if i%4 == 0 {
			id = fmt.Sprintf("evt_other_%d", i) // other events that also say paid
		}
		wg.Go(func() {
			res := shop.postWebhook(event(id, "checkout.session.completed", sessionObject(o, "paid")), testSecret, time.Now())
			if res.StatusCode != http.StatusOK {
				t.Errorf("webhook: %d", res.StatusCode)
			}
		})
	}
	wg.Wait()
	got := shop.settled()
	if len(got) != 1 || !strings.Contains(got[0].Header.Get("Subject"), "receipt") {
		t.Fatalf("%d messages after duplicate webhooks, want one receipt", len(got))
	}
	if link := linkIn(t, got[0], "/guest/orders/"); shop.client().get(pathOf(t, link)).StatusCode != http.StatusOK {
		t.Errorf("the receipt's order link does not open the order")
	}
}

func TestOrderLookup(t *testing.T) {
	shop := newMailedShop(t)
	id := guestPaid(t, shop)
	shop.settled() // the receipt

	answer := func(email string) (int, string) {
		res := shop.client().post("/orders/lookup", url.Values{"email": {email}})
		return res.StatusCode, strings.ReplaceAll(res.body, email, "EMAIL")
	}
	buyerStatus, buyerBody := answer("buyer@example.com")
	otherStatus, otherBody := answer("nobody@example.com")
	if buyerStatus != http.StatusOK || buyerStatus != otherStatus || buyerBody != otherBody {
		t.Fatalf("answers differ: %d vs %d\n%s\n---\n%s", buyerStatus, otherStatus, buyerBody, otherBody)
	}
	got := shop.settled()
	if len(got) != 2 || got[1].To[0] != "buyer@example.com" {
		t.Fatalf("%d messages, want the receipt and one lookup to the buyer", len(got))
	}
	link := linkIn(t, got[1], fmt.Sprintf("/guest/orders/%d?", id))
	page := shop.client().get(pathOf(t, link))
	if page.StatusCode != http.StatusOK || !strings.Contains(page.body, fmt.Sprintf("Order #%d", id)) || !strings.Contains(page.body, `data-status="paid"`) {
		t.Fatalf("guest order page: %d\n%s", page.StatusCode, page.body)
	}

	t.Run("altered links find nothing", func(t *testing.T) {
		u, _ := url.Parse(link)
		q := u.Query()
		for name, change := range map[string]func(url.Values) string{
			"other order": func(q url.Values) string { return fmt.Sprintf("/guest/orders/%d?%s", id+1, q.Encode()) },
			"later expiry": func(q url.Values) string {
				q2, _ := url.ParseQuery(q.Encode())
				q2.Set("expires", "99999999999")
				return u.Path + "?" + q2.Encode()
			},
			"no signature": func(url.Values) string { return u.Path },
		} {
			if res := shop.client().get(change(q)); res.StatusCode != http.StatusNotFound {
				t.Errorf("%s: %d", name, res.StatusCode)
			}
		}
	})
	t.Run("links expire", func(t *testing.T) {
		shop.clock.Advance(mail.GuestLinkLifetime + time.Second)
		if res := shop.client().get(pathOf(t, link)); res.StatusCode != http.StatusNotFound {
			t.Fatalf("expired link: %d", res.StatusCode)
		}
	})
}

func TestGuestLinksNeverShowAccountOrders(t *testing.T) {
	links := NewGuestLinks(&url.URL{Scheme: "http", Host: "shop.test"}, linkSecret)
	shop := newTestShop(t, func(d *Deps) { d.GuestLinks = links })
	c := shop.client()
	c.signup("member@example.com")
	c.addToCart("stoneware-mug", 1)
	o := c.checkout()
	// A correctly signed link to an account's order shows nothing: its owner logs in instead.
	u, _ := url.Parse(links.OrderURL(o.ID, time.Hour))
	if res := shop.client().get(u.RequestURI()); res.StatusCode != http.StatusNotFound {
		t.Fatalf("signed link to an account's order: %d", res.StatusCode)
	}
}
