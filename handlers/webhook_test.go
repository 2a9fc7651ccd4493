package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"storefront/store"
	"storefront/store/storetest"
)

// newShopWithSecrets is a test shop whose webhook accepts exactly the given secrets, with a
// connection to its database to count rows through.
func newShopWithSecrets(t *testing.T, secrets ...string) (*testShop, storetest.DB) {
	t.Helper()
	shop := newTestShop(t, func(d *Deps) { d.WebhookSecrets = secrets })
	return shop, shop.sql(t)
}

// whPostWebhookHeader delivers body with a Stripe-Signature header of the test's choosing ("" sends none).
func whPostWebhookHeader(t *testing.T, shop *testShop, body []byte, sigHeader string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, shop.srv.URL+"/webhook/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if sigHeader != "" {
		req.Header.Set("Stripe-Signature", sigHeader)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(res.Body)
	return response{Response: res, body: b.String()}
}

// whSignature is the Stripe-Signature header for payload signed with secret at time at.
func whSignature(payload []byte, secret string, at time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: at}).Header
}

// whDeliver sends a correctly signed payload and returns the webhook's status and outcome.
func whDeliver(t *testing.T, shop *testShop, payload []byte) (int, string) {
	t.Helper()
	res := shop.postWebhook(payload, testSecret, time.Now())
	return res.StatusCode, whOutcomeOf(t, res)
}

// whOutcomeOf reads the "outcome" of a webhook answer ("" when there is none, e.g. on refusal).
func whOutcomeOf(t *testing.T, res response) string {
	t.Helper()
	var out struct {
		Outcome string `json:"outcome"`
	}
	if err := json.Unmarshal([]byte(res.body), &out); err != nil {
		t.Fatalf("webhook answer is not JSON: %v\n%s", err, res.body)
	}
	return out.Outcome
}

// whShopper signs up, fills a cart with 2 totes and a mug ($66.00) and checks out.
func whShopper(t *testing.T, shop *testShop, email string) (*testClient, store.User, store.Order) {
	t.Helper()
	c := shop.client()
	u := c.signup(email)
	c.addToCart("canvas-tote", 2)
	c.addToCart("stoneware-mug", 1)
	o := c.checkout()
	if got, want := o.AmountTotal, int64(2*2400+1800); got != want {
		t.Fatalf("order total %d, want %d", got, want)
	}
	return c, u, o
}

// whChargeObject is the data.object of a charge.refunded event for a paid order.
func whChargeObject(o store.Order, paymentIntent string, refunded bool, amountRefunded int64) map[string]any {
	return map[string]any{
		"id": "ch_" + o.CheckoutSessionID, "object": "charge", "amount": o.AmountTotal, "currency": o.Currency,
		"payment_intent": paymentIntent, "refunded": refunded, "amount_refunded": amountRefunded, "status": "succeeded",
	}
}

// whAPIOrder is an order as GET /orders answers it in JSON.
type whAPIOrder struct {
	ID                int64     `json:"id"`
	Status            string    `json:"status"`
	AmountTotal       int64     `json:"amountTotal"`
	Currency          string    `json:"currency"`
	CheckoutSessionID string    `json:"checkoutSessionId"`
	CreatedAt         time.Time `json:"createdAt"`
	Items             []struct {
		ProductID  int64  `json:"productId"`
		Name       string `json:"name"`
		Quantity   int    `json:"quantity"`
		UnitAmount int64  `json:"unitAmount"`
	} `json:"items"`
}

// whAPIOrderOf finds order id in the client's GET /orders JSON.
func whAPIOrderOf(t *testing.T, c *testClient, id int64) whAPIOrder {
	t.Helper()
	res := c.get("/orders", "Accept", "application/json")
	if got, want := res.StatusCode, http.StatusOK; got != want {
		t.Fatalf("GET /orders: status %d, want %d\n%s", got, want, res.body)
	}
	var out struct{ Orders []whAPIOrder }
	if err := json.Unmarshal([]byte(res.body), &out); err != nil {
		t.Fatalf("GET /orders: %v\n%s", err, res.body)
	}
	for _, o := range out.Orders {
		if o.ID == id {
			return o
		}
	}
	t.Fatalf("GET /orders: no order %d in\n%s", id, res.body)
	return whAPIOrder{}
}

var whStatusLabels = map[store.Status]string{
	store.StatusPending: "Awaiting payment", store.StatusProcessing: "Processing", store.StatusPaid: "Paid",
	store.StatusFailed: "Payment failed", store.StatusExpired: "Expired", store.StatusRefunded: "Refunded",
	store.StatusNeedsReview: "Needs review",
}

