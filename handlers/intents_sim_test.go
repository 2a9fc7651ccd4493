package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"storefront/store"
)

// Paying on the shop's own page through the checkout simulator: the shop's gateway creates the
// PaymentIntent, the simulator's Payment Element frame confirms it (here posted as the frame's
// script posts it), and the simulator's signed webhooks move the order.

// elementIntent is the part of the intent the simulator's element frame answers a confirm with.
type elementIntent struct {
	ID               string `json:"id"`
	Status           string `json:"status"`
	LastPaymentError *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"last_payment_error"`
}

// confirmInElement submits the Payment Element's fields for the intent of clientSecret.
func (s *simShop) confirmInElement(t *testing.T, clientSecret string, fields url.Values) elementIntent {
	t.Helper()
	fields.Set("client_secret", clientSecret)
	res, err := http.PostForm(s.sim.URL()+"/v3/elements/confirm", fields)
	if err != nil {
		t.Fatalf("confirm in the element: %v", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var answer struct {
		PaymentIntent *elementIntent `json:"paymentIntent"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || res.StatusCode != http.StatusOK || answer.PaymentIntent == nil {
		t.Fatalf("confirm in the element: %d %s", res.StatusCode, body)
	}
	return *answer.PaymentIntent
}

// startPayOnPage checks the client's cart out to the shop's own payment page and returns the
// order and the intent's client secret.
func (s *simShop) startPayOnPage(t *testing.T, c *testClient) (store.Order, string) {
	t.Helper()
	res := c.post("/create-payment-intent/", nil, "Accept", "application/json")
	var answer struct{ OrderID, ClientSecret, PublishableKey string }
	if err := json.Unmarshal([]byte(res.body), &answer); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("POST /create-payment-intent/: %d %s", res.StatusCode, res.body)
	}
	o := s.order(mustAtoi(t, answer.OrderID))
	if !strings.HasPrefix(answer.ClientSecret, o.PaymentIntent+"_secret_") {
		t.Fatalf("client secret %q is not the secret of the order's intent %s", answer.ClientSecret, o.PaymentIntent)
	}
	return o, answer.ClientSecret
}

// waitOrder waits until the order satisfies cond.
func (s *simShop) waitOrder(t *testing.T, id int64, what string, cond func(store.Order) bool) {
	t.Helper()
	waitFor(t, fmt.Sprintf("order %d %s", id, what), func() bool { return cond(s.order(id)) })
}

func elementCard(number string) url.Values {
	return url.Values{"method": {"card"}, "card_number": {number},
		"expiry": {fmt.Sprintf("12/%02d", (time.Now().Year()+3)%100)}, "cvc": {"123"}}
}

