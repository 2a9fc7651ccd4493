package simulator_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/stripe/stripe-go/v76"
)

// oneLine is a session of one line item in cur.
func oneLine(cur string, unitAmount int64) *stripe.CheckoutSessionParams {
	p := toteParams()
	p.LineItems[0].Quantity = stripe.Int64(1)
	p.LineItems[0].PriceData.Currency = stripe.String(cur)
	p.LineItems[0].PriceData.UnitAmount = stripe.Int64(unitAmount)
	return p
}

func TestCurrenciesAndMinimumAmounts(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, tc := range []struct {
		cur    string
		amount int64
		code   stripe.ErrorCode // "" when the session is created
		param  string
	}{
		{"xyz", 5000, "", "line_items[0][price_data][currency]"},
		{"usd", 49, stripe.ErrorCodeAmountTooSmall, "line_items"},
		{"usd", 50, "", ""},
		{"jpy", 49, stripe.ErrorCodeAmountTooSmall, "line_items"},
		{"jpy", 50, "", ""},
		{"gbp", 30, "", ""},
		{"isk", 1, "", ""}, // no documented minimum: any positive total
	} {
		_, err := h.sessions.New(oneLine(tc.cur, tc.amount))
		if tc.param == "" {
			if err != nil {
				t.Errorf("%d %s refused: %v", tc.amount, tc.cur, err)
			}
			continue
		}
		se := stripeErr(t, err)
		if se.HTTPStatusCode != 400 || se.Code != tc.code || se.Param != tc.param {
			t.Errorf("%d %s: %d code %q param %q, want 400 %q %q", tc.amount, tc.cur, se.HTTPStatusCode, se.Code, se.Param, tc.code, tc.param)
		}
	}

	// A free line next to a paid one is fine; the total is what must reach the minimum.
	p := toteParams()
	p.LineItems = append(p.LineItems, &stripe.CheckoutSessionLineItemParams{
		Quantity: stripe.Int64(1),
		PriceData: &stripe.CheckoutSessionLineItemPriceDataParams{
			Currency: stripe.String("usd"), UnitAmount: stripe.Int64(0),
			ProductData: &stripe.CheckoutSessionLineItemPriceDataProductDataParams{Name: stripe.String("Free sticker")},
		},
	})
	s, err := h.sessions.New(p)
	if err != nil {
		t.Fatalf("free line next to a paid one: %v", err)
	}
	if s.AmountTotal != 4800 {
		t.Errorf("total %d, want 4800", s.AmountTotal)
	}
}

func TestPaymentMethodTypesFollowCurrency(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for cur, want := range map[string][]string{
		"usd": {"card", "us_bank_account"}, "eur": {"card", "sepa_debit"}, "gbp": {"card", "bacs_debit"}, "jpy": {"card"},
	} {
		s, err := h.sessions.New(oneLine(cur, 5000))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(s.PaymentMethodTypes, want) {
			t.Errorf("%s session offers %v, want %v", cur, s.PaymentMethodTypes, want)
		}
		_, page := getPage(t, s.URL)
		if offers := strings.Contains(page, `value="bank_transfer"`) || strings.Contains(page, "Test bank accounts"); offers != (len(want) > 1) {
			t.Errorf("%s hosted page offers a bank transfer: %v", cur, offers)
		}
		if cur == "jpy" {
			if body := payAndRetry(t, s.URL, bankForm("000123456789")); !strings.Contains(body, "not available in this currency") {
				t.Errorf("bank transfer in JPY was not refused")
			}
		}
	}
}

func TestBankDebitEventsAndObjects(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s, err := h.sessions.New(oneLine("eur", 5000))
	if err != nil {
		t.Fatal(err)
	}
	resp, body := pay(t, s.URL, bankForm("000111111116"))
	wantSuccessRedirect(t, resp, body, s.ID)
	h.rc.waitForType(t, "checkout.session.async_payment_failed")

	ev, _ := h.rc.event("payment_intent.processing")
	var pi stripe.PaymentIntent
	object(t, ev, &pi)
	if pi.Status != stripe.PaymentIntentStatusProcessing || !slices.Equal(pi.PaymentMethodTypes, []string{"sepa_debit"}) {
		t.Errorf("processing intent: status %s types %v", pi.Status, pi.PaymentMethodTypes)
	}
	ev, _ = h.rc.event("charge.pending")
	var pending stripe.Charge
	object(t, ev, &pending)
	if pending.Status != stripe.ChargeStatusPending || pending.Paid || pending.PaymentMethodDetails == nil ||
		pending.PaymentMethodDetails.Type != "sepa_debit" {
		t.Errorf("pending charge: %+v", pending)
	}
	ev, _ = h.rc.event("charge.failed")
	var failed stripe.Charge
	object(t, ev, &failed)
	if failed.ID != pending.ID || failed.Status != stripe.ChargeStatusFailed || failed.FailureCode == "" || failed.Paid {
		t.Errorf("failed charge %s (pending was %s): status %s failure_code %q", failed.ID, pending.ID, failed.Status, failed.FailureCode)
	}
	_, err = h.refunds.New(&stripe.RefundParams{Charge: stripe.String(failed.ID)})
	if se := stripeErr(t, err); se.Code != stripe.ErrorCodeChargeNotRefundable {
		t.Errorf("refunding a failed debit: %s", se.Code)
	}
}