// whCheckStatusEverywhere checks an order's status in the database, in GET /orders JSON and on the
// HTML orders page as its owner sees them.
func whCheckStatusEverywhere(t *testing.T, shop *testShop, c *testClient, id int64, want store.Status) {
	t.Helper()
	if got := shop.order(id).Status; got != want {
		t.Errorf("database: order %d is %s, want %s", id, got, want)
	}
	if got := whAPIOrderOf(t, c, id).Status; got != string(want) {
		t.Errorf("GET /orders JSON: order %d is %s, want %s", id, got, want)
	}
	res := c.get("/orders")
	if got, want := res.StatusCode, http.StatusOK; got != want {
		t.Fatalf("GET /orders: status %d, want %d", got, want)
	}
	row := regexp.MustCompile(fmt.Sprintf(`(?s)<article[^>]*id="order-%d"[^>]*data-status="([a-z_]+)"[^>]*>(.*?)</article>`, id)).FindStringSubmatch(res.body)
	if row == nil {
		t.Fatalf("orders page: no row for order %d\n%s", id, res.body)
	}
	if got := row[1]; got != string(want) {
		t.Errorf("orders page: order %d row is %s, want %s", id, got, want)
	}
	if label := whStatusLabels[want]; !strings.Contains(row[2], ">"+label+"<") {
		t.Errorf("orders page: order %d row does not say %q:\n%s", id, label, row[2])
	}
}

// whDrain returns the order changes already published to sub, without waiting: the webhook
// publishes before it answers, so once its answer is in, every message it sent is too.
func whDrain(sub *watcher) []store.Order {
	var out []store.Order
	for {
		select {
		case o, ok := <-sub.C:
			if !ok {
				return out
			}
			out = append(out, *o)
		default:
			return out
		}
	}
}

func TestWebhookSessionEvents(t *testing.T) {
	type step struct {
		typ           string
		paymentStatus string
		wantOutcome   string
		wantStatus    store.Status
	}
	const (
		completed = "checkout.session.completed"
		succeeded = "checkout.session.async_payment_succeeded"
		failed    = "checkout.session.async_payment_failed"
		expired   = "checkout.session.expired"
	)
	tests := []struct {
		name  string
		steps []step
	}{
		{"CompletedPaid", []step{
			{completed, "paid", "applied", store.StatusPaid},
		}},
		{"CompletedUnpaidThenAsyncSucceeded", []step{
			{completed, "unpaid", "applied", store.StatusProcessing},
			{succeeded, "paid", "applied", store.StatusPaid},
		}},
		{"CompletedUnpaidThenAsyncFailed", []step{
			{completed, "unpaid", "applied", store.StatusProcessing},
			{failed, "unpaid", "applied", store.StatusFailed},
		}},
		{"Expired", []step{
			{expired, "unpaid", "applied", store.StatusExpired},
		}},
		{"PaidAfterExpiry", []step{
			{expired, "unpaid", "applied", store.StatusExpired},
			{completed, "paid", "applied", store.StatusPaid},
		}},
		{"AsyncSucceededBeforeCompletedUnpaid", []step{
			{succeeded, "paid", "applied", store.StatusPaid},
			{completed, "unpaid", "stale", store.StatusPaid},
		}},
		{"ExpiredAfterPaid", []step{
			{completed, "paid", "applied", store.StatusPaid},
			{expired, "unpaid", "stale", store.StatusPaid},
		}},
		{"FailedAfterPaid", []step{
			{completed, "paid", "applied", store.StatusPaid},
			{failed, "unpaid", "stale", store.StatusPaid},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shop := newTestShop(t)
			c, _, o := whShopper(t, shop, "ann@example.com")
			for i, s := range tt.steps {
				id := fmt.Sprintf("evt_%s_%d", tt.name, i)
				status, outcome := whDeliver(t, shop, event(id, s.typ, sessionObject(o, s.paymentStatus)))
				if got, want := status, http.StatusOK; got != want {
					t.Fatalf("%s: status %d, want %d", s.typ, got, want)
				}
				if got, want := outcome, s.wantOutcome; got != want {
					t.Errorf("%s: outcome %q, want %q", s.typ, got, want)
				}
				if got, want := shop.order(o.ID).Status, s.wantStatus; got != want {
					t.Errorf("after %s: order is %s, want %s", s.typ, got, want)
				}
				// The same event again changes nothing.
				status, outcome = whDeliver(t, shop, event(id, s.typ, sessionObject(o, s.paymentStatus)))
				if status != http.StatusOK || outcome != "duplicate" {
					t.Errorf("%s again: %d %q, want 200 \"duplicate\"", s.typ, status, outcome)
				}
			}
			whCheckStatusEverywhere(t, shop, c, o.ID, tt.steps[len(tt.steps)-1].wantStatus)
		})
	}
}

