package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

// bareServerFlag, as the first argument, makes the bench binary the comparison server.
const bareServerFlag = "-bare-server"

// capturedPage is one response of the shop, saved so that the bare server can replay it.
type capturedPage struct {
	Header http.Header
	Body   []byte
}

// Captured pages the bare server replays: the anonymous catalogue, and the catalogue of a
// logged-in shopper with a cart (requests that carry a cookie).
const (
	pageAnonymous = "anonymous"
	pageCart      = "cart"
)

func (p capturedPage) save(dir, name string) error {
	h, err := json.Marshal(p.Header)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, name+".headers.json"), h, 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name+".body"), p.Body, 0o600)
}

func loadPage(dir, name string) (capturedPage, error) {
	var p capturedPage
	h, err := os.ReadFile(filepath.Join(dir, name+".headers.json"))
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(h, &p.Header); err != nil {
		return p, err
	}
	p.Body, err = os.ReadFile(filepath.Join(dir, name+".body"))
	return p, err
}

// startBare saves the pages in dir and starts the bench binary as a bare server replaying them:
// anonymous to requests without a cookie, cart to the others.
func startBare(ctx context.Context, dir string, anonymous, cart capturedPage) (*child, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	if err := anonymous.save(dir, pageAnonymous); err != nil {
		return nil, err
	}
	if err := cart.save(dir, pageCart); err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	c, _, err := startChild(ctx, self, []string{bareServerFlag, "-addr", addr, "-page", dir}, cleanEnv(), addr, "/healthz")
	return c, err
}

// serveBare serves captured pages on GET / with the same headers, from a plain net/http server
// with the shop's timeouts: the fastest the shop could possibly answer those pages. A request
// with a cookie gets the logged-in shopper's page, any other the anonymous one.
func serveBare(args []string) error {
	fs := flag.NewFlagSet("bare-server", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	dir := fs.String("page", "", "folder holding the captured pages")
	if err := fs.Parse(args); err != nil {
		return err
	}
	anonymous, err := loadPage(*dir, pageAnonymous)
	if err != nil {
		return fmt.Errorf("load page: %w", err)
	}
	cart, err := loadPage(*dir, pageCart)
	if err != nil {
		return fmt.Errorf("load page: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		page := anonymous
		if r.Header.Get("Cookie") != "" {
			page = cart
		}
		h := w.Header()
		for k, v := range page.Header {
			h[k] = v
		}
		w.WriteHeader(http.StatusOK)
		w.Write(page.Body)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
