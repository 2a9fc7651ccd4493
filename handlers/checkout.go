package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"storefront/components"
	"storefront/payments"
	"storefront/store"
)

const checkoutUnavailable = "We could not reach our payment provider, so nothing was charged and your cart is unchanged. Please try again in a moment."

func (s *server) handleConfig() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.writeJSON(w, r, http.StatusOK, map[string]string{"publicKey": s.Payments.PublishableKey()})
	}
}

// tooManyCheckouts answers 429 when this address has started its share of payments lately:
// each new Checkout Session or PaymentIntent is a call to Stripe, whose rate limit is the
// shop's. Starting one counts through countCheckout.
func (s *server) tooManyCheckouts(w http.ResponseWriter, r *http.Request) bool {
	if s.limiter.count(r.Context(), "checkout:"+clientAddr(r), checkoutWindow) < checkoutsPerIP {
		return false
	}
	retryAfter(w, checkoutWindow)
	s.Logger.Warn("checkout rate limited", "addr", clientAddr(r))
	s.errorPage(w, r, http.StatusTooManyRequests, "Too many checkouts",
		"Too many checkouts were started from your network. Your cart is kept: please try again in a few minutes.")
	return true
}

// countCheckout counts a payment started at the provider against the address's limit.
func (s *server) countCheckout(r *http.Request) {
	s.limiter.add(r.Context(), "checkout:"+clientAddr(r), checkoutWindow)
}

// handleCreateCheckoutSession turns the cart into a pending order and sends the shopper to
// Stripe Checkout to pay for it. Prices come only from the database: nothing in the request
// body is read, so a forged price or amount field has no effect.
func (s *server) handleCreateCheckoutSession() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := s.visitorOf(r)
		ctx := r.Context()
		if s.tooManyCheckouts(w, r) {
			return
		}
		o, reused, err := s.Store.PrepareOrder(ctx, v.cartRef())
		if errors.Is(err, store.ErrEmptyCart) {
			s.errorPage(w, r, http.StatusBadRequest, "Your cart is empty", "Your cart is empty: add something before checking out.")
			return
		}
		var short *store.StockError // nothing was held and Stripe is not called
		if errors.As(err, &short) {
			s.errorPage(w, r, http.StatusConflict, "Not enough in stock", short.Error())
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.closeReplacedCheckouts(ctx, o)
		if reused && o.CheckoutURL != "" {
			s.Logger.Info("checkout reused", "order_id", o.ID, "session_id", o.CheckoutSessionID)
			s.checkoutStarted(w, r, o.CheckoutSessionID, o.CheckoutURL)
			return
		}
		req := s.checkoutRequest(o, v, o.IdempotencyKey())
		s.countCheckout(r)
		cs, err := s.Payments.CreateCheckoutSession(ctx, req)
		if err != nil {
			s.Logger.Error("create checkout session", "error", err, "order_id", o.ID, "stripe_request_id", payments.RequestID(err))
			// Only the request that created the order may fail it: a concurrent retry of the same
			// order may still succeed with the same idempotency key.
			if !reused {
				if ferr := s.Store.FailCheckout(ctx, o.ID); ferr != nil {
					s.Logger.Error("mark order failed", "error", ferr, "order_id", o.ID)
				}
			}
			s.errorPage(w, r, http.StatusBadGateway, "Checkout is unavailable", checkoutUnavailable)
			return
		}
		err = s.Store.AttachCheckoutSession(ctx, o.ID, cs.ID, cs.URL, cs.ExpiresAt)
		if errors.Is(err, store.ErrConflict) {
			// A concurrent attempt at this order failed and marked it failed: close the session
			// so that it cannot be paid, and let the shopper try again with a fresh order.
			if xerr := s.Payments.ExpireCheckoutSession(context.WithoutCancel(ctx), cs.ID); xerr != nil {
				s.Logger.Error("expire orphaned checkout session", "error", xerr, "order_id", o.ID, "session_id", cs.ID)
			}
			s.errorPage(w, r, http.StatusBadGateway, "Checkout is unavailable", checkoutUnavailable)
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.Logger.Info("checkout started", "order_id", o.ID, "session_id", cs.ID)
		// The order shows on the shopper's open orders page from now, awaiting payment.
		o.CheckoutSessionID, o.CheckoutURL, o.SessionExpiresAt = cs.ID, cs.URL, cs.ExpiresAt
		s.publishOrder(o)
		s.checkoutStarted(w, r, cs.ID, cs.URL)
	}
}

// checkoutRequest is the Checkout Session to create for an order, with the given idempotency key.
func (s *server) checkoutRequest(o store.Order, v *visitor, idempotencyKey string) payments.CheckoutRequest {
	req := payments.CheckoutRequest{
		OrderID:        o.ID,
		IdempotencyKey: idempotencyKey,
		Currency:       o.Currency,
		SuccessURL:     s.BaseURL.JoinPath("/success/").String() + "?session_id={CHECKOUT_SESSION_ID}",
		CancelURL:      s.BaseURL.JoinPath("/cancelled/").String(),
	}
	if v.user != nil {
		req.UserID, req.CustomerEmail = v.user.ID, v.user.Email
	}
	for _, it := range o.Items {
		req.Items = append(req.Items, payments.LineItem{Name: it.Name, UnitAmount: it.UnitAmount, Quantity: int64(it.Quantity)})
	}
	return req
}

// checkoutStarted answers in the shape the client asked for: JSON, an htmx redirect, or a 303.
func (s *server) checkoutStarted(w http.ResponseWriter, r *http.Request, sessionID, checkoutURL string) {
	switch {
	case wantsJSON(r):
		s.writeJSON(w, r, http.StatusOK, map[string]string{"sessionId": sessionID, "url": checkoutURL})
	case isHTMX(r):
		w.Header().Set("HX-Redirect", checkoutURL)
		w.WriteHeader(http.StatusOK)
	default:
		http.Redirect(w, r, checkoutURL, http.StatusSeeOther)
	}
}

// handleSuccess shows the order paid through a Checkout Session; its status updates live.
// A user's order is shown only to that user; a guest's to whoever holds the session id.
func (s *server) handleSuccess() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := s.visitorOf(r)
		sessionID := r.URL.Query().Get("session_id")
		o, ok := s.orderForSession(w, r, v, sessionID)
		if !ok {
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		stream := "/orders/events?session_id=" + url.QueryEscape(sessionID)
		s.render(w, r, http.StatusOK, components.SuccessPage(s.page(r.Context(), v, "Thank you"), orderView(o), stream))
	}
}

// orderForSession finds the order of a Checkout Session that the visitor may see, or answers
// for itself (404, or a login redirect for a logged-out owner) and reports false.
func (s *server) orderForSession(w http.ResponseWriter, r *http.Request, v *visitor, sessionID string) (store.Order, bool) {
	if sessionID == "" {
		s.notFound(w, r)
		return store.Order{}, false
	}
	o, err := s.Store.OrderBySession(r.Context(), sessionID)
	if err != nil {
		s.storeError(w, r, err)
		return store.Order{}, false
	}
	if o.UserID != 0 && v.user == nil {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return store.Order{}, false
	}
	if o.UserID != 0 && v.user.ID != o.UserID {
		s.notFound(w, r)
		return store.Order{}, false
	}
	return o, true
}

func (s *server) handleCancelled() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.render(w, r, http.StatusOK, components.CancelledPage(s.page(r.Context(), s.visitorOf(r), "Checkout cancelled")))
	}
}
