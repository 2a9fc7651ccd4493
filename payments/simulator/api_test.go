package simulator_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"
)

func TestCreateAndRetrieveSessionThroughStripeGo(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	before := time.Now().Unix()
	params := toteParams()
	params.LineItems = append(params.LineItems, &stripe.CheckoutSessionLineItemParams{
		Quantity: stripe.Int64(1),
		PriceData: &stripe.CheckoutSessionLineItemPriceDataParams{
			Currency:    stripe.String("usd"),
			UnitAmount:  stripe.Int64(1500),
			ProductData: &stripe.CheckoutSessionLineItemPriceDataProductDataParams{Name: stripe.String("Enamel Mug")},
		},
	})
	params.AddExpand("line_items")
	s, err := h.sessions.New(params)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if !strings.HasPrefix(s.ID, "cs_test_") {
		t.Errorf("id %q lacks cs_test_ prefix", s.ID)
	}
	if s.Object != "checkout.session" || s.Livemode || s.Mode != stripe.CheckoutSessionModePayment {
		t.Errorf("object %q livemode %v mode %q", s.Object, s.Livemode, s.Mode)
	}
	if s.Status != stripe.CheckoutSessionStatusOpen || s.PaymentStatus != stripe.CheckoutSessionPaymentStatusUnpaid {
		t.Errorf("status %q/%q, want open/unpaid", s.Status, s.PaymentStatus)
	}
	if s.AmountSubtotal != 6300 || s.AmountTotal != 6300 || s.Currency != "usd" {
		t.Errorf("amounts %d/%d %s, want 6300/6300 usd", s.AmountSubtotal, s.AmountTotal, s.Currency)
	}
	if s.ClientReferenceID != "7" || s.CustomerEmail != "shopper@example.com" || s.Metadata["order_id"] != "42" {
		t.Errorf("client_reference_id %q email %q metadata %v", s.ClientReferenceID, s.CustomerEmail, s.Metadata)
	}
	if s.URL != h.sim.URL()+"/c/pay/"+s.ID {
		t.Errorf("url %q", s.URL)
	}
	if s.PaymentIntent != nil || s.CustomerDetails != nil {
		t.Errorf("payment_intent %v customer_details %v before payment, want null", s.PaymentIntent, s.CustomerDetails)
	}
	if s.Created < before || s.ExpiresAt-s.Created < int64(24*time.Hour/time.Second)-1 {
		t.Errorf("created %d expires_at %d, want expiry 24h after creation", s.Created, s.ExpiresAt)
	}
	if s.SuccessURL != *params.SuccessURL || s.CancelURL != *params.CancelURL {
		t.Errorf("success_url %q cancel_url %q", s.SuccessURL, s.CancelURL)
	}
	if s.LineItems == nil || len(s.LineItems.Data) != 2 || s.LineItems.Data[1].Description != "Enamel Mug" || s.LineItems.Data[0].Quantity != 2 {
		t.Errorf("expanded line_items = %+v", s.LineItems)
	}

	got := h.get(t, s.ID)
	if got.ID != s.ID || got.AmountTotal != 6300 || got.Status != stripe.CheckoutSessionStatusOpen || got.LineItems != nil {
		t.Errorf("retrieved %+v", got)
	}
}