func TestWebhookOrdersJSON(t *testing.T) {
	shop := newTestShop(t)
	c, _, o := whShopper(t, shop, "ann@example.com")
	shop.sendEvent("evt_json", "checkout.session.completed", sessionObject(o, "paid"))

	res := c.get("/orders", "Accept", "application/json")
	if got, want := res.StatusCode, http.StatusOK; got != want {
		t.Fatalf("status %d, want %d", got, want)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	// The field names are a contract with clients, so check them as a client reads them.
	var raw struct {
		Orders []map[string]json.RawMessage `json:"orders"`
	}
	if err := json.Unmarshal([]byte(res.body), &raw); err != nil {
		t.Fatalf("%v\n%s", err, res.body)
	}
	if got, want := len(raw.Orders), 1; got != want {
		t.Fatalf("%d orders, want %d:\n%s", got, want, res.body)
	}
	for _, k := range []string{"id", "status", "amountTotal", "currency", "checkoutSessionId", "paymentIntentId", "kind", "createdAt", "items"} {
		if _, ok := raw.Orders[0][k]; !ok {
			t.Errorf("order has no %q: %s", k, res.body)
		}
	}
	if string(raw.Orders[0]["kind"]) != `"checkout"` || string(raw.Orders[0]["paymentIntentId"]) != `"pi_`+o.CheckoutSessionID+`"` {
		t.Errorf("kind %s, paymentIntentId %s; want checkout and the session's intent", raw.Orders[0]["kind"], raw.Orders[0]["paymentIntentId"])
	}
	got := whAPIOrderOf(t, c, o.ID)
	if got.Status != "paid" || got.AmountTotal != 6600 || got.Currency != "usd" || got.CheckoutSessionID != o.CheckoutSessionID {
		t.Errorf("order %+v, want paid 6600 usd %s", got, o.CheckoutSessionID)
	}
	if time.Since(got.CreatedAt) > time.Minute || got.CreatedAt.After(time.Now().Add(time.Second)) {
		t.Errorf("createdAt %v, want about now", got.CreatedAt)
	}
	if len(got.Items) != 2 {
		t.Fatalf("items %+v, want 2", got.Items)
	}
	tote, mug := got.Items[0], got.Items[1]
	if tote.Name != "Canvas Tote Bag" || tote.Quantity != 2 || tote.UnitAmount != 2400 || tote.ProductID == 0 {
		t.Errorf("first item %+v, want 2 × Canvas Tote Bag at 2400", tote)
	}
	if mug.Name != "Stoneware Mug" || mug.Quantity != 1 || mug.UnitAmount != 1800 || mug.ProductID == 0 {
		t.Errorf("second item %+v, want 1 × Stoneware Mug at 1800", mug)
	}
}

func TestWebhookRefund(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		shop := newTestShop(t)
		c, _, o := whShopper(t, shop, "ann@example.com")
		shop.sendEvent("evt_paid", "checkout.session.completed", sessionObject(o, "paid"))
		pi := shop.order(o.ID).PaymentIntent
		if pi == "" {
			t.Fatal("paid order has no payment intent")
		}
		status, outcome := whDeliver(t, shop, event("evt_refund", "charge.refunded", whChargeObject(o, pi, true, o.AmountTotal)))
		if status != http.StatusOK || outcome != "applied" {
			t.Fatalf("refund: %d %q, want 200 \"applied\"", status, outcome)
		}
		whCheckStatusEverywhere(t, shop, c, o.ID, store.StatusRefunded)
	})
	t.Run("PartialThenFull", func(t *testing.T) {
		shop := newTestShop(t)
		c, _, o := whShopper(t, shop, "ann@example.com")
		shop.sendEvent("evt_paid", "checkout.session.completed", sessionObject(o, "paid"))
		pi := "pi_" + o.CheckoutSessionID
		status, outcome := whDeliver(t, shop, event("evt_partial", "charge.refunded", whChargeObject(o, pi, false, 1000)))
		if status != http.StatusOK || outcome != "recorded" {
			t.Fatalf("partial refund: %d %q, want 200 \"recorded\"", status, outcome)
		}
		whCheckStatusEverywhere(t, shop, c, o.ID, store.StatusPaid)
		shop.sendEvent("evt_full", "charge.refunded", whChargeObject(o, pi, true, o.AmountTotal))
		whCheckStatusEverywhere(t, shop, c, o.ID, store.StatusRefunded)
	})
	t.Run("BeforeCompleted", func(t *testing.T) {
		// Stripe does not promise order: a refund may arrive before the confirmation.
		shop := newTestShop(t)
		c, _, o := whShopper(t, shop, "ann@example.com")
		pi := "pi_" + o.CheckoutSessionID
		status, outcome := whDeliver(t, shop, event("evt_refund", "charge.refunded", whChargeObject(o, pi, true, o.AmountTotal)))
		if status != http.StatusOK || outcome != "unmatched" {
			t.Fatalf("early refund: %d %q, want 200 \"unmatched\"", status, outcome)
		}
		if got, want := shop.order(o.ID).Status, store.StatusPending; got != want {
			t.Errorf("after early refund: order is %s, want %s", got, want)
		}
		shop.sendEvent("evt_paid", "checkout.session.completed", sessionObject(o, "paid"))
		whCheckStatusEverywhere(t, shop, c, o.ID, store.StatusRefunded)
	})
	t.Run("DeeplyNestedBeforeCompleted", func(t *testing.T) {
		// An early refund whose payload is valid JSON to Go but nested deeper than SQLite's JSON
		// functions accept (1000 levels) must not stop the confirmation from being recorded.
		shop := newTestShop(t)
		c, _, o := whShopper(t, shop, "ann@example.com")
		obj := whChargeObject(o, "pi_"+o.CheckoutSessionID, true, o.AmountTotal)
		obj["outcome"] = json.RawMessage(strings.Repeat(`{"a":`, 1200) + "1" + strings.Repeat("}", 1200))
		status, _ := whDeliver(t, shop, event("evt_refund", "charge.refunded", obj))
		if got, want := status, http.StatusOK; got != want {
			t.Fatalf("early refund: status %d, want %d", got, want)
		}
		status, outcome := whDeliver(t, shop, event("evt_paid", "checkout.session.completed", sessionObject(o, "paid")))
		if status != http.StatusOK || outcome != "applied" {
			t.Fatalf("confirmation after the refund: %d %q, want 200 \"applied\"", status, outcome)
		}
		got := shop.order(o.ID).Status
		if got != store.StatusPaid && got != store.StatusRefunded {
			t.Errorf("order is %s, want paid or refunded", got)
		}
		whCheckStatusEverywhere(t, shop, c, o.ID, got)
	})
	t.Run("UnknownPaymentIntent", func(t *testing.T) {
		shop := newTestShop(t)
		c, _, o := whShopper(t, shop, "ann@example.com")
		shop.sendEvent("evt_paid", "checkout.session.completed", sessionObject(o, "paid"))
		status, outcome := whDeliver(t, shop, event("evt_refund", "charge.refunded", whChargeObject(o, "pi_someone_else", true, o.AmountTotal)))
		if status != http.StatusOK || outcome != "unmatched" {
			t.Fatalf("refund of another payment: %d %q, want 200 \"unmatched\"", status, outcome)
		}
		whCheckStatusEverywhere(t, shop, c, o.ID, store.StatusPaid)
	})
}

