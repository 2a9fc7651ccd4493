package payments

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"storefront/store"
)

// stripeEvent is a Stripe event of type typ around data.object obj, as the API sends it.
func stripeEvent(t *testing.T, typ string, obj map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"id": "evt_1", "object": "event", "type": typ, "api_version": "2023-10-16",
		"created": 1700000000, "data": map[string]any{"object": obj}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func checkoutSession(paymentStatus string) map[string]any {
	return map[string]any{"id": "cs_1", "object": "checkout.session", "payment_status": paymentStatus,
		"amount_total": 4200, "currency": "usd", "client_reference_id": "7", "metadata": map[string]string{"order_id": "12"},
		"payment_intent": "pi_1", "customer_details": map[string]any{"email": "buyer@example.com"}}
}

// paymentIntent is a PaymentIntent the shop created for order 12 of user 7.
func paymentIntent(status string) map[string]any {
	pi := map[string]any{"id": "pi_1", "object": "payment_intent", "status": status, "amount": 4200, "currency": "usd",
		"receipt_email": "buyer@example.com",
		"metadata":      map[string]string{"order_id": "12", "user_id": "7", "storefront_kind": "payment_intent"}}
	if status == "requires_payment_method" {
		pi["last_payment_error"] = map[string]any{"code": "card_declined", "message": "Your card was declined."}
	}
	return pi
}

var (
	intentRef     = store.OrderRef{PaymentIntent: "pi_1", OrderID: 12}
	intentPayment = &store.Payment{Amount: 4200, Currency: "usd", ClientReference: "7"}
)

func TestChangeOfStripeEvents(t *testing.T) {
	confirmation := &store.Payment{Amount: 4200, Currency: "usd", ClientReference: "7"}
	sessionRef := store.OrderRef{SessionID: "cs_1", PaymentIntent: "pi_1", OrderID: 12}
	tests := []struct {
		name string
		typ  string
		obj  map[string]any
		want store.Change
	}{
		{"CompletedPaid", "checkout.session.completed", checkoutSession("paid"), store.Change{Order: sessionRef,
			Effect: store.EffectSettle, To: store.StatusPaid, Payment: confirmation, CustomerEmail: "buyer@example.com"}},
		{"CompletedUnpaidIsProcessing", "checkout.session.completed", checkoutSession("unpaid"), store.Change{Order: sessionRef,
			Effect: store.EffectSettle, To: store.StatusProcessing, Payment: confirmation, CustomerEmail: "buyer@example.com"}},
		{"CompletedNoPaymentRequired", "checkout.session.completed", checkoutSession("no_payment_required"), store.Change{Order: sessionRef,
			Effect: store.EffectSettle, To: store.StatusPaid, Payment: confirmation, CustomerEmail: "buyer@example.com"}},
		{"AsyncSucceeded", "checkout.session.async_payment_succeeded", checkoutSession("paid"), store.Change{Order: sessionRef,
			Effect: store.EffectSettle, To: store.StatusPaid, Payment: confirmation, CustomerEmail: "buyer@example.com"}},
		{"AsyncFailedConfirmsNothing", "checkout.session.async_payment_failed", checkoutSession("unpaid"), store.Change{Order: sessionRef,
			Effect: store.EffectSettle, To: store.StatusFailed, CustomerEmail: "buyer@example.com"}},
		{"ExpiryConfirmsNothing", "checkout.session.expired", checkoutSession("unpaid"), store.Change{Order: sessionRef,
			Effect: store.EffectSettle, To: store.StatusExpired, CustomerEmail: "buyer@example.com"}},
		{"FullRefund", "charge.refunded", map[string]any{"id": "ch_1", "object": "charge", "payment_intent": "pi_1",
			"amount_refunded": 4200, "refunded": true, "metadata": map[string]string{"order_id": "12"}},
			store.Change{Order: store.OrderRef{PaymentIntent: "pi_1"}, Effect: store.EffectRefund, Refund: store.Refund{Amount: 4200, Full: true}}},
		{"PartialRefund", "charge.refunded", map[string]any{"id": "ch_1", "object": "charge", "payment_intent": "pi_1",
			"amount_refunded": 100, "refunded": false},
			store.Change{Order: store.OrderRef{PaymentIntent: "pi_1"}, Effect: store.EffectRefund, Refund: store.Refund{Amount: 100}}},
		{"ExpandedPaymentIntent", "charge.refunded", map[string]any{"id": "ch_1", "object": "charge",
			"payment_intent": map[string]any{"id": "pi_1", "object": "payment_intent"}, "amount_refunded": 100},
			store.Change{Order: store.OrderRef{PaymentIntent: "pi_1"}, Effect: store.EffectRefund, Refund: store.Refund{Amount: 100}}},
		{"IntentSucceeded", "payment_intent.succeeded", paymentIntent("succeeded"), store.Change{Order: intentRef,
			Effect: store.EffectSettle, To: store.StatusPaid, Payment: intentPayment, CustomerEmail: "buyer@example.com"}},
		{"IntentProcessing", "payment_intent.processing", paymentIntent("processing"), store.Change{Order: intentRef,
			Effect: store.EffectSettle, To: store.StatusProcessing, Payment: intentPayment, CustomerEmail: "buyer@example.com"}},
		{"IntentFailedStaysPayable", "payment_intent.payment_failed", paymentIntent("requires_payment_method"), store.Change{Order: intentRef,
			Effect: store.EffectPaymentError, PaymentError: "Your card was declined.", CustomerEmail: "buyer@example.com"}},
		{"IntentCanceled", "payment_intent.canceled", paymentIntent("canceled"), store.Change{Order: intentRef,
			Effect: store.EffectSettle, To: store.StatusFailed, CustomerEmail: "buyer@example.com"}},
		{"CheckoutsOwnIntentIsRecorded", "payment_intent.succeeded", map[string]any{"id": "pi_1", "object": "payment_intent",
			"amount": 4200, "currency": "usd", "metadata": map[string]string{}},
			store.Change{Order: store.OrderRef{}}},
		{"Dispute", "charge.dispute.created", map[string]any{"id": "dp_1", "object": "dispute", "charge": "ch_1",
			"payment_intent": "pi_1", "amount": 4200, "currency": "usd", "reason": "fraudulent", "metadata": map[string]string{"order_id": "12"}},
			store.Change{Order: store.OrderRef{PaymentIntent: "pi_1"}, Effect: store.EffectDispute}},
		{"OtherTypesAreRecorded", "payment_intent.created", map[string]any{"id": "pi_1", "object": "payment_intent"},
			store.Change{}},
		{"MetadataThatIsNoOrderID", "checkout.session.expired", map[string]any{"id": "cs_1", "metadata": map[string]string{"order_id": "-3"}},
			store.Change{Order: store.OrderRef{SessionID: "cs_1"}, Effect: store.EffectSettle, To: store.StatusExpired}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload := stripeEvent(t, tt.typ, tt.obj)
			got, err := ParseEvent(payload)
			if err != nil {
				t.Fatal(err)
			}
			wantObject, _ := tt.obj["id"].(string)
			if ev := got.Event; ev.ID != "evt_1" || ev.Type != tt.typ || ev.APIVersion != "2023-10-16" || ev.Created != 1700000000 ||
				ev.ObjectID != wantObject || string(ev.Payload) != string(payload) {
				t.Errorf("event record = %+v", ev)
			}
			got.Event = store.EventRecord{}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("change = %+v (payment %+v)\nwant %+v (payment %+v)", got, got.Payment, tt.want, tt.want.Payment)
			}
		})
	}
}

