package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"storefront/payments"
	"storefront/store"
)

// Checkout tests against the harness's fakeCheckout; stripemock_test.go covers the real gateway.

// setFakeFailure makes the fake payment provider fail every call with err (nil: succeed again).
func setFakeFailure(f *fakeCheckout, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = err
}

// assertNoOrders checks that no order was ever created in the shop (order ids start at 1).
func assertNoOrders(t *testing.T, shop *testShop) {
	t.Helper()
	if o, err := shop.db.Order(context.Background(), 1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an order exists: %+v (err %v)", o, err)
	}
}

func TestCheckoutEmptyCart(t *testing.T) {
	const message = "Your cart is empty: add something before checking out."
	setups := []struct {
		name  string
		setup func(t *testing.T, c *testClient)
	}{
		{"GuestWithoutCart", func(*testing.T, *testClient) {}},
		{"GuestEmptiedCart", func(t *testing.T, c *testClient) {
			p := c.addToCart("canvas-tote", 1)
			if res := c.post(fmt.Sprintf("/cart/items/%d", p.ID), url.Values{"quantity": {"0"}}); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("remove item: status %d", res.StatusCode)
			}
		}},
		{"User", func(_ *testing.T, c *testClient) { c.signup("empty@example.com") }},
	}
	for _, su := range setups {
		for _, shape := range checkoutShapes {
			t.Run(su.name+"/"+shape.name, func(t *testing.T) {
				t.Parallel()
				shop := newTestShop(t)
				c := shop.client()
				su.setup(t, c)

				res := c.post("/create-checkout-session/", nil, shape.headers...)
				if got, want := res.StatusCode, http.StatusBadRequest; got != want {
					t.Fatalf("status %d, want %d; body:\n%s", got, want, res.body)
				}
				if shape.name == "JSON" {
					if got, want := res.Header.Get("Content-Type"), "application/json"; got != want {
						t.Errorf("Content-Type %q, want %q", got, want)
					}
					var out map[string]string
					if err := json.Unmarshal([]byte(res.body), &out); err != nil {
						t.Fatalf("body %q: %v", res.body, err)
					}
					if got, want := out["error"], message; got != want {
						t.Errorf("error %q, want %q", got, want)
					}
				} else if !strings.Contains(res.body, message) {
					t.Errorf("body lacks %q:\n%s", message, res.body)
				}
				if n := len(shop.fake.calls()); n != 0 {
					t.Errorf("%d checkout sessions requested for an empty cart", n)
				}
				assertNoOrders(t, shop)

				// The refusal left nothing behind: the first real checkout makes order 1.
				c.addToCart("canvas-tote", 1)
				if got, want := c.checkout().ID, int64(1); got != want {
					t.Errorf("first order has id %d, want %d", got, want)
				}
			})
		}
	}
}

func TestCheckoutStripeAPIError(t *testing.T) {
	for _, shape := range checkoutShapes {
		t.Run(shape.name, func(t *testing.T) {
			t.Parallel()
			shop := newTestShop(t)
			c := shop.client()
			u := c.signup("erin@example.com")
			tote := c.addToCart("canvas-tote", 2)
			setFakeFailure(shop.fake, &stripe.Error{Type: stripe.ErrorTypeAPI, HTTPStatusCode: http.StatusInternalServerError,
				Msg: "An unknown error occurred (internal detail xyzzy)", RequestID: "req_123"})

			res := c.post("/create-checkout-session/", nil, shape.headers...)
			if got, want := res.StatusCode, http.StatusBadGateway; got != want {
				t.Fatalf("status %d, want %d; body:\n%s", got, want, res.body)
			}
			if !strings.Contains(res.body, "could not reach our payment provider") {
				t.Errorf("body lacks a clear message:\n%s", res.body)
			}
			for _, raw := range []string{"xyzzy", "req_123"} {
				if strings.Contains(res.body, raw) {
					t.Errorf("body shows raw error text %q:\n%s", raw, res.body)
				}
			}
			calls := shop.fake.calls()
			if got, want := len(calls), 1; got != want {
				t.Fatalf("%d checkout sessions requested, want %d", got, want)
			}
			orderID := calls[0].OrderID
			if got, want := shop.order(orderID).Status, store.StatusFailed; got != want {
				t.Errorf("order status %q, want %q", got, want)
			}
			line := logLineWith(shop.logs.String(), `msg="create checkout session"`, fmt.Sprintf("order_id=%d ", orderID))
			for _, want := range []string{"level=ERROR", "xyzzy", "stripe_request_id=req_123"} {
				if !strings.Contains(line, want) {
					t.Errorf("log line lacks %q: %q\nlog:\n%s", want, line, shop.logs.String())
				}
			}
			assertCartHolds(t, c, tote.Name, "$48.00")

			setFakeFailure(shop.fake, nil)
			o := c.checkout()
			if o.ID == orderID {
				t.Errorf("checkout after the failure reused failed order %d", orderID)
			}
			if got, want := o.Status, store.StatusPending; got != want {
				t.Errorf("new order status %q, want %q", got, want)
			}
			if orders, err := shop.db.OrdersForUser(context.Background(), u.ID, 0); err != nil || len(orders) != 2 {
				t.Errorf("user has %d orders (err %v), want 2 (one failed, one pending)", len(orders), err)
			}
		})
	}
}

