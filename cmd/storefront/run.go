package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gorilla/sessions"

	"storefront/handlers"
	"storefront/mail"
	"storefront/payments"
	"storefront/payments/simulator"
	"storefront/store"
)

// run starts the shop and serves until ctx ends. Tests call it too, on port 0.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	logOut := newLogWriter(stdout)
	defer logOut.Close()
	logger := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: cfg.logLevel}))

	if cfg.databaseURL == "" || cfg.simulated() { // the simulator keeps its state beside DB_PATH
		if err := checkWritable(cfg.dbPath); err != nil {
			return err
		}
	}
	keyPairs, err := sessionKeyPairs(cfg)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.database())
	if err != nil {
		return fmt.Errorf("database %s: %w", cfg.databaseName(), err)
	}
	defer db.Close()

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen on ADDR %s: %w", cfg.addr, err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	baseURL := cfg.baseURL
	if baseURL == nil {
		baseURL = &url.URL{Scheme: "http", Host: "localhost:" + strconv.Itoa(port)}
	}
	webhookURL := "http://" + net.JoinHostPort(loopbackHost(cfg.addr), strconv.Itoa(port)) + "/webhook/"

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	gatewayCfg := payments.Config{SecretKey: cfg.stripeSecret, PublishableKey: cfg.stripePublic, APIBase: cfg.apiBase, MaxRetries: 2}
	webhookSecrets := cfg.webhookSecret
	sender, mailbox := mailSender(cfg, logger)
	var simDone chan error // nil without the simulator: receiving from it waits for ever
	stripeJS := "https://js.stripe.com/v3/"
	if cfg.simulated() {
		if len(webhookSecrets) == 0 {
			webhookSecrets = []string{randomSecret("whsec_")}
		}
		sim, err := startSimulator(ctx, cfg, webhookURL, webhookSecrets[0], logger, mailbox)
		if err != nil {
			return err
		}
		simDone = sim.done
		gatewayCfg = sim.gateway
		stripeJS = gatewayCfg.APIBase + "/v3/" // the simulator's stand-in for Stripe.js
	} else {
		mode := "stripe"
		if cfg.apiBase != "" {
			mode = "stripe api at " + cfg.apiBase
		}
		logger.Info("payments through Stripe", "mode", mode, "webhook_secrets", len(webhookSecrets))
		if cfg.stripePublic == "" {
			logger.Warn("STRIPE_PUBLISHABLE_KEY is not set: /config/ answers an empty publicKey")
		}
	}

	cookies := sessions.NewCookieStore(keyPairs...)
	cookies.Options = &sessions.Options{Path: "/", MaxAge: 30 * 24 * 3600, HttpOnly: true,
		Secure: baseURL.Scheme == "https", SameSite: http.SameSiteLaxMode}

	links := handlers.NewGuestLinks(baseURL, authKeys(keyPairs)...)
	worker := startMailWorker(ctx, db, sender, mail.Renderer{From: cfg.mailFrom, BaseURL: baseURL,
		GuestOrderURL: func(id int64) string { return links.OrderURL(id, mail.GuestLinkLifetime) }}, logger)
	defer worker.stop() // before the database closes

	done := make(chan struct{})
	gateway := payments.NewGateway(gatewayCfg)
	handler := handlers.NewServer(handlers.Deps{
		Store:          db,
		Payments:       gateway,
		Reconcile:      gateway,
		ReconcileEvery: cfg.reconcileEvery,
		Intents:        gateway,
		PaymentUI:      cfg.paymentUI,
		StripeJS:       stripeJS,
		Sessions:       cookies,
		Logger:         logger,
		BaseURL:        baseURL,
		WebhookSecrets: webhookSecrets,
		Simulated:      cfg.simulated(),
		AdminEmail:     adminEmail(getenv, cfg.simulated(), logger),
		Done:           done,
		MaxStreams:     cfg.maxStreams,
		TrustedProxies: cfg.trustedProxies,
		GuestLinks:     links,
		MailQueued:     worker.kick,
	})
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	logger.Info("storefront started", "url", baseURL.String(), "addr", ln.Addr().String(), "db", cfg.databaseName())

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case err := <-simDone:
		simDone = nil // it has stopped; nothing more to wait for
		if ctx.Err() == nil {
			return fmt.Errorf("checkout simulator stopped: %v", err)
		}
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	close(done) // ends open event streams, which Shutdown would otherwise wait for
	// In-flight requests get cfg.shutdownGrace to finish.
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.shutdownGrace)
	defer scancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		// Whatever is still open after the grace period (a client sending its body a byte at
		// a time, say) is cut off: stopping was asked for, and nothing acknowledged is at stake.
		logger.Warn("closing connections still open after the grace period", "grace", cfg.shutdownGrace, "error", err)
		srv.Close()
	}
	cancel()
	if simDone != nil {
		<-simDone
	}
	logger.Info("stopped")
	return nil
}

// checkWritable makes sure the database file can be created or written, to fail with a clear line.
func checkWritable(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("DB_PATH %s: cannot create its folder: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("DB_PATH %s is not writable: %w", path, err)
	}
	return f.Close()
}

// loopbackHost is the host the simulator uses to reach this server: the listen host, or
// 127.0.0.1 when listening on every interface.
func loopbackHost(addr string) string {
	host, _, _ := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return "127.0.0.1"
	}
	return host
}

// runningSimulator is the checkout simulator serving in the background.
type runningSimulator struct {
	gateway payments.Config // how the shop reaches it
	done    chan error      // receives Run's result when it stops
}

// startSimulator starts the checkout simulator on its loopback port, delivering webhooks to
// webhookURL signed with secret, until ctx ends.
func startSimulator(ctx context.Context, cfg config, webhookURL, secret string, logger *slog.Logger, mailbox *mail.Mailbox) (runningSimulator, error) {
	sim, err := simulator.New(simulator.Config{
		Addr:          cfg.simulatorAddr,
		DBPath:        filepath.Join(filepath.Dir(cfg.dbPath), "simulator.db"),
		WebhookURL:    webhookURL,
		WebhookSecret: secret,
		SecretKey:     "sk_test_simulator",
		WebhookDelay:  cfg.simulatorDelay,
		AsyncDelay:    cfg.simulatorAsync,
		Logger:        logger.With("component", "simulator"),
	})
	if err != nil {
		return runningSimulator{}, fmt.Errorf("checkout simulator: %w", err)
	}
	if mailbox != nil {
		h := mailbox.Handler()
		sim.Handle("/mail", h)
		sim.Handle("/mail/", h)
		logger.Info("mail goes to the simulator's mailbox (set SMTP_URL to send it)", "mailbox", sim.URL()+"/mail")
	}
	done := make(chan error, 1)
	go func() { done <- sim.Run(ctx) }()
	logger.Info("payments are simulated: no Stripe account needed", "simulator", sim.URL(), "webhooks_to", webhookURL)
	return runningSimulator{
		gateway: payments.Config{SecretKey: "sk_test_simulator", PublishableKey: "pk_test_simulator",
			APIBase: sim.URL(), CheckoutOrigin: sim.URL(), MaxRetries: 2},
		done: done,
	}, nil
}
