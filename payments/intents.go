package payments

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/stripe/stripe-go/v76"
)

// IntentRequest describes the PaymentIntent to create for an order paid on the shop's own page.
type IntentRequest struct {
	OrderID        int64
	IdempotencyKey string
	UserID         int64 // 0 for guests
	ReceiptEmail   string
	Amount         int64
	Currency       string
}

// Intent is what the shop keeps of a created PaymentIntent. The client secret lets the
// shopper's browser confirm this one payment; it goes to the order's owner only.
type Intent struct {
	ID           string
	ClientSecret string
}

// Metadata the shop puts on its PaymentIntents: which order, whose, and that the shop made it
// (Checkout makes PaymentIntents too, whose events the shop reads through the session's).
const (
	metaOrderID = "order_id"
	metaUserID  = "user_id"
	metaKind    = "storefront_kind"
	kindIntent  = "payment_intent"
)

// CreatePaymentIntent creates a PaymentIntent for an order, with automatic payment methods.
func (g *Gateway) CreatePaymentIntent(ctx context.Context, req IntentRequest) (Intent, error) {
	p := &stripe.PaymentIntentParams{
		Amount:                  stripe.Int64(req.Amount),
		Currency:                stripe.String(req.Currency),
		AutomaticPaymentMethods: &stripe.PaymentIntentAutomaticPaymentMethodsParams{Enabled: stripe.Bool(true)},
	}
	p.Context = ctx
	p.SetIdempotencyKey(req.IdempotencyKey)
	p.AddMetadata(metaOrderID, strconv.FormatInt(req.OrderID, 10))
	p.AddMetadata(metaKind, kindIntent)
	if req.UserID != 0 {
		p.AddMetadata(metaUserID, strconv.FormatInt(req.UserID, 10))
	}
	if req.ReceiptEmail != "" {
		p.ReceiptEmail = stripe.String(req.ReceiptEmail)
	}
	pi, err := g.intents.New(p)
	if err != nil {
		return Intent{}, fmt.Errorf("create payment intent: %w", err)
	}
	if pi.ID == "" || pi.ClientSecret == "" {
		return Intent{}, errors.New("create payment intent: Stripe answered without an id or client secret")
	}
	return Intent{ID: pi.ID, ClientSecret: pi.ClientSecret}, nil
}

// CancelPaymentIntent cancels an intent so that it can no longer be paid.
func (g *Gateway) CancelPaymentIntent(ctx context.Context, id string) error {
	p := &stripe.PaymentIntentCancelParams{}
	p.Context = ctx
	if _, err := g.intents.Cancel(id, p); err != nil {
		return fmt.Errorf("cancel payment intent %s: %w", id, err)
	}
	return nil
}