func TestWebhookConcurrentDuplicates(t *testing.T) {
	shop, raw := newShopWithSecrets(t, testSecret)
	c, u, o := whShopper(t, shop, "ann@example.com")
	sub := shop.watch(userTopic(u.ID))
	defer sub.Close()

	payload := event("evt_concurrent", "checkout.session.completed", sessionObject(o, "paid"))
	const n = 10
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
		outcomes = map[string]int{}
	)
	for range n {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, shop.srv.URL+"/webhook/", bytes.NewReader(payload))
			req.Header.Set("Stripe-Signature", whSignature(payload, testSecret, time.Now()))
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			var out struct{ Outcome string }
			json.NewDecoder(res.Body).Decode(&out)
			mu.Lock()
			defer mu.Unlock()
			statuses[res.StatusCode]++
			outcomes[out.Outcome]++
		})
	}
	wg.Wait()

	if got, want := statuses[http.StatusOK], n; got != want {
		t.Errorf("%d of %d deliveries answered 200 (statuses %v)", got, n, statuses)
	}
	if got, want := outcomes["applied"], 1; got != want {
		t.Errorf("%d deliveries applied the event, want %d (outcomes %v)", got, want, outcomes)
	}
	if got, want := outcomes["duplicate"], n-1; got != want {
		t.Errorf("%d deliveries were duplicates, want %d (outcomes %v)", got, want, outcomes)
	}
	if got, want := sqlInt(t, raw, "SELECT count(*) FROM stripe_events WHERE id = ?", "evt_concurrent"), 1; got != want {
		t.Errorf("%d stripe_events rows, want %d", got, want)
	}
	if got, want := sqlInt(t, raw, "SELECT count(*) FROM stripe_events"), 1; got != want {
		t.Errorf("%d stripe_events rows in all, want %d", got, want)
	}
	if got := whDrain(sub); len(got) != 1 || got[0].Status != store.StatusPaid {
		t.Errorf("published %d changes %v, want one change to paid", len(got), got)
	}
	whCheckStatusEverywhere(t, shop, c, o.ID, store.StatusPaid)
}

// whPermutations returns every ordering of xs.
func whPermutations(xs []string) [][]string {
	if len(xs) <= 1 {
		return [][]string{append([]string(nil), xs...)}
	}
	var out [][]string
	for i := range xs {
		rest := append(append([]string(nil), xs[:i]...), xs[i+1:]...)
		for _, p := range whPermutations(rest) {
			out = append(out, append([]string{xs[i]}, p...))
		}
	}
	return out
}

func TestWebhookAnyOrderEndsPaid(t *testing.T) {
	// A bank transfer: completed unpaid, then the money arrives; the session's expiry may be
	// delivered at any point among them. Whatever the order, the money was received.
	events := map[string]string{
		"completed": "checkout.session.completed",
		"succeeded": "checkout.session.async_payment_succeeded",
		"expired":   "checkout.session.expired",
	}
	for _, order := range whPermutations([]string{"completed", "succeeded", "expired"}) {
		t.Run(strings.Join(order, "-"), func(t *testing.T) {
			shop := newTestShop(t)
			c, _, o := whShopper(t, shop, "ann@example.com")
			for i, name := range order {
				shop.sendEvent(fmt.Sprintf("evt_%d_%s", i, name), events[name], sessionObject(o, map[string]string{
					"completed": "unpaid", "succeeded": "paid", "expired": "unpaid"}[name]))
			}
			whCheckStatusEverywhere(t, shop, c, o.ID, store.StatusPaid)
		})
	}
}

