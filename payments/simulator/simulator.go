package simulator

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// shutdownGrace bounds how long Run waits for in-flight requests, so it returns well within 2 s.
const shutdownGrace = time.Second

// Simulator is a running stand-in for Stripe Checkout: API, hosted pages and webhook delivery.
type Simulator struct {
	cfg     Config
	log     *slog.Logger
	db      *sql.DB
	ln      net.Listener
	baseURL string
	handler http.Handler
	client  *http.Client

	deliveryWake  chan struct{}
	schedulerWake chan struct{}
	// apiMu serialises idempotent API writes so two requests with one key cannot both execute.
	apiMu sync.Mutex

	faultsMu sync.Mutex
	faults   faults // switched from the dev page; read by the delivery worker
	dice     *faultDice

	attempts attemptStore // failed payment attempts, for post/redirect/get

	running   atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// New validates cfg, opens and migrates the SQLite database and binds the listener, so URL is known before Run.
// Call Run to serve and deliver events, or Close to release the port and database without running.
func New(cfg Config) (*Simulator, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	db, err := openDB(context.Background(), cfg.DBPath)
	if err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("simulator: listen on %s: %w", cfg.Addr, err)
	}
	s := &Simulator{
		cfg:           cfg,
		log:           cfg.Logger,
		db:            db,
		ln:            ln,
		baseURL:       "http://" + ln.Addr().String(),
		deliveryWake:  make(chan struct{}, 1),
		schedulerWake: make(chan struct{}, 1),
		client: &http.Client{
			// Stripe treats a redirect from a webhook endpoint as a failure; so do we.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	s.faults, _ = parseFaults(cfg.Faults) // checked by withDefaults
	s.dice = newFaultDice(cfg.FaultSeed)
	s.handler = s.routes()
	return s, nil
}

// URL is the base URL to give stripe-go, e.g. "http://127.0.0.1:12180".
func (s *Simulator) URL() string { return s.baseURL }

func (s *Simulator) now() time.Time { return s.cfg.Now() }

func (s *Simulator) payURL(id string) string { return s.baseURL + "/c/pay/" + id }

// Run serves on the listener and runs the delivery and scheduling workers until ctx is done,
// then shuts down within about a second, closes the database and returns nil.
func (s *Simulator) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("simulator: Run called twice")
	}
	defer s.Close()
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	workCtx, stopWork := context.WithCancel(ctx)
	defer stopWork()
	var wg sync.WaitGroup
	wg.Go(func() { s.deliveryLoop(workCtx) })
	wg.Go(func() { s.schedulerLoop(workCtx) })

	served := make(chan error, 1)
	go func() { served <- srv.Serve(s.ln) }()
	s.log.Info("checkout simulator listening", "url", s.baseURL, "webhook_url", s.cfg.WebhookURL)
	if f := s.currentFaults(); f != (faults{}) {
		s.log.Warn("webhook fault injection on", "faults", f.String())
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
	}
	stopWork()
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close()
	}
	wg.Wait()
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("simulator: serve: %w", serveErr)
	}
	return nil
}

// Close releases the listener and the database; Run calls it on the way out, and it is safe to call twice.
func (s *Simulator) Close() error {
	s.closeOnce.Do(func() {
		lnErr := s.ln.Close()
		if errors.Is(lnErr, net.ErrClosed) {
			lnErr = nil
		}
		s.closeErr = errors.Join(lnErr, s.db.Close())
	})
	return s.closeErr
}

func (s *Simulator) routes() http.Handler {
	api := http.NewServeMux()
	s.billingRoutes(api) // customers, prices, subscriptions, invoices, the portal (portal.go)
	api.HandleFunc("POST /v1/checkout/sessions", s.idempotent(s.apiCreateSession))
	api.HandleFunc("GET /v1/checkout/sessions/{id}", s.api(s.apiGetSession))
	api.HandleFunc("GET /v1/checkout/sessions/{id}/line_items", s.api(s.apiGetLineItems))
	api.HandleFunc("POST /v1/checkout/sessions/{id}/expire", s.idempotent(s.apiExpireSession))
	api.HandleFunc("POST /v1/refunds", s.idempotent(s.apiCreateRefund))
	api.HandleFunc("GET /v1/refunds/{id}", s.api(s.apiGetRefund))
	api.HandleFunc("GET /v1/refunds", s.api(s.apiListRefunds))
	api.HandleFunc("GET /v1/checkout/sessions", s.api(s.apiListSessions))
	api.HandleFunc("POST /v1/payment_intents", s.idempotent(s.apiCreateIntent))
	api.HandleFunc("GET /v1/payment_intents/{id}", s.api(s.apiGetIntent))
	api.HandleFunc("POST /v1/payment_intents/{id}/confirm", s.idempotent(s.apiConfirmIntent))
	api.HandleFunc("POST /v1/payment_intents/{id}/cancel", s.idempotent(s.apiCancelIntent))
	api.HandleFunc("GET /v1/events", s.api(s.apiListEvents))
	api.HandleFunc("GET /v1/events/{id}", s.api(s.apiGetEvent))
	api.HandleFunc("/", s.api(s.apiUnknown))

	mux := http.NewServeMux()
	mux.Handle("/v1/", s.authenticate(api))
	mux.HandleFunc("GET /c/pay/{id}", s.handlePayPage)
	mux.HandleFunc("POST /c/pay/{id}", s.handlePay)
	// The Stripe.js stand-in and its frames (elements.go).
	mux.HandleFunc("GET /v3/{$}", s.handleStripeJS)
	mux.HandleFunc("GET /v3/elements/payment", s.handleElementFrame)
	mux.HandleFunc("POST /v3/elements/confirm", s.handleElementConfirm)
	mux.HandleFunc("GET /v3/payment_intents/{id}", s.handleRetrieveIntent)
	mux.HandleFunc("GET /v3/authenticate/{id}", s.handleAuthPage)
	mux.HandleFunc("POST /v3/authenticate/{id}", s.handleAuthenticate)
	mux.HandleFunc("GET /{$}", s.handleDevPage)
	mux.HandleFunc("POST /dev/refund/{id}", s.handleDevRefund)
	mux.HandleFunc("POST /dev/expire/{id}", s.handleDevExpire)
	mux.HandleFunc("POST /dev/settle/{id}", s.handleDevSettle)
	mux.HandleFunc("POST /dev/faults", s.handleDevFaults)
	s.portalRoutes(mux) // portal.go
	mux.Handle("GET /static/", staticHandler())
	// Browsers ask for a favicon on every page; answer it rather than log a 404 each time.
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := s.db.PingContext(r.Context()); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	// The hosted and dev pages take plain form POSTs, so refuse cross-site ones.
	_, port, _ := net.SplitHostPort(s.ln.Addr().String())
	return onlyLoopbackHosts(port, http.NewCrossOriginProtection().Handler(mux))
}
