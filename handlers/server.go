// Package handlers serves the shop over HTTP: pages, forms, checkout, Stripe webhooks and live updates.
package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"github.com/gorilla/sessions"

	"storefront/live"
	"storefront/payments"
	"storefront/reconcile"
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
	Subscribe(deliver func(*store.Order), topics ...string) *live.Subscription[*store.Order]
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
	MaxStreams     int             // cap on open event streams in all; 0: 10,000
	// TrustedProxies are the shop's own reverse proxies: requests from them are limited by
	// the client address in X-Forwarded-For instead.
	TrustedProxies []netip.Prefix
	// Reconcile lists the provider's events and checkout states (payments.Gateway); with
	// ReconcileEvery > 0 the server reconciles that often.
	Reconcile      reconcile.Source
	ReconcileEvery time.Duration
	// Intents creates PaymentIntents, for paying on the shop's own page; PaymentUI says which
	// ways to pay the shop offers (UICheckout, UIElements or UIBoth; empty: Checkout only), and
	// StripeJS is the script the payment page loads (https://js.stripe.com/v3/ with Stripe).
	Intents    IntentGateway
	PaymentUI  string
	StripeJS   string
	GuestLinks *GuestLinks // signs guests' order links; nil: a random key for this process
	MailQueued func()      // called after a request queues mail, to send it now; may be nil
	// AdminEmail, in simulator mode only, names the account that becomes an admin when it
	// first opens the console (see isAdmin).
	AdminEmail string
}

type server struct {
	Deps
	limiter  limits
	streams  *openStreams
	sessions sessionCache               // decoded session cookies (sessioncache.go)
	stock    *live.Broker[*stockChange] // products' stock changes, to the pages showing them
	health   healthCheck
	hasher   *hasher
	// rendered keeps each published change's messages, rendered once per view.
	rendered renderMemo
	// apiVersions remembers the Stripe API versions seen on webhooks, to log each once.
	apiVersions sync.Map
	// members carries committed membership changes to the account pages (membership_events.go).
	members *live.Broker[*store.Membership]
}

// NewServer returns the shop's HTTP handler with its middleware.
func NewServer(d Deps) http.Handler {
	_, h := newServer(d)
	return h
}

func newServer(d Deps) (*server, http.Handler) {
	if d.Broker == nil {
		d.Broker = live.NewBroker[*store.Order]()
	}
	if d.GuestLinks == nil {
		d.GuestLinks = NewGuestLinks(d.BaseURL)
	}
	if d.Done == nil {
		d.Done = make(chan struct{})
	}
	s := &server{Deps: d, limiter: newLimiter(), streams: newOpenStreams(d.MaxStreams), hasher: newHasher()}
	if d.Store.Shared() {
		s.limiter = sharedLimits{db: d.Store, local: newLimiter(), log: d.Logger}
		s.streams.shared, s.streams.log = d.Store, d.Logger
	}
	s.members = live.NewBroker[*store.Membership]()
	go s.tendStreams()
	mux := http.NewServeMux()
	s.routes(mux)
	var h http.Handler = s.limitBodies(mux)
	h = withLocale(h)
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(s.crossOriginDenied))
	h = cop.Handler(h)
	h = s.securityHeaders(h)
	h = s.logRequests(h)
	h = s.fromTrustedProxy(h)
	s.watchStock()
	s.Store.Listen(s.Done, s.heardFromOtherInstances)
	go s.keepTidy()
	go s.keepReconciled()
	return s, h
}