func TestWebhookRefused(t *testing.T) {
	const eventID = "evt_refused"
	valid := func(o store.Order) []byte {
		return event(eventID, "checkout.session.completed", sessionObject(o, "paid"))
	}
	tests := []struct {
		name       string
		send       func(t *testing.T, shop *testShop, o store.Order) response
		wantStatus int
	}{
		{"SignedWithAnotherSecret", func(t *testing.T, shop *testShop, o store.Order) response {
			return shop.postWebhook(valid(o), "whsec_forged", time.Now())
		}, http.StatusBadRequest},
		{"TamperedBody", func(t *testing.T, shop *testShop, o store.Order) response {
			// A genuine whSignature of a cheaper order, on a body that claims the real amount.
			cheap := sessionObject(o, "paid")
			cheap["amount_total"] = 1
			sig := whSignature(event(eventID, "checkout.session.completed", cheap), testSecret, time.Now())
			return whPostWebhookHeader(t, shop, valid(o), sig)
		}, http.StatusBadRequest},
		{"StaleTimestamp", func(t *testing.T, shop *testShop, o store.Order) response {
			return shop.postWebhook(valid(o), testSecret, time.Now().Add(-301*time.Second))
		}, http.StatusBadRequest},
		{"MissingSignature", func(t *testing.T, shop *testShop, o store.Order) response {
			return shop.postWebhook(valid(o), "", time.Now())
		}, http.StatusBadRequest},
		{"MalformedSignatureHeader", func(t *testing.T, shop *testShop, o store.Order) response {
			return whPostWebhookHeader(t, shop, valid(o), "not a whSignature")
		}, http.StatusBadRequest},
		{"NonNumericTimestamp", func(t *testing.T, shop *testShop, o store.Order) response {
			sig := strings.Replace(whSignature(valid(o), testSecret, time.Now()), "t=", "t=x", 1)
			return whPostWebhookHeader(t, shop, valid(o), sig)
		}, http.StatusBadRequest},
		{"NoV1Signature", func(t *testing.T, shop *testShop, o store.Order) response {
			return whPostWebhookHeader(t, shop, valid(o), fmt.Sprintf("t=%d", time.Now().Unix()))
		}, http.StatusBadRequest},
		{"MalformedJSON", func(t *testing.T, shop *testShop, o store.Order) response {
			body := valid(o)
			return shop.postWebhook(body[:len(body)/2], testSecret, time.Now())
		}, http.StatusBadRequest},
		{"NotAnEvent", func(t *testing.T, shop *testShop, o store.Order) response {
			return shop.postWebhook([]byte(`{"id":"`+eventID+`","object":"event","hello":"world"}`), testSecret, time.Now())
		}, http.StatusBadRequest},
		{"NoDataObject", func(t *testing.T, shop *testShop, o store.Order) response {
			return shop.postWebhook([]byte(`{"id":"`+eventID+`","object":"event","type":"checkout.session.completed","data":{}}`), testSecret, time.Now())
		}, http.StatusBadRequest},
		{"AmountIsAString", func(t *testing.T, shop *testShop, o store.Order) response {
			obj := sessionObject(o, "paid")
			obj["amount_total"] = fmt.Sprint(o.AmountTotal)
			return shop.postWebhook(event(eventID, "checkout.session.completed", obj), testSecret, time.Now())
		}, http.StatusBadRequest},
		{"Oversized", func(t *testing.T, shop *testShop, o store.Order) response {
			obj := sessionObject(o, "paid")
			obj["padding"] = strings.Repeat("x", 65<<10)
			return shop.postWebhook(event(eventID, "checkout.session.completed", obj), testSecret, time.Now())
		}, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shop, raw := newShopWithSecrets(t, testSecret)
			c, u, o := whShopper(t, shop, "ann@example.com")
			sub := shop.watch(userTopic(u.ID))
			defer sub.Close()

			res := tt.send(t, shop, o)
			if got, want := res.StatusCode, tt.wantStatus; got != want {
				t.Errorf("status %d, want %d\n%s", got, want, res.body)
			}
			var answer struct{ Error string }
			if err := json.Unmarshal([]byte(res.body), &answer); err != nil || answer.Error == "" {
				t.Errorf("answer %q, want a JSON error", res.body)
			}
			if got, want := shop.order(o.ID).Status, store.StatusPending; got != want {
				t.Errorf("order is %s, want %s", got, want)
			}
			if got, want := sqlInt(t, raw, "SELECT count(*) FROM stripe_events"), 0; got != want {
				t.Errorf("%d stripe_events rows, want %d", got, want)
			}
			if got := whDrain(sub); len(got) != 0 {
				t.Errorf("published %v, want nothing", got)
			}
			if !strings.Contains(shop.logs.String(), "webhook refused") {
				t.Errorf("no log line says the webhook was refused:\n%s", shop.logs.String())
			}

			// Nothing was kept of the refused delivery: Stripe's genuine one still counts.
			status, outcome := whDeliver(t, shop, valid(o))
			if status != http.StatusOK || outcome != "applied" {
				t.Fatalf("genuine delivery afterwards: %d %q, want 200 \"applied\"", status, outcome)
			}
			whCheckStatusEverywhere(t, shop, c, o.ID, store.StatusPaid)
		})
	}
}

