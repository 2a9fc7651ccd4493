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

func (p capturedPage) save(dir string) error {
	h, err := json.Marshal(p.Header)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "page.headers.json"), h, 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "page.body"), p.Body, 0o600)
}

func loadPage(dir string) (capturedPage, error) {
	var p capturedPage
	h, err := os.ReadFile(filepath.Join(dir, "page.headers.json"))
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(h, &p.Header); err != nil {
		return p, err
	}
	p.Body, err = os.ReadFile(filepath.Join(dir, "page.body"))
	return p, err
}

// serveBare serves a captured page on GET / with the same headers, from a plain net/http
// server with the shop's timeouts: the fastest the shop could possibly answer that page.
func serveBare(args []string) error {
	fs := flag.NewFlagSet("bare-server", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	dir := fs.String("page", "", "folder holding page.body and page.headers.json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	page, err := loadPage(*dir)
	if err != nil {
		return fmt.Errorf("load page: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
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
