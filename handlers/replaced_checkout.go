package handlers

import (
	"context"
	"errors"

	"storefront/payments"
	"storefront/store"
)

// closeReplacedCheckouts closes, at the payment provider, the Checkout Sessions that o's
// checkout replaced (the cart changed since they were started), so that only the newest one
// can be paid; each such order is then expired, and shown so. A session the customer has
// already completed is left to its webhook, which sells its stock if it is still there (else
// the order goes to review as oversold). A provider that cannot be reached changes nothing:
// the next checkout tries again, and the janitor closes what is left.
func (s *server) closeReplacedCheckouts(ctx context.Context, o store.Order) {
	ctx = context.WithoutCancel(ctx) // a shopper who stops waiting must not leave a session open
	replaced, err := s.Store.ReplacedCheckouts(ctx, o)
	if err != nil {
		s.Logger.Error("list replaced checkouts", "error", err, "order_id", o.ID)
		return
	}
	for _, old := range replaced {
		err := s.Payments.ExpireCheckoutSession(ctx, old.CheckoutSessionID)
		if errors.Is(err, payments.ErrCheckoutComplete) {
			s.Logger.Info("replaced checkout already completed: its webhook settles it", "order_id", old.ID, "session_id", old.CheckoutSessionID)
			continue
		}
		if err != nil {
			s.Logger.Error("close replaced checkout", "error", err, "order_id", old.ID, "session_id", old.CheckoutSessionID)
			continue
		}
		after, changed, err := s.Store.ExpireOrder(ctx, old.ID)
		if err != nil {
			s.Logger.Error("expire replaced order", "error", err, "order_id", old.ID)
			continue
		}
		if changed {
			s.Logger.Info("replaced checkout closed", "order_id", old.ID, "session_id", old.CheckoutSessionID, "by_order_id", o.ID)
			s.publishOrder(after)
		}
	}
}