func TestWebhookSignatureAge(t *testing.T) {
	shop := newTestShop(t)
	_, _, o := whShopper(t, shop, "ann@example.com")
	// Stripe retries with a fresh whSignature, but a delivery may sit in queues for a while.
	res := shop.postWebhook(event("evt_late", "checkout.session.completed", sessionObject(o, "paid")), testSecret, time.Now().Add(-290*time.Second))
	if got, want := res.StatusCode, http.StatusOK; got != want {
		t.Fatalf("signed 290 s ago: status %d, want %d\n%s", got, want, res.body)
	}
	if got, want := shop.order(o.ID).Status, store.StatusPaid; got != want {
		t.Errorf("order is %s, want %s", got, want)
	}
}

func TestWebhookSecretRotation(t *testing.T) {
	const oldSecret, newSecret = "whsec_old_endpoint_secret", "whsec_new_endpoint_secret"
	shop, _ := newShopWithSecrets(t, oldSecret, newSecret)
	c, _, o := whShopper(t, shop, "ann@example.com")

	for _, tt := range []struct {
		name, secret, id, typ, paymentStatus string
		wantStatus                           int
		wantOrder                            store.Status
	}{
		{"OldSecret", oldSecret, "evt_old", "checkout.session.completed", "unpaid", http.StatusOK, store.StatusProcessing},
		{"OtherSecret", testSecret, "evt_other", "checkout.session.async_payment_succeeded", "paid", http.StatusBadRequest, store.StatusProcessing},
		{"NewSecret", newSecret, "evt_new", "checkout.session.async_payment_succeeded", "paid", http.StatusOK, store.StatusPaid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := shop.postWebhook(event(tt.id, tt.typ, sessionObject(o, tt.paymentStatus)), tt.secret, time.Now())
			if got, want := res.StatusCode, tt.wantStatus; got != want {
				t.Errorf("status %d, want %d\n%s", got, want, res.body)
			}
			if got, want := shop.order(o.ID).Status, tt.wantOrder; got != want {
				t.Errorf("order is %s, want %s", got, want)
			}
		})
	}
	whCheckStatusEverywhere(t, shop, c, o.ID, store.StatusPaid)
}

func TestWebhookTrust(t *testing.T) {
	tests := []struct {
		name   string
		change func(obj map[string]any, other store.User)
	}{
		{"AmountMismatch", func(obj map[string]any, _ store.User) { obj["amount_total"] = int64(100) }},
		{"CurrencyMismatch", func(obj map[string]any, _ store.User) { obj["currency"] = "eur" }},
		{"ForeignClientReference", func(obj map[string]any, other store.User) { obj["client_reference_id"] = fmt.Sprint(other.ID) }},
		{"MissingClientReference", func(obj map[string]any, _ store.User) { obj["client_reference_id"] = nil }},
	}
	for _, tt := range tests {
		for _, typ := range []string{"checkout.session.completed", "checkout.session.async_payment_succeeded"} {
			t.Run(tt.name+"/"+typ, func(t *testing.T) {
				shop := newTestShop(t)
				other := shop.client().signup("mallory@example.com")
				c, u, o := whShopper(t, shop, "ann@example.com")
				sub := shop.watch(userTopic(u.ID))
				defer sub.Close()
				obj := sessionObject(o, "paid")
				tt.change(obj, other)
				status, outcome := whDeliver(t, shop, event("evt_trust", typ, obj))
				if status != http.StatusOK || outcome != "needs_review" {
					t.Errorf("%d %q, want 200 \"needs_review\"", status, outcome)
				}
				whCheckStatusEverywhere(t, shop, c, o.ID, store.StatusNeedsReview)
				if got := whDrain(sub); len(got) != 1 || got[0].Status != store.StatusNeedsReview {
					t.Errorf("published %v, want one change to needs_review", got)
				}
				if !whHasLogLine(shop.logs.String(), "level=ERROR", "needs review", "event_id=evt_trust") {
					t.Errorf("no error log line mentions the review:\n%s", shop.logs.String())
				}
				// The whShopper keeps what is in the cart until someone has looked at the payment.
				if res := c.get("/cart"); strings.Contains(res.body, "Your cart is empty.") {
					t.Errorf("cart was emptied by a payment that needs review")
				}
			})
		}
	}
	t.Run("GuestOrder", func(t *testing.T) {
		shop := newTestShop(t)
		guest := shop.client()
		guest.addToCart("merino-beanie", 1)
		o := guest.checkout()
		if o.UserID != 0 {
			t.Fatalf("guest order has user %d", o.UserID)
		}
		status, outcome := whDeliver(t, shop, event("evt_guest", "checkout.session.completed", sessionObject(o, "paid")))
		if status != http.StatusOK || outcome != "applied" {
			t.Errorf("%d %q, want 200 \"applied\"", status, outcome)
		}
		if got, want := shop.order(o.ID).Status, store.StatusPaid; got != want {
			t.Errorf("order is %s, want %s", got, want)
		}
		if res := guest.get("/cart"); !strings.Contains(res.body, "Your cart is empty.") {
			t.Errorf("guest cart not emptied after paying:\n%s", res.body)
		}
	})
	t.Run("UnknownSession", func(t *testing.T) {
		shop := newTestShop(t)
		c, _, o := whShopper(t, shop, "ann@example.com")
		obj := sessionObject(o, "paid")
		obj["id"] = "cs_test_nobody"
		obj["metadata"] = map[string]string{}
		res := shop.postWebhook(event("evt_unknown", "checkout.session.completed", obj), testSecret, time.Now())
		if got, want := res.StatusCode, http.StatusOK; got != want {
			t.Fatalf("status %d, want %d", got, want)
		}
		if got, want := whOutcomeOf(t, res), "unmatched"; got != want {
			t.Errorf("outcome %q, want %q", got, want)
		}
		if !whHasLogLine(shop.logs.String(), "event matches no order", "event_id=evt_unknown", "cs_test_nobody") {
			t.Errorf("no log line about the unmatched event:\n%s", shop.logs.String())
		}
		whCheckStatusEverywhere(t, shop, c, o.ID, store.StatusPending)
	})
}

