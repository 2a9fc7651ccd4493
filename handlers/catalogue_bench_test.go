package handlers

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/gorilla/sessions"

	"storefront/store"
)

// benchCatalogueHandler is the shop's whole handler (middleware included) on a fresh database,
// logging at warn level as `make bench` runs it, so that no request line is written.
func benchCatalogueHandler(b testing.TB) http.Handler {
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

// BenchmarkCatalogueLoggedIn serves GET / to a shopper who is logged in with two products in
// the cart: the session cookie, the user and cart reads, and a page of their own.
func BenchmarkCatalogueLoggedIn(b *testing.B) {
	h := benchCatalogueHandler(b)
	post := func(path string, form url.Values, cookies []*http.Cookie) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	rec := post("/signup", url.Values{"email": {"bench@example.com"}, "password": {"correct horse battery"}}, nil)
	cookies := rec.Result().Cookies()
	if rec.Code != http.StatusSeeOther || len(cookies) == 0 {
		b.Fatalf("sign-up: status %d, %d cookies", rec.Code, len(cookies))
	}
	for _, id := range []string{"1", "2"} {
		if rec := post("/cart/items", url.Values{"product_id": {id}, "quantity": {"1"}}, cookies); rec.Code >= 400 {
			b.Fatalf("add to cart: status %d: %s", rec.Code, rec.Body)
		}
	}
	// A browser shows the sign-up confirmation once and keeps the cookie that clears it.
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if c := rec.Result().Cookies(); len(c) > 0 {
		cookies = c
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			for _, c := range cookies {
				req.AddCookie(c)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "bench@example.com") {
				b.Errorf("status %d, or the page is not the shopper's", rec.Code)
				return
			}
		}
	})
}

// BenchmarkCompressPage compresses the anonymous home page at the levels the shop uses and at
// the formats' best, to weigh size against CPU (see cataloguepage.go).
func BenchmarkCompressPage(b *testing.B) {
	h := benchCatalogueHandler(b)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	page := rec.Body.Bytes()
	for _, c := range []struct {
		name     string
		compress func([]byte) []byte
	}{
		{"gzip/shop", compressGzip},
		{"gzip/best", func(p []byte) []byte {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			zw.Write(p)
			zw.Close()
			return buf.Bytes()
		}},
		{"brotli/shop", compressBrotli},
		{"brotli/best", func(p []byte) []byte {
			var buf bytes.Buffer
			bw := brotli.NewWriterOptions(&buf, brotli.WriterOptions{Quality: brotli.BestCompression, LGWin: 18})
			bw.Write(p)
			bw.Close()
			return buf.Bytes()
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var n int
			for b.Loop() {
				n = len(c.compress(page))
			}
			b.ReportMetric(float64(n), "bytes")
		})
	}
}
