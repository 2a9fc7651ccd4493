// Package handlers serves the shop over HTTP: pages, forms, checkout, Stripe webhooks and live updates.
package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/gorilla/sessions"

	"storefront/payments"
	"storefront/store"
)

// Checkout is the payment provider as the handlers need it (payments.Gateway in production).
type Checkout interface {
	CreateCheckoutSession(ctx context.Context, req payments.CheckoutRequest) (payments.CheckoutSession, error)
	ExpireCheckoutSession(ctx context.Context, id string) error
	PublishableKey() string
	CheckoutOrigin() string
}

// Publisher is told about every order whose status an event changed, after the change is committed.
type Publisher interface {
	PublishOrder(o store.Order)
}

// Deps is everything the server needs.
type Deps struct {
	Store          *store.DB
	Checkout       Checkout
	Feed           *Feed // live order updates; also the webhook's Publisher unless Publisher is set
	Publisher      Publisher
	Sessions       *sessions.CookieStore
	Logger         *slog.Logger
	BaseURL        *url.URL
	WebhookSecrets []string
	Simulated      bool            // the checkout simulator stands in for Stripe: every page says so
	Done           <-chan struct{} // closed when the server shuts down, to end open event streams
}

type server struct {
	Deps
	limiter *loginLimiter
}

// NewServer returns the shop's HTTP handler with its middleware.
func NewServer(d Deps) http.Handler {
	if d.Feed == nil {
		d.Feed = NewFeed()
	}
	if d.Publisher == nil {
		d.Publisher = d.Feed
	}
	if d.Done == nil {
		d.Done = make(chan struct{})
	}
	s := &server{Deps: d, limiter: newLoginLimiter()}
	mux := http.NewServeMux()
	s.routes(mux)
	var h http.Handler = mux
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(s.crossOriginDenied))
	h = cop.Handler(h)
	h = s.securityHeaders(h)
	h = s.logRequests(h)
	return h
}
