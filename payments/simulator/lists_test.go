package simulator_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"
)

// rawGet calls the API as curl would, with extra request headers given as name, value pairs.
func rawGet(t *testing.T, u string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// wantAPIError checks a raw error answer's status, code and param.
func wantAPIError(t *testing.T, what string, resp *http.Response, body []byte, status int, code, param string) {
	t.Helper()
	var e struct {
		Error struct{ Type, Code, Param, Message string } `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || resp.StatusCode != status || e.Error.Type != "invalid_request_error" ||
		e.Error.Code != code || e.Error.Param != param || e.Error.Message == "" {
		t.Errorf("%s: %d %s, want %d invalid_request_error code %q param %q", what, resp.StatusCode, body, status, code, param)
	}
}

func compact(t *testing.T, b []byte) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatalf("not JSON: %s", b)
	}
	return buf.String()
}

// listEvents lists every event through stripe-go's auto-paging iterator.
func (h *harness) listEvents(t *testing.T, p *stripe.EventListParams) []*stripe.Event {
	t.Helper()
	var out []*stripe.Event
	it := h.events.List(p)
	for it.Next() {
		out = append(out, it.Event())
	}
	if err := it.Err(); err != nil {
		t.Fatalf("list events: %v", err)
	}
	return out
}

func TestEventsListedAreTheWebhooksDelivered(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.paid(t)
	h.rc.waitForType(t, "charge.updated")
	h.rc.mu.Lock()
	delivered := slices.Clone(h.rc.acked)
	bodies := map[string][]byte{}
	for id, b := range h.rc.bodies {
		bodies[id] = b
	}
	h.rc.mu.Unlock()

	// Two to a page, so stripe-go follows starting_after through three pages.
	p := &stripe.EventListParams{}
	p.Limit = stripe.Int64(2)
	listed := h.listEvents(t, p)
	if len(listed) != len(delivered) {
		t.Fatalf("listed %d events, delivered %d", len(listed), len(delivered))
	}
	for i, ev := range listed {
		want := delivered[len(delivered)-1-i] // newest first, like Stripe
		if ev.ID != want.ID || ev.Type != want.Type {
			t.Errorf("listed[%d] = %s %s, want %s %s", i, ev.ID, ev.Type, want.ID, want.Type)
		}
	}
	first := h.rawList(t, "/v1/events?limit=2")
	if !first.HasMore || len(first.Data) != 2 {
		t.Errorf("limit=2 page: %d events, has_more %v", len(first.Data), first.HasMore)
	}
	for _, raw := range first.Data {
		var head struct{ ID string }
		json.Unmarshal(raw, &head)
		if compact(t, raw) != compact(t, bodies[head.ID]) {
			t.Errorf("listed %s differs from the webhook delivered:\n%s\n%s", head.ID, raw, bodies[head.ID])
		}
	}

	ev, err := h.events.Get(delivered[0].ID, nil)
	if err != nil || ev.Type != delivered[0].Type {
		t.Fatalf("get event: %v %+v", err, ev)
	}
	resp, body := rawGet(t, h.sim.URL()+"/v1/events/"+delivered[0].ID)
	if resp.StatusCode != 200 || compact(t, body) != compact(t, bodies[delivered[0].ID]) {
		t.Errorf("GET /v1/events/{id} = %d %s, want the delivered payload", resp.StatusCode, body)
	}
	_, err = h.events.Get("evt_nope", nil)
	if se := stripeErr(t, err); se.HTTPStatusCode != 404 || se.Code != stripe.ErrorCodeResourceMissing {
		t.Errorf("unknown event: %d %s", se.HTTPStatusCode, se.Code)
	}
}

// rawPage is a list answer with its data left raw.
type rawPage struct {
	Object  string            `json:"object"`
	Data    []json.RawMessage `json:"data"`
	HasMore bool              `json:"has_more"`
	URL     string            `json:"url"`
}

func (h *harness) rawList(t *testing.T, path string) rawPage {
	t.Helper()
	resp, body := rawGet(t, h.sim.URL()+path)
	var page rawPage
	if resp.StatusCode != 200 || json.Unmarshal(body, &page) != nil || page.Object != "list" {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	return page
}

func TestEventFilters(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.paid(t)
	h.rc.waitForType(t, "charge.updated")
	types := func(evs []*stripe.Event) []string {
		var out []string
		for _, ev := range evs {
			out = append(out, string(ev.Type))
		}
		return out
	}
	p := &stripe.EventListParams{Types: stripe.StringSlice([]string{"charge.succeeded", "checkout.session.completed"})}
	if got := types(h.listEvents(t, p)); !slices.Equal(got, []string{"checkout.session.completed", "charge.succeeded"}) {
		t.Errorf("types[] filter gave %v", got)
	}
	p = &stripe.EventListParams{Type: stripe.String("payment_intent.*")}
	if got := types(h.listEvents(t, p)); !slices.Equal(got, []string{"payment_intent.succeeded", "payment_intent.created"}) {
		t.Errorf("type wildcard gave %v", got)
	}
	future := time.Now().Add(time.Hour).Unix()
	p = &stripe.EventListParams{CreatedRange: &stripe.RangeQueryParams{GreaterThanOrEqual: future}}
	if got := h.listEvents(t, p); len(got) != 0 {
		t.Errorf("created[gte] an hour ahead gave %d events", len(got))
	}
	p = &stripe.EventListParams{CreatedRange: &stripe.RangeQueryParams{GreaterThanOrEqual: time.Now().Add(-time.Hour).Unix(), LesserThan: future}}
	if got := h.listEvents(t, p); len(got) != 5 {
		t.Errorf("created[gte]/[lt] around now gave %d events, want 5", len(got))
	}

	for _, tc := range []struct{ query, code, param string }{
		{"limit=0", "parameter_invalid_integer", "limit"},
		{"limit=101", "parameter_invalid_integer", "limit"},
		{"limit=ten", "parameter_invalid_integer", "limit"},
		{"starting_after=evt_nope", "resource_missing", "starting_after"},
		{"created[gte]=soon", "parameter_invalid_integer", "created[gte]"},
		{"type=a&types[]=b", "parameters_exclusive", "type"},
		{"bogus=1", "parameter_unknown", "bogus"},
	} {
		resp, body := rawGet(t, h.sim.URL()+"/v1/events?"+tc.query)
		wantAPIError(t, tc.query, resp, body, 400, tc.code, tc.param)
	}
}

func TestListSessionsAndRetrievePaymentIntent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	paid := h.paid(t)
	open1, open2 := h.create(t), h.create(t)

	p := &stripe.CheckoutSessionListParams{}
	p.Limit = stripe.Int64(2)
	p.Single = true
	it := h.sessions.List(p)
	var ids []string
	for it.Next() {
		ids = append(ids, it.CheckoutSession().ID)
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, []string{open2.ID, open1.ID}) || !it.Meta().HasMore {
		t.Errorf("first page %v has_more %v, want the two newest and more", ids, it.Meta().HasMore)
	}
	it = h.sessions.List(&stripe.CheckoutSessionListParams{PaymentIntent: stripe.String(paid.PaymentIntent.ID)})
	ids = nil
	for it.Next() {
		ids = append(ids, it.CheckoutSession().ID)
	}
	if !slices.Equal(ids, []string{paid.ID}) {
		t.Errorf("payment_intent filter gave %v, want [%s]", ids, paid.ID)
	}

	pi, err := h.intents.Get(paid.PaymentIntent.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if pi.Status != stripe.PaymentIntentStatusSucceeded || pi.Amount != 4800 || pi.AmountReceived != 4800 ||
		pi.LatestCharge == nil || !strings.HasPrefix(pi.ClientSecret, pi.ID+"_secret_") || pi.PaymentMethod == nil ||
		pi.CaptureMethod != "automatic" {
		t.Errorf("retrieved payment intent %+v", pi)
	}
	_, err = h.intents.Get("pi_nope", nil)
	if se := stripeErr(t, err); se.HTTPStatusCode != 404 || se.Code != stripe.ErrorCodeResourceMissing {
		t.Errorf("unknown payment intent: %d %s", se.HTTPStatusCode, se.Code)
	}

	declined := h.create(t)
	pay(t, declined.URL, cardForm("4000000000009995"))
	pi, err = h.intents.Get(h.get(t, declined.ID).PaymentIntent.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if pi.Status != stripe.PaymentIntentStatusRequiresPaymentMethod || pi.LastPaymentError == nil ||
		pi.LastPaymentError.DeclineCode != "insufficient_funds" {
		t.Errorf("declined payment intent: status %s last_payment_error %+v", pi.Status, pi.LastPaymentError)
	}
}

func TestListRefunds(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.paid(t)
	other := h.paid(t)
	var made []string
	for _, sess := range []*stripe.CheckoutSession{s, s, other} {
		r, err := h.refunds.New(&stripe.RefundParams{PaymentIntent: stripe.String(sess.PaymentIntent.ID), Amount: stripe.Int64(100)})
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, r.ID)
	}
	it := h.refunds.List(&stripe.RefundListParams{PaymentIntent: stripe.String(s.PaymentIntent.ID)})
	var ids []string
	for it.Next() {
		r := it.Refund()
		ids = append(ids, r.ID)
		if r.BalanceTransaction == nil || !strings.HasPrefix(r.BalanceTransaction.ID, "txn_") {
			t.Errorf("refund %s has no balance transaction", r.ID)
		}
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, []string{made[1], made[0]}) {
		t.Errorf("refunds of %s: %v, want %v newest first", s.PaymentIntent.ID, ids, []string{made[1], made[0]})
	}
	if page := h.rawList(t, "/v1/refunds?limit=1"); len(page.Data) != 1 || !page.HasMore {
		t.Errorf("limit=1: %d refunds, has_more %v", len(page.Data), page.HasMore)
	}
	resp, body := rawGet(t, h.sim.URL()+"/v1/refunds?amount=100")
	wantAPIError(t, "unknown refund filter", resp, body, 400, "parameter_unknown", "amount")
}

func TestLineItemsLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	params := toteParams()
	for i := range 11 {
		params.LineItems = append(params.LineItems, &stripe.CheckoutSessionLineItemParams{
			Quantity: stripe.Int64(1),
			PriceData: &stripe.CheckoutSessionLineItemPriceDataParams{
				Currency: stripe.String("usd"), UnitAmount: stripe.Int64(int64(100 + i)),
				ProductData: &stripe.CheckoutSessionLineItemPriceDataProductDataParams{Name: stripe.String("Sticker")},
			},
		})
	}
	s, err := h.sessions.New(params)
	if err != nil {
		t.Fatal(err)
	}
	lp := &stripe.CheckoutSessionListLineItemsParams{Session: stripe.String(s.ID)}
	lp.Limit = stripe.Int64(1)
	lp.Single = true
	it := h.sessions.ListLineItems(lp)
	n := 0
	for it.Next() {
		n++
	}
	if n != 1 || !it.Meta().HasMore {
		t.Errorf("limit=1 gave %d items, has_more %v", n, it.Meta().HasMore)
	}
	lp = &stripe.CheckoutSessionListLineItemsParams{Session: stripe.String(s.ID)}
	lp.Limit = stripe.Int64(5)
	var amounts []int64
	for it = h.sessions.ListLineItems(lp); it.Next(); {
		amounts = append(amounts, it.LineItem().Price.UnitAmount)
	}
	if len(amounts) != 12 || amounts[0] != 2400 || amounts[11] != 110 {
		t.Errorf("paged through %v, want all 12 in order", amounts)
	}
	if page := h.rawList(t, "/v1/checkout/sessions/"+s.ID+"/line_items"); len(page.Data) != 10 || !page.HasMore {
		t.Errorf("default page: %d items, has_more %v; want 10 and more", len(page.Data), page.HasMore)
	}
	for _, q := range []string{"limit=0", "limit=1000"} {
		resp, body := rawGet(t, h.sim.URL()+"/v1/checkout/sessions/"+s.ID+"/line_items?"+q)
		wantAPIError(t, q, resp, body, 400, "parameter_invalid_integer", "limit")
	}
}
