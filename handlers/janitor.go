package handlers

import (
	"context"
	"time"
)

// Housekeeping: what shoppers leave behind is removed, so that nobody can fill the database by
// starting carts and checkouts.
const (
	tidyEvery      = time.Hour
	cartIdleAfter  = 14 * 24 * time.Hour // an anonymous cart untouched this long is deleted
	orderStaleFrom = 2 * time.Hour       // a checkout still pending this long is abandoned
	tidyBatch      = 500
)

// keepTidy runs tidy every tidyEvery (the first a minute after start) until the server stops.
func (s *server) keepTidy() {
	timer := time.NewTimer(time.Minute)
	defer timer.Stop()
	for {
		select {
		case <-s.Done:
			return
		case <-timer.C:
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			s.tidy(ctx, time.Now())
			cancel()
			timer.Reset(tidyEvery)
		}
	}
}

// tidy deletes idle anonymous carts and closes abandoned checkouts: an order whose Checkout
// Session is still open is closed at the provider (whose expiry event then settles it); one
// with no session, or whose session's expiry was never reported, is expired here.
func (s *server) tidy(ctx context.Context, now time.Time) {
	carts, err := s.Store.DeleteIdleCarts(ctx, now.Add(-cartIdleAfter))
	if err != nil {
		s.Logger.Error("delete idle carts", "error", err)
	}
	orders, err := s.Store.StalePendingOrders(ctx, now.Add(-orderStaleFrom), tidyBatch)
	if err != nil {
		s.Logger.Error("list abandoned checkouts", "error", err)
	}
	var closed, expired int
	for _, o := range orders {
		if o.CheckoutSessionID != "" && o.SessionExpiresAt.After(now) {
			if err := s.Payments.ExpireCheckoutSession(ctx, o.CheckoutSessionID); err == nil {
				closed++
				continue
			} else {
				s.Logger.Warn("close abandoned checkout", "error", err, "order_id", o.ID, "session_id", o.CheckoutSessionID)
			}
		}
		after, changed, err := s.Store.ExpireOrder(ctx, o.ID)
		if err != nil {
			s.Logger.Error("expire abandoned order", "error", err, "order_id", o.ID)
			continue
		}
		if changed {
			expired++
			s.publishOrder(after)
		}
	}
	if carts > 0 || closed > 0 || expired > 0 {
		s.Logger.Info("tidied", "idle_carts_deleted", carts, "checkouts_closed", closed, "orders_expired", expired)
	}
}