// knownCodes are error codes stripe-go v76 defines, the ones the simulator may send.
var knownCodes = []stripe.ErrorCode{
	"", stripe.ErrorCodeParameterInvalidInteger, stripe.ErrorCodeParameterUnknown, stripe.ErrorCodeParameterMissing,
	stripe.ErrorCodeParametersExclusive, stripe.ErrorCodeResourceMissing, stripe.ErrorCodeAmountTooSmall,
	stripe.ErrorCodeAmountTooLarge, stripe.ErrorCodeURLInvalid, stripe.ErrorCodeEmailInvalid,
	stripe.ErrorCodeChargeAlreadyRefunded, stripe.ErrorCodeChargeNotRefundable,
}

func TestErrorCodesAreStripes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.create(t)
	if _, err := h.sessions.Expire(s.ID, nil); err != nil {
		t.Fatal(err)
	}
	calls := map[string]func() error{
		"expire twice": func() error { _, err := h.sessions.Expire(s.ID, nil); return err },
		"subscription mode": func() error {
			p := toteParams()
			p.Mode = stripe.String("subscription")
			_, err := h.sessions.New(p)
			return err
		},
		"bad metadata": func() error {
			p := toteParams()
			p.Metadata = map[string]string{strings.Repeat("k", 41): "v"}
			_, err := h.sessions.New(p)
			return err
		},
		"refund zero": func() error {
			_, err := h.refunds.New(&stripe.RefundParams{PaymentIntent: stripe.String("pi_x"), Amount: stripe.Int64(-1)})
			return err
		},
		"refund reason": func() error {
			_, err := h.refunds.New(&stripe.RefundParams{PaymentIntent: stripe.String("pi_x"), Reason: stripe.String("bored")})
			return err
		},
	}
	for name, call := range calls {
		se := stripeErr(t, call())
		if !slices.Contains(knownCodes, se.Code) {
			t.Errorf("%s: code %q is not one Stripe defines", name, se.Code)
		}
	}
}

func TestUnknownQueryParametersOnGet(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.create(t)
	for path, param := range map[string]string{
		"/v1/checkout/sessions/" + s.ID + "?bogus=1":                "bogus",
		"/v1/checkout/sessions/" + s.ID + "/line_items?status=open": "status",
		"/v1/checkout/sessions?amount_total=4800":                   "amount_total",
		"/v1/payment_intents/pi_x?foo[bar]=1":                       "foo[bar]",
	} {
		resp, body := rawGet(t, h.sim.URL()+path)
		wantAPIError(t, path, resp, body, 400, "parameter_unknown", param)
	}
	// What stripe-go itself sends on a GET is known.
	p := &stripe.CheckoutSessionParams{}
	p.AddExpand("line_items")
	if _, err := h.sessions.Get(s.ID, p); err != nil {
		t.Errorf("retrieve with expand: %v", err)
	}
}

func TestStripeVersionHeader(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.create(t)
	if v := s.LastResponse.Header.Get("Stripe-Version"); v != stripe.APIVersion {
		t.Errorf("response Stripe-Version %q, want %q", v, stripe.APIVersion)
	}
	u := h.sim.URL() + "/v1/checkout/sessions/" + s.ID
	resp, body := rawGet(t, u, "Stripe-Version", "2024-06-20")
	wantAPIError(t, "newer version", resp, body, 400, "", "")
	if !strings.Contains(string(body), stripe.APIVersion) {
		t.Errorf("refusal does not say which version is served: %s", body)
	}
	resp, body = rawGet(t, u, "Stripe-Version", "latest please")
	wantAPIError(t, "malformed version", resp, body, 400, "", "")
	if resp, body = rawGet(t, u, "Stripe-Version", stripe.APIVersion); resp.StatusCode != 200 {
		t.Errorf("pinned version refused: %d %s", resp.StatusCode, body)
	}
}

func TestObjectsCarryStripesFields(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := toteParams()
	p.AddExpand("line_items")
	s, err := h.sessions.New(p)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(s.LastResponse.RawJSON, &raw); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"custom_fields": "[]", "shipping_options": "[]", "shipping_cost": "null", "payment_link": "null",
		"custom_text": `{"after_submit":null,"shipping_address":null,"submit":null,"terms_of_service_acceptance":null}`,
	} {
		if got := compact(t, raw[key]); got != want {
			t.Errorf("session %s = %s, want %s", key, got, want)
		}
	}
	price := s.LineItems.Data[0].Price
	if price.Product == nil || !strings.HasPrefix(price.Product.ID, "prod_") || price.BillingScheme != stripe.PriceBillingSchemePerUnit ||
		price.Created != s.Created || price.Metadata == nil || price.UnitAmountDecimal != 2400 {
		t.Errorf("line item price %+v", price)
	}

	paid := h.paid(t)
	h.rc.waitForType(t, "charge.updated")
	ev, _ := h.rc.event("charge.updated")
	var ch stripe.Charge
	object(t, ev, &ch)
	if ch.Outcome == nil || ch.Outcome.Type != "authorized" || ch.PaymentMethod == "" || ch.ReceiptEmail != "payer@example.com" ||
		ch.BalanceTransaction == nil || ch.CalculatedStatementDescriptor == "" {
		t.Errorf("charge %+v", ch)
	}
	r, err := h.refunds.New(&stripe.RefundParams{PaymentIntent: stripe.String(paid.PaymentIntent.ID)})
	if err != nil {
		t.Fatal(err)
	}
	if r.BalanceTransaction == nil || !strings.HasPrefix(r.BalanceTransaction.ID, "txn_") {
		t.Errorf("refund balance_transaction %+v", r.BalanceTransaction)
	}
	got, err := h.refunds.Get(r.ID, nil)
	if err != nil || got.BalanceTransaction == nil || got.BalanceTransaction.ID != r.BalanceTransaction.ID {
		t.Errorf("retrieved refund %+v (%v)", got, err)
	}
}