func TestPayOnPageThroughSimulator(t *testing.T) {
	t.Run("DeclinedThenPaidOnce", func(t *testing.T) {
		t.Parallel()
		s := startSimulatedShop(t, 0, true, nil)
		s.proxy.setLoseAnswers(1) // every event reaches the shop twice: its first answer is lost
		raw := s.testShop.sql(t)
		c := s.client()
		c.signup("pia@example.com")
		c.addToCart("canvas-tote", 2)
		o, secret := s.startPayOnPage(t, c)

		page := c.get("/pay/" + fmt.Sprint(o.ID))
		stripeJS := s.sim.URL() + "/v3/"
		if !strings.Contains(page.body, `<script src="`+stripeJS+`"></script>`) {
			t.Fatalf("the payment page does not load the simulator's Stripe.js %s:\n%s", stripeJS, page.body)
		}
		if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self' "+s.sim.URL()+";") ||
			!strings.Contains(csp, "frame-src "+s.sim.URL()+" ") {
			t.Errorf("payment page CSP %q does not allow the simulator's script and frames", csp)
		}
		if res, err := http.Get(stripeJS); err != nil || res.StatusCode != http.StatusOK ||
			!strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") {
			t.Fatalf("GET %s: %v %+v", stripeJS, err, res)
		} else {
			res.Body.Close()
		}

		declined := s.confirmInElement(t, secret, elementCard("4000 0000 0000 0002"))
		if declined.Status != "requires_payment_method" || declined.LastPaymentError == nil ||
			declined.LastPaymentError.Message != "Your card was declined." {
			t.Fatalf("declined card: %+v", declined)
		}
		s.waitOrder(t, o.ID, "showed the decline", func(o store.Order) bool { return o.PaymentError == "Your card was declined." })
		if got := s.order(o.ID).Status; got != store.StatusPending {
			t.Errorf("after a decline the order is %s, want pending (payable)", got)
		}
		if page := c.get("/pay/" + fmt.Sprint(o.ID)); !strings.Contains(page.body, "Your card was declined.") {
			t.Errorf("the payment page does not show the decline")
		}

		paid := s.confirmInElement(t, secret, elementCard("4242 4242 4242 4242"))
		if paid.ID != o.PaymentIntent || paid.Status != "succeeded" {
			t.Fatalf("4242 on the same intent: %+v", paid)
		}
		s.waitOrderStatus(t, o.ID, store.StatusPaid)
		if got := s.order(o.ID); got.PaymentError != "" {
			t.Errorf("the paid order still shows the error %q", got.PaymentError)
		}
		succeeded := s.proxy.waitAcknowledged(t, "payment_intent.succeeded")
		var outcomes []string
		waitFor(t, "payment_intent.succeeded delivered twice", func() bool {
			outcomes = nil
			for _, d := range s.proxy.seen() {
				if d.EventID == succeeded.EventID {
					outcomes = append(outcomes, fmt.Sprint(d.Status, " ", d.Outcome))
				}
			}
			return len(outcomes) == 2
		})
		if want := []string{"200 applied", "200 duplicate"}; !slices.Equal(outcomes, want) {
			t.Errorf("shop answers to payment_intent.succeeded: %q, want %q", outcomes, want)
		}
		var receipts int
		if err := raw.QueryRow(`SELECT count(*) FROM outbox WHERE order_id = ? AND kind = 'receipt'`, o.ID).Scan(&receipts); err != nil {
			t.Fatal(err)
		}
		if receipts != 1 {
			t.Errorf("%d receipts queued for the order, want 1", receipts)
		}
		res := c.get("/payment-complete/?payment_intent=" + url.QueryEscape(o.PaymentIntent) + "&redirect_status=succeeded")
		if res.StatusCode != http.StatusOK || !strings.Contains(res.body, `data-status="paid"`) {
			t.Errorf("payment-complete page: %d\n%s", res.StatusCode, res.body)
		}
	})

	t.Run("BankDebit", func(t *testing.T) {
		t.Parallel()
		s := startSimulatedShop(t, 0, true, nil)
		c := s.client()
		c.addToCart("stoneware-mug", 1) // a guest
		o, secret := s.startPayOnPage(t, c)
		got := s.confirmInElement(t, secret, url.Values{"method": {"bank_transfer"}, "account_number": {"000123456789"}})
		if got.Status != "processing" {
			t.Fatalf("bank debit: %+v, want processing", got)
		}
		s.waitOrderStatus(t, o.ID, store.StatusPaid) // once the simulator settles it
		processing := s.proxy.waitAcknowledged(t, "payment_intent.processing")
		if processing.ObjectID != o.PaymentIntent {
			t.Errorf("payment_intent.processing names %s, want %s", processing.ObjectID, o.PaymentIntent)
		}
	})

	t.Run("Canceled", func(t *testing.T) {
		t.Parallel()
		s := startSimulatedShop(t, 0, true, nil)
		c := s.client()
		c.addToCart("stoneware-mug", 1)
		o, _ := s.startPayOnPage(t, c)
		if err := s.gw.CancelPaymentIntent(context.Background(), o.PaymentIntent); err != nil {
			t.Fatalf("cancel the order's intent: %v", err)
		}
		s.waitOrderStatus(t, o.ID, store.StatusFailed)
	})
}
