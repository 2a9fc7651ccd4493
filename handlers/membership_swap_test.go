package handlers

import (
	"context"

	"storefront/payments"
)

// The swappable provider of the simulator and stripe-mock tests offers memberships too, when
// the provider behind it does (payments.Gateway does).

func (s *swappableCheckout) members() MembershipGateway { return s.get().(MembershipGateway) }

func (s *swappableCheckout) CreateCustomer(ctx context.Context, req payments.CustomerRequest) (string, error) {
	return s.members().CreateCustomer(ctx, req)
}

func (s *swappableCheckout) PlanPrices(ctx context.Context, plans []payments.PlanPrice) (map[string]string, error) {
	return s.members().PlanPrices(ctx, plans)
}

func (s *swappableCheckout) CreateSubscriptionCheckout(ctx context.Context, req payments.SubscriptionCheckoutRequest) (payments.CheckoutSession, error) {
	return s.members().CreateSubscriptionCheckout(ctx, req)
}

func (s *swappableCheckout) CreatePortalSession(ctx context.Context, customer, returnURL string) (string, error) {
	return s.members().CreatePortalSession(ctx, customer, returnURL)
}
