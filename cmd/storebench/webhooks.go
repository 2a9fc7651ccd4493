package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"storefront/payments"
	"storefront/store"
)

// benchOrder is a pending order with an attached Checkout Session, ready to be confirmed.
type benchOrder struct {
	ID        int64
	UserID    int64 // 0 for a guest
	SessionID string
	Amount    int64
	Currency  string
}

// webhookResult is what the durable webhook run measured.
type webhookResult struct {
	Orders, Senders int
	Committed       int // answered 200 with outcome "applied"
	Failed          int
	Elapsed         time.Duration
	P50, P99        time.Duration
	Paid            int // orders found paid in the database afterwards
}

// CPS is the confirmations committed per second.
func (r webhookResult) CPS() float64 { return float64(r.Committed) / r.Elapsed.Seconds() }

// prepareOrder makes a pending order of two products in ref's cart and attaches a fake
// Checkout Session to it, as the checkout handler would after Stripe answered.
func prepareOrder(ctx context.Context, db *store.DB, ref store.CartRef, products []store.Product, i int) (benchOrder, error) {
	for j, qty := range []int{1 + i%3, 1} {
		p := products[(i+3*j)%len(products)]
		if err := db.AddToCart(ctx, ref, p.ID, qty); err != nil {
			return benchOrder{}, fmt.Errorf("add to cart: %w", err)
		}
	}
	o, _, err := db.PrepareOrder(ctx, ref)
	if err != nil {
		return benchOrder{}, fmt.Errorf("prepare order: %w", err)
	}
	sid := "cs_bench_" + strconv.FormatInt(o.ID, 10)
	if err := db.AttachCheckoutSession(ctx, o.ID, sid, "https://checkout.stripe.com/c/pay/"+sid, time.Now().Add(24*time.Hour)); err != nil {
		return benchOrder{}, err
	}
	return benchOrder{ID: o.ID, UserID: o.UserID, SessionID: sid, Amount: o.AmountTotal, Currency: o.Currency}, nil
}

// seedGuestOrders opens the (stopped) shop's database and adds n pending guest orders, their
// carts named by tokens that start with prefix.
func seedGuestOrders(ctx context.Context, dbPath string, n int, prefix string) ([]benchOrder, error) {
	db, err := store.Open(ctx, dbPath)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	products, err := db.Products(ctx)
	if err != nil || len(products) == 0 {
		return nil, fmt.Errorf("seed orders: no products (%v)", err)
	}
	orders := make([]benchOrder, 0, n)
	for i := range n {
		o, err := prepareOrder(ctx, db, store.CartRef{Token: prefix + strconv.Itoa(i)}, products, i)
		if err != nil {
			return nil, fmt.Errorf("seed order %d: %w", i, err)
		}
		orders = append(orders, o)
	}
	return orders, nil
}

// completedEventJSON is a checkout.session.completed event as Stripe sends it for a card
// payment, so that the shop parses and stores an event of the real size.
const completedEventJSON = `{
  "id": "$EVENT",
  "object": "event",
  "api_version": "$API_VERSION",
  "created": $NOW,
  "data": {
    "object": {
      "id": "$SESSION",
      "object": "checkout.session",
      "after_expiration": null,
      "allow_promotion_codes": null,
      "amount_subtotal": $AMOUNT,
      "amount_total": $AMOUNT,
      "automatic_tax": {"enabled": false, "liability": null, "status": null},
      "billing_address_collection": null,
      "cancel_url": "http://localhost:8000/cancelled/",
      "client_reference_id": $CLIENT_REFERENCE_ID,
      "client_secret": null,
      "consent": null,
      "consent_collection": null,
      "created": $NOW,
      "currency": "$CURRENCY",
      "currency_conversion": null,
      "custom_fields": [],
      "custom_text": {"after_submit": null, "shipping_address": null, "submit": null, "terms_of_service_acceptance": null},
      "customer": null,
      "customer_creation": "if_required",
      "customer_details": {
        "address": {"city": null, "country": "US", "line1": null, "line2": null, "postal_code": "10001", "state": null},
        "email": "buyer@example.com",
        "name": "Bench Buyer",
        "phone": null,
        "tax_exempt": "none",
        "tax_ids": []
      },
      "customer_email": null,
      "expires_at": $EXPIRES,
      "invoice": null,
      "invoice_creation": {"enabled": false, "invoice_data": {"account_tax_ids": null, "custom_fields": null, "description": null, "footer": null, "issuer": null, "metadata": {}, "rendering_options": null}},
      "livemode": false,
      "locale": null,
      "metadata": {"order_id": "$ORDER"},
      "mode": "payment",
      "payment_intent": "pi_bench_$ORDER",
      "payment_link": null,
      "payment_method_collection": "if_required",
      "payment_method_configuration_details": null,
      "payment_method_options": {"card": {"request_three_d_secure": "automatic"}},
      "payment_method_types": ["card"],
      "payment_status": "paid",
      "phone_number_collection": {"enabled": false},
      "recovered_from": null,
      "saved_payment_method_options": null,
      "setup_intent": null,
      "shipping_address_collection": null,
      "shipping_cost": null,
      "shipping_details": null,
      "shipping_options": [],
      "status": "complete",
      "submit_type": null,
      "subscription": null,
      "success_url": "http://localhost:8000/success/?session_id={CHECKOUT_SESSION_ID}",
      "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
      "ui_mode": "hosted",
      "url": null
    }
  },
  "livemode": false,
  "pending_webhooks": 1,
  "request": {"id": null, "idempotency_key": null},
  "type": "checkout.session.completed"
}`

