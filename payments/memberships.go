package payments

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/stripe/stripe-go/v76"
	portalsession "github.com/stripe/stripe-go/v76/billingportal/session"
	"github.com/stripe/stripe-go/v76/customer"
)

// CustomerRequest asks for the Stripe Customer of a shop user. The idempotency key comes from
// the user's reserved customer row, so concurrent first subscribes create one customer.
type CustomerRequest struct {
	UserID         int64
	Email          string
	IdempotencyKey string
}

// CreateCustomer creates the user's Stripe Customer and returns its id.
func (g *Gateway) CreateCustomer(ctx context.Context, req CustomerRequest) (string, error) {
	p := &stripe.CustomerParams{Email: stripe.String(req.Email)}
	p.Context = ctx
	p.SetIdempotencyKey(req.IdempotencyKey)
	p.AddMetadata(metaUserID, strconv.FormatInt(req.UserID, 10))
	c, err := g.customers.New(p)
	if err != nil {
		return "", fmt.Errorf("create customer: %w", err)
	}
	if c.ID == "" {
		return "", errors.New("create customer: Stripe answered without an id")
	}
	return c.ID, nil
}

// SubscriptionCheckoutRequest describes the Checkout Session that starts a membership. The
// price comes from the shop's plans table, as price_data with a recurring interval.
type SubscriptionCheckoutRequest struct {
	UserID         int64
	Customer       string
	Plan           string // the plan's code, kept as metadata
	PlanName       string
	Interval       string // "month" or "year"
	Amount         int64
	Currency       string
	IdempotencyKey string
	SuccessURL     string
	CancelURL      string
}

// CreateSubscriptionCheckout creates a subscription-mode Checkout Session for the user's customer.
func (g *Gateway) CreateSubscriptionCheckout(ctx context.Context, req SubscriptionCheckoutRequest) (CheckoutSession, error) {
	user := strconv.FormatInt(req.UserID, 10)
	p := &stripe.CheckoutSessionParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModeSubscription)),
		Customer:          stripe.String(req.Customer),
		ClientReferenceID: stripe.String(user),
		SuccessURL:        stripe.String(req.SuccessURL),
		CancelURL:         stripe.String(req.CancelURL),
		LineItems: []*stripe.CheckoutSessionLineItemParams{{
			Quantity: stripe.Int64(1),
			PriceData: &stripe.CheckoutSessionLineItemPriceDataParams{
				Currency:    stripe.String(req.Currency),
				UnitAmount:  stripe.Int64(req.Amount),
				Recurring:   &stripe.CheckoutSessionLineItemPriceDataRecurringParams{Interval: stripe.String(req.Interval)},
				ProductData: &stripe.CheckoutSessionLineItemPriceDataProductDataParams{Name: stripe.String(req.PlanName)},
			},
		}},
		SubscriptionData: &stripe.CheckoutSessionSubscriptionDataParams{},
	}
	p.Context = ctx
	p.SetIdempotencyKey(req.IdempotencyKey)
	p.AddMetadata(metaPlan, req.Plan)
	p.AddMetadata(metaUserID, user)
	// The subscription's own events carry the user too, should its customer be unknown.
	p.SubscriptionData.AddMetadata(metaUserID, user)
	s, err := g.sessions.New(p)
	if err != nil {
		return CheckoutSession{}, fmt.Errorf("create subscription checkout: %w", err)
	}
	if s.ID == "" || s.URL == "" {
		return CheckoutSession{}, errors.New("create subscription checkout: Stripe answered without an id or url")
	}
	return CheckoutSession{ID: s.ID, URL: s.URL, ExpiresAt: unixOr24h(s.ExpiresAt)}, nil
}

// CreatePortalSession opens a Billing Portal session for the customer and returns its URL.
func (g *Gateway) CreatePortalSession(ctx context.Context, customer, returnURL string) (string, error) {
	p := &stripe.BillingPortalSessionParams{Customer: stripe.String(customer), ReturnURL: stripe.String(returnURL)}
	p.Context = ctx
	s, err := g.portal.New(p)
	if err != nil {
		return "", fmt.Errorf("create billing portal session: %w", err)
	}
	if s.URL == "" {
		return "", errors.New("create billing portal session: Stripe answered without a url")
	}
	return s.URL, nil
}

// membershipClients are the stripe-go clients memberships use.
type membershipClients struct {
	customers customer.Client
	portal    portalsession.Client
}

func newMembershipClients(b stripe.Backend, key string) membershipClients {
	return membershipClients{customers: customer.Client{B: b, Key: key}, portal: portalsession.Client{B: b, Key: key}}
}
