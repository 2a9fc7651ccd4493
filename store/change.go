package store

// Change is what one payment event means for the shop. The payments package reads the
// provider's event and fills it in; the store records it once under Event.ID and applies it if
// the move it asks for is allowed. The webhook, the reconcile command and an operator's
// re-apply all hand the store a Change, so an event has the same effect whichever way it came.
type Change struct {
	Event EventRecord `json:"-"`

	// Order names the order the event concerns, by whichever ids the event carries.
	Order OrderRef `json:"order"`

	Effect Effect `json:"effect,omitempty"`
	// To is the status an EffectSettle moves the order to.
	To Status `json:"to,omitempty"`
	// Payment is set when the change confirms a payment: it must match the order, or the order
	// needs review instead.
	Payment *Payment `json:"payment,omitempty"`
	// CustomerEmail is the buyer's address as the payment provider collected it.
	CustomerEmail string `json:"customerEmail,omitempty"`
	// Refund is what has been refunded of the payment so far (EffectRefund).
	Refund Refund `json:"refund"`
	// PaymentError is why an attempt to pay failed (EffectPaymentError), for the shopper.
	PaymentError string `json:"paymentError,omitempty"`
	// Membership is what the event says about a membership (EffectMembership).
	Membership *MembershipChange `json:"membership,omitempty"`
}

// EventRecord is the provider's event as it is kept in the event log.
type EventRecord struct {
	ID         string
	Type       string // kept for the log; the store never decides anything by it
	APIVersion string
	Created    int64  // Unix seconds, the provider's clock
	ObjectID   string // the provider object the event is about
	Payload    []byte // the event exactly as received
}

// OrderRef names an order by the ids a payment event can carry. SessionID and PaymentIntent
// are matched first; OrderID (the order id the shop gave the provider as metadata) finds an
// order whose payment ids were never saved, say because the shop stopped mid-checkout.
type OrderRef struct {
	SessionID     string `json:"sessionId,omitempty"`
	PaymentIntent string `json:"paymentIntent,omitempty"`
	OrderID       int64  `json:"orderId,omitempty"`
}

// IsZero reports whether the change names no order at all.
func (r OrderRef) IsZero() bool { return r.SessionID == "" && r.PaymentIntent == "" && r.OrderID == 0 }

// Effect is the kind of change an event asks for.
type Effect string

// The effects.
const (
	EffectRecord  Effect = ""        // nothing to apply: the event is kept for the record
	EffectSettle  Effect = "settle"  // move the order to Change.To
	EffectRefund  Effect = "refund"  // the payment was refunded, in part or in full
	EffectDispute Effect = "dispute" // the customer disputed the payment: a paid order needs review
	// EffectPaymentError: an attempt to pay failed, but the order stays payable (the shopper
	// may try again with the same payment); the error is kept to show them.
	EffectPaymentError Effect = "payment_error"
	// EffectMembership: a subscription or one of its invoices changed (see memberships.go).
	EffectMembership Effect = "membership"
)

// Payment is a confirmation's view of what was paid, to be matched against the order.
type Payment struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
	// ClientReference is the shop's user id as the checkout carried it; for a user's order it must name that user.
	ClientReference string `json:"clientReference,omitempty"`
}

// Refund is the refunded part of a payment, as a running total.
type Refund struct {
	Amount int64 `json:"amount,omitempty"` // refunded so far, in minor units
	Full   bool  `json:"full,omitempty"`   // the whole payment is refunded
}