func TestCheckoutReuse(t *testing.T) {
	ctx := context.Background()
	// Guests and users both get their open order back when the cart has not changed.
	for _, who := range []string{"Guest", "User"} {
		t.Run("SameCartTwice/"+who, func(t *testing.T) {
			shop := newTestShop(t)
			c := shop.client()
			if who == "User" {
				c.signup("fay@example.com")
			}
			c.addToCart("canvas-tote", 2)
			first := c.checkout()
			second := c.checkout()
			if got, want := second.ID, first.ID; got != want {
				t.Errorf("second checkout made order %d, want the first, %d", got, want)
			}
			if got, want := second.CheckoutSessionID, first.CheckoutSessionID; got != want {
				t.Errorf("second checkout session %q, want %q", got, want)
			}
			if _, err := shop.db.Order(ctx, first.ID+1); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("a second order exists (err %v)", err)
			}
			if got, want := len(shop.fake.calls()), 1; got != want {
				t.Errorf("%d checkout sessions requested, want %d", got, want)
			}
		})
	}

	t.Run("Concurrent", func(t *testing.T) {
		shop := newTestShop(t)
		c := shop.client()
		u := c.signup("gus@example.com")
		c.addToCart("stoneware-mug", 1)

		const n = 4
		var wg sync.WaitGroup
		results := make([]response, n)
		errs := make([]error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest(http.MethodPost, shop.srv.URL+"/create-checkout-session/", nil)
				req.Header.Set("Accept", "application/json")
				<-start
				results[i], errs[i] = sendRaw(c, req)
			}()
		}
		close(start)
		wg.Wait()
		var sessions []string
		for i := range n {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			id, _ := sessionAnswer(t, results[i])
			sessions = append(sessions, id)
		}
		for _, id := range sessions[1:] {
			if id != sessions[0] {
				t.Errorf("concurrent checkouts got sessions %q, want one", sessions)
				break
			}
		}
		orders, err := shop.db.OrdersForUser(ctx, u.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(orders), 1; got != want {
			t.Fatalf("%d orders, want %d", got, want)
		}
		for _, call := range shop.fake.calls() {
			if call.OrderID != orders[0].ID || call.IdempotencyKey != orders[0].IdempotencyKey() {
				t.Errorf("session requested for order %d with key %q, want order %d with key %q",
					call.OrderID, call.IdempotencyKey, orders[0].ID, orders[0].IdempotencyKey())
			}
		}
	})

	t.Run("ChangedCart", func(t *testing.T) {
		shop := newTestShop(t)
		c := shop.client()
		u := c.signup("hal@example.com")
		c.addToCart("canvas-tote", 1)
		first := c.checkout()
		c.addToCart("wool-socks", 1)
		second := c.checkout()
		if second.ID == first.ID || second.CheckoutSessionID == first.CheckoutSessionID {
			t.Fatalf("checkout after a cart change reused order %d (session %s)", first.ID, first.CheckoutSessionID)
		}
		if got, want := len(second.Items), 2; got != want {
			t.Errorf("new order has %d items, want %d", got, want)
		}
		if got, want := second.AmountTotal, int64(2400+2100); got != want {
			t.Errorf("new order total %d, want %d", got, want)
		}
		if orders, err := shop.db.OrdersForUser(ctx, u.ID, 0); err != nil || len(orders) != 2 {
			t.Errorf("user has %d orders (err %v), want 2", len(orders), err)
		}
	})
}

// racingCheckout stages two concurrent checkouts of one order: the first Stripe call waits until the
// second has started and then fails; the second succeeds once the test releases it.
type racingCheckout struct {
	mu            sync.Mutex
	n             int
	firstIn       chan struct{}
	secondIn      chan struct{}
	releaseSecond chan struct{}
	expired       []string
}