func TestParseEventRefusesWhatIsNoEvent(t *testing.T) {
	for name, body := range map[string]string{
		"NotJSON":  "nope",
		"NoID":     `{"type":"charge.refunded","data":{"object":{"id":"ch_1"}}}`,
		"NoObject": `{"id":"evt_1","type":"charge.refunded","data":{}}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseEvent([]byte(body)); err == nil {
				t.Error("ParseEvent accepted it")
			}
		})
	}
}

// TestSessionExpiryIsStableForRetries: two creations a moment apart send the same expires_at
// (Stripe refuses an idempotent retry whose parameters differ), 31 to 41 minutes ahead.
func TestSessionExpiryIsStableForRetries(t *testing.T) {
	base := time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)
	for _, at := range []time.Duration{0, 59 * time.Second, 4 * time.Minute, 8*time.Minute + 59*time.Second} {
		now := base.Add(at)
		first, retry := sessionExpiry(now), sessionExpiry(now.Add(900*time.Millisecond))
		if !first.Equal(retry) {
			t.Errorf("at %v: %v then %v a moment later", now, first, retry)
		}
		if ahead := first.Sub(now); ahead < SessionLifetime || ahead > SessionLifetime+10*time.Minute {
			t.Errorf("at %v: expires %v ahead", now, ahead)
		}
	}
}
