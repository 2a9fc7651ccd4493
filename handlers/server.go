// Package handlers serves the shop over HTTP: pages, forms, checkout, Stripe webhooks and live updates.
package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"sync"

	"github.com/gorilla/sessions"

	"storefront/live"
	"storefront/payments"
	"storefront/store"
)

// PaymentGateway is the payment provider as the handlers need it (payments.Gateway in production).
type PaymentGateway interface {
	CreateCheckoutSession(ctx context.Context, req payments.CheckoutRequest) (payments.CheckoutSession, error)
	ExpireCheckoutSession(ctx context.Context, id string) error
	PublishableKey() string
	CheckoutOrigin() string
}

// Broker carries committed order changes to the event streams watching them. The in-process
// live.Broker serves one instance of the shop; a broker over PostgreSQL LISTEN/NOTIFY, which
// re-publishes each instance's commits locally, can serve many.
type Broker interface {
	Publish(topic string, o *store.Order)
	Subscribe(topics ...string) *live.Subscription[*store.Order]
}

// Deps is everything the server needs.
type Deps struct {
	Store          *store.DB
	Payments       PaymentGateway
	Broker         Broker // nil: an in-process broker
	Sessions       *sessions.CookieStore
	Logger         *slog.Logger
	BaseURL        *url.URL
	WebhookSecrets []string
	Simulated      bool            // the checkout simulator stands in for Stripe: every page says so
	Done           <-chan struct{} // closed when the server shuts down, to end open event streams
	GuestLinks     *GuestLinks     // signs guests' order links; nil: a random key for this process
	MailQueued     func()          // called after a request queues mail, to send it now; may be nil
}

type server struct {
	Deps
	limiter *loginLimiter
	// apiVersions remembers the Stripe API versions seen on webhooks, to log each once.
	apiVersions sync.Map
}

// NewServer returns the shop's HTTP handler with its middleware.
func NewServer(d Deps) http.Handler {
	if d.Broker == nil {
		d.Broker = live.NewBroker[*store.Order](streamBuffer)
	}
	if d.GuestLinks == nil {
		d.GuestLinks = NewGuestLinks(d.BaseURL)
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