// completedEvent is a checkout.session.completed event that pays the order: the amount and
// currency are the order's, and client_reference_id is its user (null for a guest).
func completedEvent(o benchOrder, eventID string) []byte {
	ref := "null"
	if o.UserID != 0 {
		ref = strconv.Quote(strconv.FormatInt(o.UserID, 10))
	}
	now := time.Now().Unix()
	return []byte(strings.NewReplacer(
		"$EVENT", eventID,
		"$API_VERSION", payments.APIVersion,
		"$NOW", strconv.FormatInt(now, 10),
		"$EXPIRES", strconv.FormatInt(now+86400, 10),
		"$SESSION", o.SessionID,
		"$AMOUNT", strconv.FormatInt(o.Amount, 10),
		"$CURRENCY", o.Currency,
		"$CLIENT_REFERENCE_ID", ref,
		"$ORDER", strconv.FormatInt(o.ID, 10),
	).Replace(completedEventJSON))
}

// signedWebhook is an event ready to post, with its Stripe-Signature header.
type signedWebhook struct {
	payload   []byte
	signature string
}

func signWebhook(payload []byte) signedWebhook {
	s := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: benchWebhookSecret, Timestamp: time.Now()})
	return signedWebhook{payload: payload, signature: s.Header}
}

// postWebhook delivers one signed event and reports whether the shop committed it (200, applied).
func postWebhook(ctx context.Context, client *http.Client, addr string, w signedWebhook) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/webhook/", bytes.NewReader(w.payload))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
	req.Header.Set("Stripe-Signature", w.signature)
	res, err := client.Do(req)
	if err != nil {
		return false, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return false, err
	}
	if res.StatusCode != http.StatusOK {
		return false, fmt.Errorf("webhook answered %d: %s", res.StatusCode, bytes.TrimSpace(body))
	}
	return bytes.Contains(body, []byte(`"outcome":"applied"`)), nil
}

// benchWebhooks sends a completed event for every order from senders concurrent clients and
// times each until its 200 (which the shop sends only after the commit).
func benchWebhooks(ctx context.Context, addr string, orders []benchOrder, senders int) (webhookResult, error) {
	res := webhookResult{Orders: len(orders), Senders: senders}
	// Signed up front, so that the senders spend their time waiting on the shop only.
	events := make([]signedWebhook, len(orders))
	for i, o := range orders {
		events[i] = signWebhook(completedEvent(o, fmt.Sprintf("evt_bench_%d", o.ID)))
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConnsPerHost: senders, MaxConnsPerHost: senders, DisableCompression: true}}
	defer client.CloseIdleConnections()

	var next atomic.Int64
	lat := make([][]time.Duration, senders)
	failed := make([]int, senders)
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	began := time.Now()
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(events) {
					return
				}
				t0 := time.Now()
				applied, err := postWebhook(ctx, client, addr, events[i])
				if err != nil || !applied {
					failed[s]++
					if err == nil {
						err = fmt.Errorf("event for order %d was not applied", orders[i].ID)
					}
					errOnce.Do(func() { firstErr = err })
					continue
				}
				lat[s] = append(lat[s], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(began)
	var all []time.Duration
	for s := range senders {
		all = append(all, lat[s]...)
		res.Failed += failed[s]
	}
	res.Committed = len(all)
	res.P50, res.P99 = percentile(all, 50), percentile(all, 99)
	if res.Failed > 0 {
		return res, fmt.Errorf("%d of %d webhooks failed; first: %v", res.Failed, len(orders), firstErr)
	}
	return res, ctx.Err()
}

// productIDs lists the active products' ids.
func productIDs(ctx context.Context, dbPath string) ([]int64, error) {
	db, err := store.Open(ctx, dbPath)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	products, err := db.Products(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(products))
	for i, p := range products {
		ids[i] = p.ID
	}
	return ids, nil
}

// countPaid opens the stopped shop's database and counts the orders that are paid.
func countPaid(ctx context.Context, dbPath string, orders []benchOrder) (int, error) {
	db, err := store.Open(ctx, dbPath)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	paid := 0
	for _, o := range orders {
		got, err := db.Order(ctx, o.ID)
		if err != nil {
			return paid, fmt.Errorf("order %d: %w", o.ID, err)
		}
		if got.Status == store.StatusPaid {
			paid++
		}
	}
	return paid, nil
}