func TestClientReferenceIDIsNullWhenAbsent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	params := toteParams()
	params.ClientReferenceID = nil
	s, err := h.sessions.New(params)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(s.LastResponse.RawJSON, &raw); err != nil {
		t.Fatal(err)
	}
	if v, ok := raw["client_reference_id"]; !ok || v != nil {
		t.Errorf("client_reference_id = %v (present %v), want null", v, ok)
	}
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	params := toteParams()
	params.SetIdempotencyKey("order-42-attempt-1")
	first, err := h.sessions.New(params)
	if err != nil {
		t.Fatal(err)
	}
	again := toteParams()
	again.SetIdempotencyKey("order-42-attempt-1")
	second, err := h.sessions.New(again)
	if err != nil {
		t.Fatal(err)
	}
	if second.ID != first.ID {
		t.Errorf("same key and params gave %s then %s, want the same session", first.ID, second.ID)
	}
	if second.LastResponse.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay not marked Idempotent-Replayed")
	}

	other := toteParams()
	other.LineItems[0].Quantity = stripe.Int64(3)
	other.SetIdempotencyKey("order-42-attempt-1")
	_, err = h.sessions.New(other)
	se := stripeErr(t, err)
	if se.HTTPStatusCode != http.StatusBadRequest || se.Type != stripe.ErrorTypeIdempotency {
		t.Errorf("reused key with other params: %d %s, want 400 idempotency_error", se.HTTPStatusCode, se.Type)
	}

	// stripe-go gives every POST its own random key, so plain retries of the call create new sessions.
	third := h.create(t)
	if third.ID == first.ID {
		t.Errorf("a new request without a shared key returned the old session")
	}
}

func TestCreateValidationErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cases := []struct {
		name   string
		mutate func(p *stripe.CheckoutSessionParams)
		param  string
	}{
		{"missing success_url", func(p *stripe.CheckoutSessionParams) { p.SuccessURL = nil }, "success_url"},
		{"bad success_url", func(p *stripe.CheckoutSessionParams) { p.SuccessURL = stripe.String("not a url") }, "success_url"},
		{"subscription mode with a one-time price", func(p *stripe.CheckoutSessionParams) { p.Mode = stripe.String("subscription") }, "line_items[0][price_data][recurring]"},
		{"setup mode", func(p *stripe.CheckoutSessionParams) { p.Mode = stripe.String("setup") }, "mode"},
		{"missing mode", func(p *stripe.CheckoutSessionParams) { p.Mode = nil }, "mode"},
		{"no line items", func(p *stripe.CheckoutSessionParams) { p.LineItems = nil }, "line_items"},
		{"zero quantity", func(p *stripe.CheckoutSessionParams) { p.LineItems[0].Quantity = stripe.Int64(0) }, "line_items[0][quantity]"},
		{"missing quantity", func(p *stripe.CheckoutSessionParams) { p.LineItems[0].Quantity = nil }, "line_items[0][quantity]"},
		{"zero total", func(p *stripe.CheckoutSessionParams) { p.LineItems[0].PriceData.UnitAmount = stripe.Int64(0) }, "line_items"},
		{"negative unit_amount", func(p *stripe.CheckoutSessionParams) { p.LineItems[0].PriceData.UnitAmount = stripe.Int64(-5) }, "line_items[0][price_data][unit_amount]"},
		{"fractional unit_amount_decimal", func(p *stripe.CheckoutSessionParams) {
			p.LineItems[0].PriceData.UnitAmount = nil
			p.LineItems[0].PriceData.UnitAmountDecimal = stripe.Float64(2400.5)
		}, "line_items[0][price_data][unit_amount_decimal]"},
		{"missing currency", func(p *stripe.CheckoutSessionParams) { p.LineItems[0].PriceData.Currency = nil }, "line_items[0][price_data][currency]"},
		{"missing product name", func(p *stripe.CheckoutSessionParams) { p.LineItems[0].PriceData.ProductData.Name = nil }, "line_items[0][price_data][product_data][name]"},
		{"catalogue price", func(p *stripe.CheckoutSessionParams) {
			p.LineItems[0].PriceData = nil
			p.LineItems[0].Price = stripe.String("price_123")
		}, "line_items[0][price]"},
		{"mixed currencies", func(p *stripe.CheckoutSessionParams) {
			p.LineItems = append(p.LineItems, &stripe.CheckoutSessionLineItemParams{
				Quantity: stripe.Int64(1),
				PriceData: &stripe.CheckoutSessionLineItemPriceDataParams{
					Currency: stripe.String("eur"), UnitAmount: stripe.Int64(100),
					ProductData: &stripe.CheckoutSessionLineItemPriceDataProductDataParams{Name: stripe.String("Sticker")},
				},
			})
		}, "line_items[1][price_data][currency]"},
		{"expires_at too soon", func(p *stripe.CheckoutSessionParams) {
			p.ExpiresAt = stripe.Int64(time.Now().Add(10 * time.Minute).Unix())
		}, "expires_at"},
		{"bad customer_email", func(p *stripe.CheckoutSessionParams) { p.CustomerEmail = stripe.String("nobody") }, "customer_email"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := toteParams()
			tc.mutate(p)
			_, err := h.sessions.New(p)
			se := stripeErr(t, err)
			if se.HTTPStatusCode != http.StatusBadRequest || se.Type != stripe.ErrorTypeInvalidRequest {
				t.Errorf("status %d type %s, want 400 invalid_request_error", se.HTTPStatusCode, se.Type)
			}
			if se.Param != tc.param {
				t.Errorf("param %q, want %q (message %q)", se.Param, tc.param, se.Msg)
			}
			if se.Msg == "" {
				t.Error("error has no message")
			}
		})
	}
}