func newRacingCheckout() *racingCheckout {
	return &racingCheckout{firstIn: make(chan struct{}), secondIn: make(chan struct{}), releaseSecond: make(chan struct{})}
}

func (r *racingCheckout) CreateCheckoutSession(ctx context.Context, req payments.CheckoutRequest) (payments.CheckoutSession, error) {
	r.mu.Lock()
	r.n++
	n := r.n
	r.mu.Unlock()
	id := fmt.Sprintf("cs_test_race_%d_%s", req.OrderID, strings.ReplaceAll(req.IdempotencyKey, "-", ""))
	session := payments.CheckoutSession{ID: id, URL: "https://checkout.example.test/pay/" + id, ExpiresAt: time.Now().Add(24 * time.Hour)}
	switch n {
	case 1:
		close(r.firstIn)
		select { // if no second call comes, fail anyway so that the test cannot hang
		case <-r.secondIn:
		case <-time.After(5 * time.Second):
		case <-ctx.Done():
		}
		return payments.CheckoutSession{}, errors.New("stripe: request timed out")
	case 2:
		close(r.secondIn)
		select {
		case <-r.releaseSecond:
		case <-ctx.Done():
			return payments.CheckoutSession{}, ctx.Err()
		}
	}
	return session, nil
}

func (r *racingCheckout) ExpireCheckoutSession(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expired = append(r.expired, id)
	return nil
}

func (r *racingCheckout) PublishableKey() string { return "pk_test_race" }
func (r *racingCheckout) CheckoutOrigin() string { return "https://checkout.example.test" }

// TestCheckoutConcurrentFailure: a double-submitted checkout whose first Stripe call fails while the
// second succeeds must not send the shopper to pay for an order the shop has already marked failed.
func TestCheckoutConcurrentFailure(t *testing.T) {
	race := newRacingCheckout()
	shop := newTestShop(t, withCheckout(race))
	c := shop.client()
	u := c.signup("max@example.com")
	c.addToCart("canvas-tote", 1)

	type result struct {
		res response
		err error
	}
	send := func() chan result {
		ch := make(chan result, 1)
		go func() {
			req, _ := http.NewRequest(http.MethodPost, shop.srv.URL+"/create-checkout-session/", nil)
			req.Header.Set("Accept", "application/json")
			res, err := sendRaw(c, req)
			ch <- result{res, err}
		}()
		return ch
	}
	wait := func(ch chan result) response {
		t.Helper()
		select {
		case r := <-ch:
			if r.err != nil {
				t.Fatal(r.err)
			}
			return r.res
		case <-time.After(10 * time.Second):
			t.Fatal("checkout did not answer within 10s")
		}
		return response{}
	}

	first := send()
	select {
	case <-race.firstIn:
	case <-time.After(10 * time.Second):
		t.Fatal("the first checkout never called Stripe")
	}
	second := send()
	if got, want := wait(first).StatusCode, http.StatusBadGateway; got != want {
		t.Fatalf("first checkout: status %d, want %d", got, want)
	}
	close(race.releaseSecond)
	res := wait(second)

	orders, err := shop.db.OrdersForUser(context.Background(), u.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		// Refusing the second request is fine, as long as its session can no longer be paid
		// and a fresh checkout then works.
		race.mu.Lock()
		expired := len(race.expired)
		race.mu.Unlock()
		if expired != 1 {
			t.Errorf("%d orphaned sessions expired, want 1", expired)
		}
		c.checkout()
		return
	}
	sessionID, _ := sessionAnswer(t, res)
	o, err := shop.db.OrderBySession(context.Background(), sessionID)
	if err != nil {
		t.Fatalf("the shopper was sent to pay session %s, which no order has: %v", sessionID, err)
	}
	if got, want := o.Status, store.StatusPending; got != want {
		t.Errorf("the shopper was sent to pay session %s of order %d, which is %q, want %q (orders: %d)",
			sessionID, o.ID, got, want, len(orders))
	}
	// What the shopper would then see: they pay, Stripe confirms, and the order must be paid.
	shop.sendEvent("evt_race_paid", "checkout.session.completed", sessionObject(o, "paid"))
	if got, want := shop.order(o.ID).Status, store.StatusPaid; got != want {
		t.Errorf("after Stripe confirmed the payment, order %d is %q, want %q", o.ID, got, want)
	}
}

