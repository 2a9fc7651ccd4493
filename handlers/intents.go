package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"storefront/components"
	"storefront/payments"
	"storefront/store"
)

// IntentGateway creates the PaymentIntents of orders paid on the shop's own page
// (payments.Gateway in production).
type IntentGateway interface {
	CreatePaymentIntent(ctx context.Context, req payments.IntentRequest) (payments.Intent, error)
	CancelPaymentIntent(ctx context.Context, id string) error
}

// Payment UIs a deployment offers (PAYMENT_UI).
const (
	UICheckout = "checkout" // Stripe's hosted Checkout page
	UIElements = "elements" // the shop's own page with the Payment Element
	UIBoth     = "both"
)

// elementsEnabled reports whether the shop offers paying on its own page.
func (s *server) elementsEnabled() bool {
	return s.Intents != nil && (s.PaymentUI == UIElements || s.PaymentUI == UIBoth)
}

// handleCreatePaymentIntent turns the cart into a pending order paid through a PaymentIntent
// (database prices only, as for Checkout) and sends the shopper to the order's payment page;
// JSON clients get what the Payment Element needs. A second click reuses the order's intent
// while it is payable.
func (s *server) handleCreatePaymentIntent() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.elementsEnabled() {
			s.notFound(w, r)
			return
		}
		v := s.visitorOf(r)
		ctx := r.Context()
		if s.tooManyCheckouts(w, r) {
			return
		}
		o, reused, err := s.Store.PrepareOrderOfKind(ctx, v.cartRef(), store.KindPaymentIntent)
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
		if !reused || o.PaymentClientSecret == "" {
			s.countCheckout(r)
			req := payments.IntentRequest{OrderID: o.ID, IdempotencyKey: o.IdempotencyKey() + "-intent",
				Amount: o.AmountTotal, Currency: o.Currency}
			if v.user != nil {
				req.UserID, req.ReceiptEmail = v.user.ID, v.user.Email
			}
			pi, err := s.Intents.CreatePaymentIntent(ctx, req)
			if err != nil {
				s.Logger.Error("create payment intent", "error", err, "order_id", o.ID, "stripe_request_id", payments.RequestID(err))
				if !reused {
					if ferr := s.Store.FailCheckout(ctx, o.ID); ferr != nil {
						s.Logger.Error("mark order failed", "error", ferr, "order_id", o.ID)
					}
				}
				s.errorPage(w, r, http.StatusBadGateway, "Checkout is unavailable", checkoutUnavailable)
				return
			}
			if err := s.Store.AttachPaymentIntent(ctx, o.ID, pi.ID, pi.ClientSecret); err != nil {
				if cerr := s.Intents.CancelPaymentIntent(context.WithoutCancel(ctx), pi.ID); cerr != nil {
					s.Logger.Error("cancel orphaned payment intent", "error", cerr, "order_id", o.ID, "payment_intent", pi.ID)
				}
				s.storeError(w, r, err)
				return
			}
			o.PaymentIntent, o.PaymentClientSecret = pi.ID, pi.ClientSecret
			s.Logger.Info("payment intent created", "order_id", o.ID, "payment_intent", pi.ID)
			s.publishOrder(o)
		}
		if wantsJSON(r) {
			s.writeJSON(w, r, http.StatusOK, map[string]string{"orderId": strconv.FormatInt(o.ID, 10),
				"clientSecret": o.PaymentClientSecret, "publishableKey": s.Payments.PublishableKey()})
			return
		}
		redirect(w, r, "/pay/"+strconv.FormatInt(o.ID, 10))
	}
}

// handlePay is the order's own payment page. Only the order's owner, or the guest whose cart it
// came from, may open it; a paid or closed order goes to its status page instead.
func (s *server) handlePay() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := s.visitorOf(r)
		o, ok := s.ownOrder(w, r, v, r.PathValue("id"))
		if !ok {
			return
		}
		if o.Kind != store.KindPaymentIntent || o.PaymentClientSecret == "" || !s.elementsEnabled() {
			s.notFound(w, r)
			return
		}
		if o.Status != store.StatusPending {
			http.Redirect(w, r, "/payment-complete/?payment_intent="+url.QueryEscape(o.PaymentIntent), http.StatusSeeOther)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Security-Policy", s.payPageCSP())
		f := components.PayForm{PublishableKey: s.Payments.PublishableKey(), ClientSecret: o.PaymentClientSecret,
			ReturnURL: s.BaseURL.JoinPath("/payment-complete/").String(), StripeJS: s.StripeJS, Error: o.PaymentError}
		s.render(w, r, http.StatusOK, components.PayPage(s.page(r.Context(), v, "Payment"), orderView(o), f))
	}
}

// handlePaymentComplete is the page Stripe returns the shopper to. redirect_status is never
// trusted: the status shown is the order's, which only a webhook changes, and it updates live.
func (s *server) handlePaymentComplete() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := s.visitorOf(r)
		intent := r.URL.Query().Get("payment_intent")
		o, err := s.Store.OrderByPaymentIntent(r.Context(), intent)
		if intent == "" || errors.Is(err, store.ErrNotFound) || (o.UserID != 0 && (v.user == nil || v.user.ID != o.UserID)) {
			s.notFound(w, r)
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		stream := "/orders/events?payment_intent=" + url.QueryEscape(intent)
		s.render(w, r, http.StatusOK, components.SuccessPage(s.page(r.Context(), v, "Thank you"), orderView(o), stream))
	}
}

// payPageCSP is the shop's policy widened by exactly what Stripe.js needs on the payment page:
// its script, its frames, and its API.
func (s *server) payPageCSP() string {
	origin := s.StripeJSOrigin()
	return "default-src 'self'; script-src 'self' " + origin + "; style-src 'self'; img-src 'self' data: " + origin + "; " +
		"frame-src " + origin + " https://hooks.stripe.com; connect-src 'self' " + origin + " https://api.stripe.com; " +
		"font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
}

// StripeJSOrigin is the origin Stripe.js is loaded from.
func (s *server) StripeJSOrigin() string {
	u, err := url.Parse(s.StripeJS)
	if err != nil || u.Host == "" {
		return "https://js.stripe.com"
	}
	return u.Scheme + "://" + u.Host
}
