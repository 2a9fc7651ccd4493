package payments

import (
	"encoding/json"
	"errors"
	"strconv"

	"github.com/stripe/stripe-go/v76"

	"storefront/store"
)

// stableObject is data.object decoded leniently, reading only fields that are stable across
// API versions; payment_intent may be an id or an expanded object.
type stableObject struct {
	ID                string            `json:"id"`
	PaymentStatus     string            `json:"payment_status"`
	AmountTotal       int64             `json:"amount_total"`
	Currency          string            `json:"currency"`
	ClientReferenceID string            `json:"client_reference_id"`
	Metadata          map[string]string `json:"metadata"`
	PaymentIntent     json.RawMessage   `json:"payment_intent"`
	CustomerDetails   *struct {
		Email string `json:"email"`
	} `json:"customer_details"`
	CustomerEmail  string `json:"customer_email"`
	AmountRefunded int64  `json:"amount_refunded"`
	Refunded       bool   `json:"refunded"`
	// A PaymentIntent's.
	Amount           int64  `json:"amount"`
	ReceiptEmail     string `json:"receipt_email"`
	LastPaymentError *struct {
		Message string `json:"message"`
	} `json:"last_payment_error"`
}

// HandledEventTypes are the event types that change an order: what a Dashboard endpoint must
// send, and what reconcile lists.
var HandledEventTypes = []stripe.EventType{
	stripe.EventTypeCheckoutSessionCompleted,
	stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded,
	stripe.EventTypeCheckoutSessionAsyncPaymentFailed,
	stripe.EventTypeCheckoutSessionExpired,
	stripe.EventTypeChargeRefunded,
	stripe.EventTypePaymentIntentSucceeded,
	stripe.EventTypePaymentIntentProcessing,
	stripe.EventTypePaymentIntentPaymentFailed,
	stripe.EventTypePaymentIntentCanceled,
}

// changeOf reads what a Stripe event means for the shop: this is the one place that knows
// Stripe's event types and what each says about an order.
func changeOf(ev envelope, payload []byte) (store.Change, error) {
	if ev.ID == "" || ev.Type == "" || ev.Data.Object == nil {
		return store.Change{}, errors.New("decode event: id, type or data.object missing")
	}
	obj := *ev.Data.Object
	orderID, _ := strconv.ParseInt(obj.Metadata["order_id"], 10, 64)
	ch := store.Change{
		Event: store.EventRecord{ID: ev.ID, Type: string(ev.Type), APIVersion: ev.APIVersion, Created: ev.Created,
			ObjectID: obj.ID, Payload: payload},
		Order: store.OrderRef{PaymentIntent: idOf(obj.PaymentIntent), OrderID: max(orderID, 0)},
	}
	payment := &store.Payment{Amount: obj.AmountTotal, Currency: obj.Currency, ClientReference: obj.ClientReferenceID}
	settle := func(to store.Status, confirms *store.Payment) {
		ch.Order.SessionID = obj.ID
		ch.Effect, ch.To, ch.Payment = store.EffectSettle, to, confirms
		ch.CustomerEmail = obj.CustomerEmail
		if obj.CustomerDetails != nil && obj.CustomerDetails.Email != "" {
			ch.CustomerEmail = obj.CustomerDetails.Email
		}
	}
	// Memberships first: a subscription checkout's completion is not an order's (membership_change.go).
	if handled, err := membershipChange(ev.Type, ev.Created, payload, &ch); handled || err != nil {
		return ch, err
	}
	switch ev.Type {
	case stripe.EventTypeCheckoutSessionCompleted:
		to := store.StatusProcessing
		if obj.PaymentStatus == "paid" || obj.PaymentStatus == "no_payment_required" {
			to = store.StatusPaid
		}
		settle(to, payment)
	case stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded:
		settle(store.StatusPaid, payment)
	case stripe.EventTypeCheckoutSessionAsyncPaymentFailed:
		settle(store.StatusFailed, nil)
	case stripe.EventTypeCheckoutSessionExpired:
		settle(store.StatusExpired, nil)
	case stripe.EventTypePaymentIntentSucceeded, stripe.EventTypePaymentIntentProcessing,
		stripe.EventTypePaymentIntentPaymentFailed, stripe.EventTypePaymentIntentCanceled:
		if obj.Metadata[metaKind] != kindIntent {
			break // Checkout's own intent: its session's events say what happened
		}
		ch.Order.PaymentIntent = obj.ID
		ch.CustomerEmail = obj.ReceiptEmail
		confirms := &store.Payment{Amount: obj.Amount, Currency: obj.Currency, ClientReference: obj.Metadata[metaUserID]}
		switch ev.Type {
		case stripe.EventTypePaymentIntentSucceeded:
			ch.Effect, ch.To, ch.Payment = store.EffectSettle, store.StatusPaid, confirms
		case stripe.EventTypePaymentIntentProcessing:
			ch.Effect, ch.To, ch.Payment = store.EffectSettle, store.StatusProcessing, confirms
		case stripe.EventTypePaymentIntentCanceled:
			ch.Effect, ch.To = store.EffectSettle, store.StatusFailed
		default:
			ch.Effect, ch.PaymentError = store.EffectPaymentError, "The payment did not go through."
			if obj.LastPaymentError != nil && obj.LastPaymentError.Message != "" {
				ch.PaymentError = obj.LastPaymentError.Message
			}
		}
	case stripe.EventTypeChargeDisputeCreated:
		ch.Order.OrderID = 0 // a dispute's metadata is not the shop's
		ch.Effect = store.EffectDispute
	case stripe.EventTypeChargeRefunded:
		ch.Order.OrderID = 0 // a charge's metadata is not the shop's
		ch.Effect = store.EffectRefund
		ch.Refund = store.Refund{Amount: obj.AmountRefunded, Full: obj.Refunded}
	}
	return ch, nil
}