func TestExpiresAtParam(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := toteParams()
	at := time.Now().Add(2 * time.Hour).Unix()
	p.ExpiresAt = stripe.Int64(at)
	s, err := h.sessions.New(p)
	if err != nil {
		t.Fatal(err)
	}
	if s.ExpiresAt != at {
		t.Errorf("expires_at %d, want %d", s.ExpiresAt, at)
	}
}

// rawAPI calls the API without stripe-go, the way curl would.
func rawAPI(t *testing.T, method, u, auth string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("%s %s answered non-JSON %q", method, u, b)
	}
	return resp.StatusCode, body
}

func errorField(body map[string]any, field string) string {
	e, _ := body["error"].(map[string]any)
	s, _ := e[field].(string)
	return s
}

func TestRawParamErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	base := url.Values{
		"mode": {"payment"}, "success_url": {"http://localhost:8000/success/"},
		"line_items[0][quantity]": {"1"}, "line_items[0][price_data][currency]": {"usd"},
		"line_items[0][price_data][unit_amount]": {"2400"}, "line_items[0][price_data][product_data][name]": {"Tote"},
		"expand[]": {"line_items"},
	}
	status, body := rawAPI(t, "POST", h.sim.URL()+"/v1/checkout/sessions", "Bearer "+testKey, base)
	if status != 200 || body["amount_total"] != float64(2400) {
		t.Fatalf("curl-style create: %d %v", status, body)
	}

	bad := url.Values{}
	for k, v := range base {
		bad[k] = v
	}
	bad.Set("line_items[0][price_data][unit_amount]", "24.5")
	status, body = rawAPI(t, "POST", h.sim.URL()+"/v1/checkout/sessions", "Bearer "+testKey, bad)
	if status != 400 || errorField(body, "param") != "line_items[0][price_data][unit_amount]" || errorField(body, "type") != "invalid_request_error" {
		t.Errorf("non-integer unit_amount: %d %v", status, body)
	}

	bad = url.Values{"bogus": {"1"}}
	for k, v := range base {
		bad[k] = v
	}
	status, body = rawAPI(t, "POST", h.sim.URL()+"/v1/checkout/sessions", "Bearer "+testKey, bad)
	if status != 400 || errorField(body, "param") != "bogus" {
		t.Errorf("unknown parameter: %d %v", status, body)
	}

	// A scalar parameter sent as a hash is as unknown to Stripe as a made-up name.
	bad = url.Values{"client_reference_id[x]": {"7"}}
	for k, v := range base {
		bad[k] = v
	}
	status, body = rawAPI(t, "POST", h.sim.URL()+"/v1/checkout/sessions", "Bearer "+testKey, bad)
	if status != 400 || errorField(body, "param") != "client_reference_id[x]" || errorField(body, "code") != "parameter_unknown" {
		t.Errorf("nested scalar parameter: %d %v", status, body)
	}

	status, body = rawAPI(t, "GET", h.sim.URL()+"/v1/coupons", "Bearer "+testKey, nil)
	if status != 404 || errorField(body, "type") != "invalid_request_error" {
		t.Errorf("unknown URL: %d %v", status, body)
	}
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	u := h.sim.URL() + "/v1/checkout/sessions/cs_test_nope"

	status, body := rawAPI(t, "GET", u, "", nil)
	if status != http.StatusUnauthorized || !strings.Contains(errorField(body, "message"), "API key") {
		t.Errorf("no key: %d %v", status, body)
	}
	status, body = rawAPI(t, "GET", u, "Bearer sk_live_abc", nil)
	if status != http.StatusUnauthorized || !strings.Contains(errorField(body, "message"), "Live mode") {
		t.Errorf("live key: %d %v", status, body)
	}
	status, body = rawAPI(t, "GET", u, "Bearer pk_test_abc", nil)
	if status != http.StatusUnauthorized {
		t.Errorf("publishable key: %d %v", status, body)
	}
	// curl -u sk_test_x: uses Basic auth; the key passes and the session is simply unknown.
	req, _ := http.NewRequest("GET", u, nil)
	req.SetBasicAuth("sk_test_other", "")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("basic auth test key: %d, want 404", resp.StatusCode)
	}

	live := *h.sessions
	live.Key = "sk_live_abc"
	_, err = live.New(toteParams())
	se := stripeErr(t, err)
	if se.HTTPStatusCode != http.StatusUnauthorized || !strings.Contains(se.Msg, "live") {
		t.Errorf("stripe-go with live key: %d %q", se.HTTPStatusCode, se.Msg)
	}
}

func TestRetrieveUnknownSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, err := h.sessions.Get("cs_test_doesnotexist", nil)
	se := stripeErr(t, err)
	if se.HTTPStatusCode != http.StatusNotFound || se.Code != stripe.ErrorCodeResourceMissing {
		t.Errorf("unknown session: %d %s", se.HTTPStatusCode, se.Code)
	}
}

func TestExpireAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.create(t)
	expired, err := h.sessions.Expire(s.ID, nil)
	if err != nil {
		t.Fatalf("expire: %v", err)
	}
	if expired.Status != stripe.CheckoutSessionStatusExpired || expired.URL != "" {
		t.Errorf("after expire: status %q url %q, want expired and no url", expired.Status, expired.URL)
	}
	h.rc.waitForType(t, "checkout.session.expired")
	ev, _ := h.rc.event("checkout.session.expired")
	var obj stripe.CheckoutSession
	object(t, ev, &obj)
	if obj.ID != s.ID || obj.Status != stripe.CheckoutSessionStatusExpired || obj.Metadata["order_id"] != "42" {
		t.Errorf("expired event object: %+v", obj)
	}
	if ev.Request == nil || !strings.HasPrefix(ev.Request.ID, "req_") {
		t.Errorf("event caused by an API call should name the request, got %+v", ev.Request)
	}

	_, err = h.sessions.Expire(s.ID, nil)
	if se := stripeErr(t, err); se.HTTPStatusCode != http.StatusBadRequest {
		t.Errorf("expiring twice: %d, want 400", se.HTTPStatusCode)
	}
	_, err = h.sessions.Expire("cs_test_missing", nil)
	if se := stripeErr(t, err); se.HTTPStatusCode != http.StatusNotFound {
		t.Errorf("expiring unknown: %d, want 404", se.HTTPStatusCode)
	}
	if got := h.get(t, s.ID); got.Status != stripe.CheckoutSessionStatusExpired {
		t.Errorf("retrieved status %q", got.Status)
	}
}
