package handlers

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gorilla/sessions"

	"storefront/store"
)

// benchCatalogueHandler is the shop's whole handler (middleware included) on a fresh database,
// logging at warn level as `make bench` runs it, so that no request line is written.
func benchCatalogueHandler(b *testing.B) http.Handler {
	b.Helper()
	db, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	cookies := sessions.NewCookieStore([]byte("0123456789abcdef0123456789abcdef"), []byte("abcdef0123456789abcdef0123456789"))
	base, _ := url.Parse("http://localhost:8000")
	h := NewServer(Deps{
		Store:          db,
		Payments:       &fakeCheckout{},
		Sessions:       cookies,
		Logger:         slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn})),
		BaseURL:        base,
		WebhookSecrets: []string{testSecret},
	})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Canvas Tote Bag") {
		b.Fatalf("GET /: status %d, body:\n%s", rec.Code, rec.Body)
	}
	return h
}

// BenchmarkCatalogue serves GET / to an anonymous visitor through NewServer: one query for the
// products, the templ render and the middleware, without the network.
func BenchmarkCatalogue(b *testing.B) {
	h := benchCatalogueHandler(b)
	b.Run("Serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d", rec.Code)
			}
		}
	})
	b.Run("Parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
				if rec.Code != http.StatusOK {
					b.Errorf("status %d", rec.Code)
					return
				}
			}
		})
	})
}
