package handlers

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"storefront/payments"
)

// TestSimulatorIntentsMatchStripeMock checks the PaymentIntents API of the simulator against
// stripe-mock, which validates requests against Stripe's OpenAPI description and answers with
// Stripe's own fixtures: the shop's request is one Stripe accepts, and every field the
// simulator answers with is one Stripe's PaymentIntent has, of the same JSON type.
func TestSimulatorIntentsMatchStripeMock(t *testing.T) {
	t.Parallel()
	mock := startStripeMock(t)
	s := startSimulatedShop(t, 0, true, nil)

	req := payments.IntentRequest{OrderID: 7, IdempotencyKey: "order-7-intent", UserID: 3,
		ReceiptEmail: "shopper@example.com", Amount: 4800, Currency: "usd"}
	for name, base := range map[string]string{"stripe-mock": mock, "simulator": s.sim.URL()} {
		gw := payments.NewGateway(payments.Config{SecretKey: "sk_test_123", APIBase: base})
		if _, err := gw.CreatePaymentIntent(context.Background(), req); err != nil {
			t.Errorf("%s refuses the shop's CreatePaymentIntent: %v", name, err)
		}
	}

	create := url.Values{"amount": {"4800"}, "currency": {"usd"}, "automatic_payment_methods[enabled]": {"true"},
		"metadata[order_id]": {"7"}, "receipt_email": {"shopper@example.com"}}
	call := func(base, path string, form url.Values) map[string]json.RawMessage {
		t.Helper()
		r, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		r.SetBasicAuth("sk_test_123", "")
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatalf("POST %s%s: %v", base, path, err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(body, &obj); err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("POST %s%s: %d %s", base, path, res.StatusCode, body)
		}
		return obj
	}
	steps := func(base string) []map[string]json.RawMessage {
		paid := call(base, "/v1/payment_intents", create)
		id := strings.Trim(string(paid["id"]), `"`)
		confirmed := call(base, "/v1/payment_intents/"+id+"/confirm", url.Values{"payment_method": {"pm_card_visa"}})
		open := call(base, "/v1/payment_intents", create)
		id = strings.Trim(string(open["id"]), `"`)
		canceled := call(base, "/v1/payment_intents/"+id+"/cancel", url.Values{"cancellation_reason": {"abandoned"}})
		return []map[string]json.RawMessage{paid, confirmed, canceled}
	}
	want, got := steps(mock), steps(s.sim.URL())
	for i, step := range []string{"create", "confirm", "cancel"} {
		for key, v := range got[i] {
			w, ok := want[i][key]
			if !ok {
				t.Errorf("%s: the simulator answers with %q, which Stripe's PaymentIntent does not have", step, key)
				continue
			}
			if gk, wk := jsonKind(v), jsonKind(w); gk != "null" && wk != "null" && gk != wk {
				t.Errorf("%s: %q is a JSON %s in the simulator's answer, a %s in Stripe's", step, key, gk, wk)
			}
		}
		for _, key := range []string{"id", "object", "amount", "currency", "status", "client_secret", "metadata",
			"last_payment_error", "receipt_email", "latest_charge", "automatic_payment_methods"} {
			if _, ok := got[i][key]; !ok {
				t.Errorf("%s: the simulator's answer lacks %q", step, key)
			}
		}
	}
}

// jsonKind names the JSON type of a raw value.
func jsonKind(v json.RawMessage) string {
	switch s := strings.TrimSpace(string(v)); {
	case s == "null":
		return "null"
	case strings.HasPrefix(s, "{"):
		return "object"
	case strings.HasPrefix(s, "["):
		return "array"
	case strings.HasPrefix(s, `"`):
		return "string"
	case s == "true" || s == "false":
		return "boolean"
	default:
		return "number"
	}
}
