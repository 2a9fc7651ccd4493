package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"storefront/payments"
	"storefront/store"
)

// sessionStillUsable is how long a Checkout Session must stay open for a shopper to be sent
// back to it; one closing sooner is replaced.
const sessionStillUsable = 5 * time.Minute

// pendingOrderOf finds the order named in the path that the visitor may act on: a user's own
// order, or a guest's order made from the cart in their cookie. Otherwise it answers 404
// itself (an order id says nothing about whose it is) and reports false.
func (s *server) pendingOrderOf(w http.ResponseWriter, r *http.Request) (*visitor, store.Order, bool) {
	v := s.visitorOf(r)
	o, ok := s.ownOrder(w, r, v, r.PathValue("id"))
	if !ok {
		return v, store.Order{}, false
	}
	if o.Status != store.StatusPending {
		s.errorPage(w, r, http.StatusConflict, "Not awaiting payment",
			fmt.Sprintf("Order #%d is %s: there is nothing left to pay or cancel.", o.ID, lowerStatus(o.Status)))
		return v, store.Order{}, false
	}
	return v, o, true
}

// handlePayOrder resumes the payment of a pending order: back to its Checkout Session while
// that is open, else through a new session (with an idempotency key of its own attempt).
func (s *server) handlePayOrder() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, o, ok := s.pendingOrderOf(w, r)
		if !ok {
			return
		}
		ctx := r.Context()
		now := time.Now()
		if o.CheckoutURL != "" && o.SessionExpiresAt.After(now.Add(sessionStillUsable)) {
			s.checkoutStarted(w, r, o.CheckoutSessionID, o.CheckoutURL)
			return
		}
		if s.tooManyCheckouts(w, r) {
			return
		}
		// A session about to close must be closed first, so that the order is never payable twice.
		if o.CheckoutSessionID != "" && o.SessionExpiresAt.After(now) {
			err := s.Payments.ExpireCheckoutSession(ctx, o.CheckoutSessionID)
			if errors.Is(err, payments.ErrCheckoutComplete) {
				s.justPaid(w, r, o) // a second session would charge twice
				return
			}
			if err != nil {
				s.Logger.Error("close checkout session before resuming", "error", err, "order_id", o.ID, "session_id", o.CheckoutSessionID)
				s.errorPage(w, r, http.StatusBadGateway, "Checkout is unavailable", checkoutUnavailable)
				return
			}
		}
		attempt, err := s.Store.NextCheckoutAttempt(ctx, o.ID)
		if err != nil {
			s.resumeConflict(w, r, o, err)
			return
		}
		key := fmt.Sprintf("%s-attempt-%d", o.IdempotencyKey(), attempt)
		s.countCheckout(r)
		cs, err := s.Payments.CreateCheckoutSession(ctx, s.checkoutRequest(o, v, key))
		if err != nil {
			s.Logger.Error("resume checkout", "error", err, "order_id", o.ID, "stripe_request_id", payments.RequestID(err))
			s.errorPage(w, r, http.StatusBadGateway, "Checkout is unavailable", checkoutUnavailable)
			return
		}
		if err := s.Store.ReplaceCheckoutSession(ctx, o.ID, o.CheckoutSessionID, cs.ID, cs.URL, cs.ExpiresAt); err != nil {
			if xerr := s.Payments.ExpireCheckoutSession(context.WithoutCancel(ctx), cs.ID); xerr != nil {
				s.Logger.Error("expire unused checkout session", "error", xerr, "order_id", o.ID, "session_id", cs.ID)
			}
			s.resumeConflict(w, r, o, err)
			return
		}
		s.Logger.Info("checkout resumed", "order_id", o.ID, "session_id", cs.ID, "attempt", attempt)
		o.CheckoutSessionID, o.CheckoutURL, o.SessionExpiresAt = cs.ID, cs.URL, cs.ExpiresAt
		s.publishOrder(o)
		s.checkoutStarted(w, r, cs.ID, cs.URL)
	}
}

// justPaid answers an action on a pending order whose Checkout Session the customer has just
// completed: the payment's webhook is on its way and settles the order.
func (s *server) justPaid(w http.ResponseWriter, r *http.Request, o store.Order) {
	s.errorPage(w, r, http.StatusConflict, "Payment received",
		fmt.Sprintf("Order #%d has just been paid. It shows as paid as soon as the payment is confirmed.", o.ID))
}

// resumeConflict answers a resume that found the order moved on meanwhile (paid, expired).
func (s *server) resumeConflict(w http.ResponseWriter, r *http.Request, o store.Order, err error) {
	if !errors.Is(err, store.ErrConflict) {
		s.serverError(w, r, err)
		return
	}
	s.errorPage(w, r, http.StatusConflict, "Not awaiting payment",
		fmt.Sprintf("Order #%d changed while you were resuming it. Look at your orders to see where it stands.", o.ID))
}

// handleCancelOrder cancels a pending order: its Checkout Session is closed at the provider,
// so it can no longer be paid, and the order is marked expired.
func (s *server) handleCancelOrder() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, o, ok := s.pendingOrderOf(w, r)
		if !ok {
			return
		}
		ctx := r.Context()
		if o.CheckoutSessionID != "" && o.SessionExpiresAt.After(time.Now()) {
			err := s.Payments.ExpireCheckoutSession(ctx, o.CheckoutSessionID)
			if errors.Is(err, payments.ErrCheckoutComplete) {
				s.justPaid(w, r, o)
				return
			}
			if err != nil {
				// The session may have just been paid: leave the order to the provider's events.
				s.Logger.Error("cancel order: close checkout session", "error", err, "order_id", o.ID, "session_id", o.CheckoutSessionID)
				s.errorPage(w, r, http.StatusBadGateway, "Could not cancel",
					"We could not reach our payment provider to close the checkout, so the order is unchanged. Please try again in a moment.")
				return
			}
		}
		after, changed, err := s.Store.ExpireOrder(ctx, o.ID)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if changed {
			s.publishOrder(after)
			s.Logger.Info("order cancelled", "order_id", o.ID)
		}
		s.setFlash(w, r, v, fmt.Sprintf("Order #%d is cancelled. Nothing was charged.", o.ID))
		if v.user != nil {
			redirect(w, r, "/orders")
			return
		}
		redirect(w, r, "/cart")
	}
}

func lowerStatus(st store.Status) string {
	switch st {
	case store.StatusPaid:
		return "paid"
	case store.StatusProcessing:
		return "being paid by bank transfer"
	case store.StatusExpired:
		return "expired or cancelled"
	case store.StatusFailed:
		return "a failed payment"
	case store.StatusRefunded:
		return "refunded"
	}
	return "under review"
}
