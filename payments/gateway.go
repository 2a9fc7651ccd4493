// Package payments talks to Stripe through stripe-go: Checkout Sessions, refunds, and webhook
// verification. The same code serves real Stripe, stripe-mock and the built-in simulator;
// only the base URL and keys differ.
package payments

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/checkout/session"
	"github.com/stripe/stripe-go/v76/event"
	"github.com/stripe/stripe-go/v76/paymentintent"
	"github.com/stripe/stripe-go/v76/refund"
)

// Config says which Stripe to talk to.
type Config struct {
	SecretKey      string
	PublishableKey string
	APIBase        string // empty: api.stripe.com
	CheckoutOrigin string // where shoppers pay, for the Content-Security-Policy; empty: https://checkout.stripe.com
	HTTPClient     *http.Client
	MaxRetries     int64 // network retries per call (stripe-go retries safely thanks to idempotency keys)
}

// Gateway creates and manages Checkout Sessions. It holds its own clients rather than setting
// stripe-go's package-level key and backend, so that several gateways can live in one process.
type Gateway struct {
	sessions session.Client
	refunds  refund.Client
	events   event.Client
	intents  paymentintent.Client
	membershipClients
	publishableKey string
	checkoutOrigin string
}

// NewGateway returns a gateway for cfg.
func NewGateway(cfg Config) *Gateway {
	bc := &stripe.BackendConfig{
		MaxNetworkRetries: stripe.Int64(cfg.MaxRetries),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
		HTTPClient:        cfg.HTTPClient,
	}
	if bc.HTTPClient == nil {
		bc.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.APIBase != "" {
		bc.URL = stripe.String(cfg.APIBase)
	}
	backend := stripe.GetBackendWithConfig(stripe.APIBackend, bc)
	origin := cfg.CheckoutOrigin
	if origin == "" {
		origin = "https://checkout.stripe.com"
	}
	return &Gateway{
		sessions:          session.Client{B: backend, Key: cfg.SecretKey},
		refunds:           refund.Client{B: backend, Key: cfg.SecretKey},
		events:            event.Client{B: backend, Key: cfg.SecretKey},
		intents:           paymentintent.Client{B: backend, Key: cfg.SecretKey},
		membershipClients: newMembershipClients(backend, cfg.SecretKey),
		publishableKey:    cfg.PublishableKey,
		checkoutOrigin:    origin,
	}
}

// PublishableKey is the key browsers may see.
func (g *Gateway) PublishableKey() string { return g.publishableKey }

// CheckoutOrigin is the origin of the hosted payment page shoppers are sent to.
func (g *Gateway) CheckoutOrigin() string { return g.checkoutOrigin }

// LineItem is one priced line of a checkout, with prices taken from the shop's database.
type LineItem struct {
	Name       string
	UnitAmount int64
	Quantity   int64
}

// CheckoutRequest describes the Checkout Session to create for an order.
type CheckoutRequest struct {
	OrderID        int64
	IdempotencyKey string
	UserID         int64 // 0 for guests: no client_reference_id is sent
	CustomerEmail  string
	Currency       string
	Items          []LineItem
	SuccessURL     string
	CancelURL      string
}

// SessionLifetime is how long a Checkout Session stays open: Stripe's minimum (30 minutes),
// with a minute's margin for clock drift, since the session holds the cart's stock.
const SessionLifetime = 31 * time.Minute

// sessionExpiry is when a session created at now expires: SessionLifetime ahead, rounded up to
// the next ten minutes. A retry of the same creation (same idempotency key, a concurrent click)
// must send the same parameters, or Stripe refuses it; to the second, two requests a moment
// apart would differ, within a ten-minute step they almost never do. Holds last 31–41 minutes.
func sessionExpiry(now time.Time) time.Time {
	return now.Add(SessionLifetime).Truncate(10 * time.Minute).Add(10 * time.Minute)
}

// CheckoutSession is what the shop keeps of a created session.
type CheckoutSession struct {
	ID        string
	URL       string
	ExpiresAt time.Time
}

// CreateCheckoutSession creates a payment-mode Checkout Session for an order.
func (g *Gateway) CreateCheckoutSession(ctx context.Context, req CheckoutRequest) (CheckoutSession, error) {
	p := &stripe.CheckoutSessionParams{
		Mode:       stripe.String(string(stripe.CheckoutSessionModePayment)),
		SuccessURL: stripe.String(req.SuccessURL),
		CancelURL:  stripe.String(req.CancelURL),
	}
	p.Context = ctx
	p.SetIdempotencyKey(req.IdempotencyKey)
	// Stock is held while the session is open: keep it open no longer than Stripe's minimum.
	p.ExpiresAt = stripe.Int64(sessionExpiry(time.Now()).Unix())
	p.AddMetadata("order_id", strconv.FormatInt(req.OrderID, 10))
	if req.UserID != 0 {
		p.ClientReferenceID = stripe.String(strconv.FormatInt(req.UserID, 10))
	}
	if req.CustomerEmail != "" {
		p.CustomerEmail = stripe.String(req.CustomerEmail)
	}
	for _, it := range req.Items {
		p.LineItems = append(p.LineItems, &stripe.CheckoutSessionLineItemParams{
			Quantity: stripe.Int64(it.Quantity),
			PriceData: &stripe.CheckoutSessionLineItemPriceDataParams{
				Currency:    stripe.String(req.Currency),
				UnitAmount:  stripe.Int64(it.UnitAmount),
				ProductData: &stripe.CheckoutSessionLineItemPriceDataProductDataParams{Name: stripe.String(it.Name)},
			},
		})
	}
	s, err := g.sessions.New(p)
	if err != nil {
		return CheckoutSession{}, fmt.Errorf("create checkout session: %w", err)
	}
	if s.ID == "" || s.URL == "" {
		return CheckoutSession{}, errors.New("create checkout session: Stripe answered without an id or url")
	}
	return CheckoutSession{ID: s.ID, URL: s.URL, ExpiresAt: unixOr24h(s.ExpiresAt)}, nil
}

// unixOr24h reads a session's expires_at; Stripe's default, a day, when it is missing.
func unixOr24h(sec int64) time.Time {
	if sec == 0 {
		return time.Now().Add(24 * time.Hour)
	}
	return time.Unix(sec, 0)
}

// ErrCheckoutComplete means a Checkout Session could not be closed because the customer has
// already completed it: its payment is on the way, and the order is left to its webhook.
var ErrCheckoutComplete = errors.New("the checkout session is already complete")

// ExpireCheckoutSession closes an open session so that it can no longer be paid. A session
// that is already expired counts as closed; one already complete gives ErrCheckoutComplete.
func (g *Gateway) ExpireCheckoutSession(ctx context.Context, id string) error {
	p := &stripe.CheckoutSessionExpireParams{}
	p.Context = ctx
	_, err := g.sessions.Expire(id, p)
	if err == nil {
		return nil
	}
	// Stripe refuses to expire a session that is not open, with no error code to say why:
	// ask the session itself.
	var se *stripe.Error
	if errors.As(err, &se) && se.HTTPStatusCode == http.StatusBadRequest {
		gp := &stripe.CheckoutSessionParams{}
		gp.Context = ctx
		if s, gerr := g.sessions.Get(id, gp); gerr == nil {
			switch s.Status {
			case stripe.CheckoutSessionStatusExpired:
				return nil
			case stripe.CheckoutSessionStatusComplete:
				err = ErrCheckoutComplete
			}
		}
	}
	return fmt.Errorf("expire checkout session %s: %w", id, err)
}

// Refund refunds a payment in full.
func (g *Gateway) Refund(ctx context.Context, paymentIntent string) error {
	return g.RefundPayment(ctx, RefundRequest{PaymentIntent: paymentIntent})
}

// RefundRequest asks for a refund of a payment: Amount in minor units, 0 for all that is left.
// IdempotencyKey makes a retried request refund once.
type RefundRequest struct {
	PaymentIntent  string
	Amount         int64
	IdempotencyKey string
}

// RefundPayment asks the provider to refund a payment, in full or in part. The provider then
// reports the refund with a charge.refunded event, which is what changes the order.
func (g *Gateway) RefundPayment(ctx context.Context, req RefundRequest) error {
	p := &stripe.RefundParams{PaymentIntent: stripe.String(req.PaymentIntent)}
	p.Context = ctx
	if req.Amount > 0 {
		p.Amount = stripe.Int64(req.Amount)
	}
	if req.IdempotencyKey != "" {
		p.SetIdempotencyKey(req.IdempotencyKey)
	}
	if _, err := g.refunds.New(p); err != nil {
		return fmt.Errorf("refund %s: %w", req.PaymentIntent, err)
	}
	return nil
}

// ErrorMessage returns Stripe's own explanation of a refused call ("" for other errors),
// which is written for the merchant and safe to show an admin.
func ErrorMessage(err error) string {
	var se *stripe.Error
	if errors.As(err, &se) {
		return se.Msg
	}
	return ""
}

// RequestID returns the Stripe request id carried by err, if any, for logs.
func RequestID(err error) string {
	var se *stripe.Error
	if errors.As(err, &se) {
		return se.RequestID
	}
	return ""
}