// whHasLogLine reports whether one line of logs contains every part.
func whHasLogLine(logs string, parts ...string) bool {
	for line := range strings.Lines(logs) {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}

// whNewerEvent is an event as an account on a newer Stripe API version sends it: unknown fields,
// and payment_intent expanded to an object.
func whNewerEvent(id, typ, apiVersion string, o store.Order) []byte {
	obj := sessionObject(o, "paid")
	obj["payment_intent"] = map[string]any{"id": "pi_expanded_" + o.CheckoutSessionID, "object": "payment_intent", "amount": o.AmountTotal}
	obj["adaptive_pricing"] = map[string]any{"enabled": true}
	obj["presentment_details"] = map[string]any{"presentment_amount": o.AmountTotal, "presentment_currency": o.Currency}
	obj["permissions"] = nil
	b, _ := json.Marshal(map[string]any{
		"id": id, "object": "event", "api_version": apiVersion, "created": time.Now().Unix(),
		"livemode": false, "type": typ, "data": map[string]any{"object": obj},
		"pending_webhooks": 1, "request": map[string]any{"id": nil, "idempotency_key": nil},
		"context": "acct_1example", "reason": map[string]any{"type": "request"},
	})
	return b
}

// whVersionRun makes API version names unique to each run of a test, because the webhook logs a
// version once per process.
var whVersionRun atomic.Int64

func TestWebhookNewerAPIVersion(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		shop := newTestShop(t)
		c, _, o := whShopper(t, shop, "ann@example.com")
		status, outcome := whDeliver(t, shop, whNewerEvent("evt_clover", "checkout.session.completed", "2026-10-28.clover", o))
		if status != http.StatusOK || outcome != "applied" {
			t.Fatalf("%d %q, want 200 \"applied\"", status, outcome)
		}
		whCheckStatusEverywhere(t, shop, c, o.ID, store.StatusPaid)
		if got, want := shop.order(o.ID).PaymentIntent, "pi_expanded_"+o.CheckoutSessionID; got != want {
			t.Errorf("payment intent %q, want %q", got, want)
		}
	})
	t.Run("LoggedOnce", func(t *testing.T) {
		shop := newTestShop(t)
		version := fmt.Sprintf("2026-10-28.clover-run%d", whVersionRun.Add(1))
		for i := range 3 {
			c, _, o := whShopper(t, shop, fmt.Sprintf("buyer%d@example.com", i))
			status, _ := whDeliver(t, shop, whNewerEvent(fmt.Sprintf("evt_v%d", i), "checkout.session.completed", version, o))
			if got, want := status, http.StatusOK; got != want {
				t.Fatalf("status %d, want %d", got, want)
			}
			whCheckStatusEverywhere(t, shop, c, o.ID, store.StatusPaid)
		}
		if got, want := strings.Count(shop.logs.String(), "api_version="+version), 1; got != want {
			t.Errorf("version logged %d times, want %d:\n%s", got, want, shop.logs.String())
		}
	})
}

