package simulator

import (
	"encoding/json"
	"time"
)

// Session, payment intent and charge states, spelled as Stripe spells them.
const (
	statusOpen     = "open"
	statusComplete = "complete"
	statusExpired  = "expired"

	paymentUnpaid = "unpaid"
	paymentPaid   = "paid"

	piRequiresPaymentMethod = "requires_payment_method"
	piProcessing            = "processing"
	piSucceeded             = "succeeded"

	methodCard         = "card"
	methodBankTransfer = "bank_transfer"
)

// lineItem is a price_data line item, kept so the hosted page can show what is being bought.
type lineItem struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Quantity    int64  `json:"quantity"`
	UnitAmount  int64  `json:"unit_amount"`
	Currency    string `json:"currency"`
	// Interval is a recurring price's billing interval ("month", "year"); "" for one-time.
	Interval string `json:"interval,omitempty"`
	// PriceID is the Price the line was given as, when it was ("" for price_data).
	PriceID string `json:"price_id,omitempty"`
}

func (li lineItem) amount() int64 { return li.UnitAmount * li.Quantity }

// session is a Checkout Session together with the one payment intent and charge Checkout creates for it.
type session struct {
	ID                string
	Created           int64 // unix seconds
	ExpiresAt         time.Time
	Status            string
	PaymentStatus     string
	Currency          string
	AmountSubtotal    int64
	AmountTotal       int64
	ClientReferenceID *string
	CustomerEmail     *string
	SuccessURL        string
	CancelURL         *string
	Metadata          map[string]string
	LineItems         []lineItem

	PaymentIntent  string // "" until the customer first tries to pay
	PIStatus       string
	PICreated      int64
	PaymentMethod  string // methodCard or methodBankTransfer
	PMDetails      json.RawMessage
	ChargeID       string // the successful charge, "" until there is one
	ChargeCreated  int64
	BalanceTxn     string
	AmountRefunded int64
	PaidEmail      string            // customer_details.email once completed
	PILastError    *paymentErrorJSON // why the last attempt failed; nil after success

	Billing *checkoutSubscription // set for a subscription-mode session (billing_db.go)
}

// refundable is what is left to refund on the session's successful charge; a pending or failed
// bank debit has a charge but nothing to refund.
func (s *session) refundable() int64 {
	if s.ChargeID == "" || s.PIStatus != piSucceeded {
		return 0
	}
	return s.AmountTotal - s.AmountRefunded
}