func TestCheckoutSuccessPage(t *testing.T) {
	// newOrder has a logged-in owner check out 2 totes and a mug.
	newOrder := func(t *testing.T) (*testShop, *testClient, store.Order) {
		shop := newTestShop(t)
		owner := shop.client()
		owner.signup("ida@example.com")
		owner.addToCart("canvas-tote", 2)
		owner.addToCart("stoneware-mug", 1)
		return shop, owner, owner.checkout()
	}
	successPath := func(sessionID string) string { return "/success/?session_id=" + url.QueryEscape(sessionID) }
	wantShown := []string{"Awaiting payment confirmation", "2 × Canvas Tote Bag", "1 × Stoneware Mug", "$66.00"}

	t.Run("Owner", func(t *testing.T) {
		_, owner, o := newOrder(t)
		res := owner.get(successPath(o.CheckoutSessionID))
		if got, want := res.StatusCode, http.StatusOK; got != want {
			t.Fatalf("status %d, want %d; body:\n%s", got, want, res.body)
		}
		for _, want := range append(wantShown, fmt.Sprintf("Order #%d", o.ID)) {
			if !strings.Contains(res.body, want) {
				t.Errorf("success page lacks %q:\n%s", want, res.body)
			}
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		shop, owner, o := newOrder(t)
		stranger := shop.client()
		stranger.signup("jon@example.com")
		tests := []struct {
			name   string
			client *testClient
			path   string
		}{
			{"UnknownSession", owner, successPath("cs_test_unknown")},
			{"NoSessionID", owner, "/success/"},
			{"OtherUser", stranger, successPath(o.CheckoutSessionID)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res := tt.client.get(tt.path)
				if got, want := res.StatusCode, http.StatusNotFound; got != want {
					t.Fatalf("status %d, want %d; body:\n%s", got, want, res.body)
				}
				for _, secret := range []string{"Canvas Tote Bag", "Stoneware Mug", "$66.00"} {
					if strings.Contains(res.body, secret) {
						t.Errorf("404 page shows %q:\n%s", secret, res.body)
					}
				}
			})
		}
	})

	t.Run("OwnerLoggedOut", func(t *testing.T) {
		shop, owner, o := newOrder(t)
		if res := owner.post("/logout", nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout: status %d", res.StatusCode)
		}
		path := successPath(o.CheckoutSessionID)
		for name, c := range map[string]*testClient{"AfterLogout": owner, "NoCookie": shop.client()} {
			t.Run(name, func(t *testing.T) {
				res := c.get(path)
				if got, want := res.StatusCode, http.StatusSeeOther; got != want {
					t.Fatalf("status %d, want %d; body:\n%s", got, want, res.body)
				}
				if got, want := res.Header.Get("Location"), "/login?next="+url.QueryEscape(path); got != want {
					t.Errorf("Location %q, want %q", got, want)
				}
				if strings.Contains(res.body, "Canvas Tote Bag") {
					t.Errorf("redirect shows the order:\n%s", res.body)
				}
			})
		}
	})

	t.Run("GuestOrder", func(t *testing.T) {
		shop := newTestShop(t)
		guest := shop.client()
		guest.addToCart("canvas-tote", 2)
		guest.addToCart("stoneware-mug", 1)
		o := guest.checkout()
		user := shop.client()
		user.signup("kim@example.com")
		for name, c := range map[string]*testClient{"Buyer": guest, "Anonymous": shop.client(), "LoggedIn": user} {
			t.Run(name, func(t *testing.T) {
				res := c.get(successPath(o.CheckoutSessionID))
				if got, want := res.StatusCode, http.StatusOK; got != want {
					t.Fatalf("status %d, want %d; body:\n%s", got, want, res.body)
				}
				for _, want := range wantShown {
					if !strings.Contains(res.body, want) {
						t.Errorf("success page lacks %q:\n%s", want, res.body)
					}
				}
			})
		}
	})
}

func TestCheckoutCancelledPage(t *testing.T) {
	for _, who := range []string{"Guest", "User"} {
		t.Run(who, func(t *testing.T) {
			shop := newTestShop(t)
			c := shop.client()
			if who == "User" {
				c.signup("lea@example.com")
			}
			c.addToCart("canvas-tote", 2)
			c.checkout()

			res := c.get("/cancelled/")
			if got, want := res.StatusCode, http.StatusOK; got != want {
				t.Fatalf("status %d, want %d; body:\n%s", got, want, res.body)
			}
			for _, want := range []string{"nothing was charged", `href="/cart"`} {
				if !strings.Contains(res.body, want) {
					t.Errorf("cancelled page lacks %q:\n%s", want, res.body)
				}
			}
			assertCartHolds(t, c, "Canvas Tote Bag", "$48.00")
		})
	}
}