func TestWebhookPaid(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		shop := newTestShop(t)
		c, u, o := whShopper(t, shop, "ann@example.com")
		sub := shop.watch(userTopic(u.ID))
		defer sub.Close()
		guestSub := shop.watch(sessionTopic(o.CheckoutSessionID))
		defer guestSub.Close()

		if res := c.get("/cart"); strings.Contains(res.body, "Your cart is empty.") {
			t.Fatal("cart empty before paying")
		}
		shop.sendEvent("evt_paid", "checkout.session.completed", sessionObject(o, "paid"))

		res := c.get("/cart")
		if !strings.Contains(res.body, "Your cart is empty.") {
			t.Errorf("cart page after paying does not say it is empty:\n%s", res.body)
		}
		if got, want := whBadgeCount(t, c), "0"; got != want {
			t.Errorf("cart badge %s, want %s", got, want)
		}
		paid := shop.order(o.ID)
		if got, want := paid.PaymentIntent, "pi_"+o.CheckoutSessionID; got != want {
			t.Errorf("payment intent %q, want %q", got, want)
		}
		if got, want := paid.CustomerEmail, "buyer@example.com"; got != want {
			t.Errorf("customer email %q, want %q", got, want)
		}
		if paid.PaidAt.IsZero() {
			t.Error("paid order has no paid time")
		}
		if page := c.get(fmt.Sprintf("/orders/%d", o.ID)); !strings.Contains(page.body, "buyer@example.com") {
			t.Errorf("order page does not show the receipt email:\n%s", page.body)
		}
		if got := whDrain(sub); len(got) != 1 || got[0].ID != o.ID || got[0].Status != store.StatusPaid {
			t.Errorf("user feed got %v, want one change of order %d to paid", got, o.ID)
		}
		if got := whDrain(guestSub); len(got) != 1 || got[0].Status != store.StatusPaid {
			t.Errorf("success page feed got %v, want one change to paid", got)
		}

		// A repeat, a stale event and an unrelated one publish nothing.
		shop.sendEvent("evt_paid", "checkout.session.completed", sessionObject(o, "paid"))
		shop.sendEvent("evt_expired", "checkout.session.expired", sessionObject(o, "unpaid"))
		shop.sendEvent("evt_pi", "payment_intent.succeeded", map[string]any{"id": "pi_" + o.CheckoutSessionID, "object": "payment_intent"})
		if got := whDrain(sub); len(got) != 0 {
			t.Errorf("user feed got %v after events that change nothing, want nothing", got)
		}
	})
	t.Run("KeepsItemsAddedSince", func(t *testing.T) {
		shop := newTestShop(t)
		c, _, o := whShopper(t, shop, "ann@example.com")
		c.addToCart("enamel-pin-set", 3)
		shop.sendEvent("evt_paid", "checkout.session.completed", sessionObject(o, "paid"))
		res := c.get("/cart")
		if strings.Contains(res.body, "Canvas Tote Bag") || strings.Contains(res.body, "Stoneware Mug") {
			t.Errorf("cart still holds bought items:\n%s", res.body)
		}
		if !strings.Contains(res.body, "Enamel Pin Set") {
			t.Errorf("cart lost the item added after checkout:\n%s", res.body)
		}
		if got, want := whBadgeCount(t, c), "3"; got != want {
			t.Errorf("cart badge %s, want %s", got, want)
		}
	})
	t.Run("OnePublishPerTransition", func(t *testing.T) {
		shop := newTestShop(t)
		_, u, o := whShopper(t, shop, "ann@example.com")
		sub := shop.watch(userTopic(u.ID))
		defer sub.Close()
		steps := []struct {
			id, typ string
			object  map[string]any
			want    []store.Status
		}{
			{"evt_1", "checkout.session.completed", sessionObject(o, "unpaid"), []store.Status{store.StatusProcessing}},
			{"evt_1", "checkout.session.completed", sessionObject(o, "unpaid"), nil},
			{"evt_2", "checkout.session.async_payment_succeeded", sessionObject(o, "paid"), []store.Status{store.StatusPaid}},
			{"evt_3", "checkout.session.async_payment_succeeded", sessionObject(o, "paid"), nil},
			{"evt_4", "charge.refunded", whChargeObject(o, "pi_"+o.CheckoutSessionID, true, o.AmountTotal), []store.Status{store.StatusRefunded}},
			{"evt_4", "charge.refunded", whChargeObject(o, "pi_"+o.CheckoutSessionID, true, o.AmountTotal), nil},
		}
		for _, s := range steps {
			shop.sendEvent(s.id, s.typ, s.object)
			var got []store.Status
			for _, o := range whDrain(sub) {
				got = append(got, o.Status)
			}
			if fmt.Sprint(got) != fmt.Sprint(s.want) {
				t.Errorf("%s %s published %v, want %v", s.id, s.typ, got, s.want)
			}
		}
	})
}

var whBadgePattern = regexp.MustCompile(`class="cart-count"[^>]*data-count="(\d+)"`)

// whBadgeCount is the number the nav's cart badge shows the client.
func whBadgeCount(t *testing.T, c *testClient) string {
	t.Helper()
	res := c.get("/cart/badge")
	m := whBadgePattern.FindStringSubmatch(res.body)
	if res.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("GET /cart/badge: %d\n%s", res.StatusCode, res.body)
	}
	return m[1]
}

func TestWebhookDatabaseDown(t *testing.T) {
	shop := newTestShop(t)
	_, _, o := whShopper(t, shop, "ann@example.com")
	if err := shop.db.Close(); err != nil {
		t.Fatal(err)
	}
	res := shop.postWebhook(event("evt_down", "checkout.session.completed", sessionObject(o, "paid")), testSecret, time.Now())
	if got, want := res.StatusCode, http.StatusInternalServerError; got != want {
		t.Errorf("status %d, want %d (Stripe retries only on errors)\n%s", got, want, res.body)
	}
	if !whHasLogLine(shop.logs.String(), "level=ERROR", "event_id=evt_down") {
		t.Errorf("no error log line for the event that was not stored:\n%s", shop.logs.String())
	}
}
