package payments

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/stripe/stripe-go/v76"
	portalsession "github.com/stripe/stripe-go/v76/billingportal/session"
	"github.com/stripe/stripe-go/v76/customer"
	"github.com/stripe/stripe-go/v76/price"
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

// PlanPrice is a membership plan as Stripe prices it: a recurring Price found by its lookup key.
type PlanPrice struct {
	Code     string
	Name     string
	Interval string
	Amount   int64
	Currency string
}

// lookupKey names the Price of a plan at its current amount: a new amount is a new Price, and
// subscribers of the old one keep it until they switch.
func (p PlanPrice) lookupKey() string {
	return fmt.Sprintf("storefront_%s_%d_%s", p.Code, p.Amount, p.Currency)
}

// PlanPrices returns the Stripe Price id of each plan (by plan code), creating a Price the first
// time a plan is priced. With every plan priced, the Billing Portal can offer switching.
func (g *Gateway) PlanPrices(ctx context.Context, plans []PlanPrice) (map[string]string, error) {
	out := make(map[string]string, len(plans))
	for _, plan := range plans {
		key := plan.lookupKey()
		if id, ok := g.priceIDs.Load(key); ok {
			out[plan.Code] = id.(string)
			continue
		}
		id, err := g.findOrCreatePrice(ctx, plan, key)
		if err != nil {
			return nil, err
		}
		g.priceIDs.Store(key, id)
		out[plan.Code] = id
	}
	return out, nil
}

func (g *Gateway) findOrCreatePrice(ctx context.Context, plan PlanPrice, key string) (string, error) {
	lp := &stripe.PriceListParams{LookupKeys: []*string{stripe.String(key)}, Active: stripe.Bool(true)}
	lp.Context = ctx
	it := g.prices.List(lp)
	for it.Next() {
		if p := it.Price(); p.LookupKey == key && p.Active {
			return p.ID, nil
		}
	}
	if err := it.Err(); err != nil {
		return "", fmt.Errorf("find price %s: %w", key, err)
	}
	p := &stripe.PriceParams{
		Currency:    stripe.String(plan.Currency),
		UnitAmount:  stripe.Int64(plan.Amount),
		LookupKey:   stripe.String(key),
		Recurring:   &stripe.PriceRecurringParams{Interval: stripe.String(plan.Interval)},
		ProductData: &stripe.PriceProductDataParams{Name: stripe.String(plan.Name)},
	}
	p.Context = ctx
	p.SetIdempotencyKey("storefront-price-" + key)
	p.AddMetadata(metaPlan, plan.Code)
	created, err := g.prices.New(p)
	if err != nil {
		return "", fmt.Errorf("create price %s: %w", key, err)
	}
	return created.ID, nil
}

// SubscriptionCheckoutRequest describes the Checkout Session that starts a membership. The
// price comes from the shop's plans table, as price_data with a recurring interval.
type SubscriptionCheckoutRequest struct {
	UserID         int64
	Customer       string
	Plan           string // the plan's code, kept as metadata
	Price          string // the plan's Stripe Price (PlanPrices)
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
		LineItems:         []*stripe.CheckoutSessionLineItemParams{{Quantity: stripe.Int64(1), Price: stripe.String(req.Price)}},
		SubscriptionData:  &stripe.CheckoutSessionSubscriptionDataParams{},
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
	prices    price.Client
	priceIDs  *sync.Map // lookup key → Price id, found or created once per process
}

func newMembershipClients(b stripe.Backend, key string) membershipClients {
	return membershipClients{customers: customer.Client{B: b, Key: key}, portal: portalsession.Client{B: b, Key: key},
		prices: price.Client{B: b, Key: key}, priceIDs: new(sync.Map)}
}
