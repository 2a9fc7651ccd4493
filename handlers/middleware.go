package handlers

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"
)

// statusRecorder remembers the status and size of a response for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and deadlines (needed by event streams).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Hijack hands the connection to an event stream, which answers 200 on it itself.
func (r *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(r.ResponseWriter).Hijack()
	if err == nil && r.status == 0 {
		r.status = http.StatusOK
	}
	return conn, rw, err
}

// logRequests writes one structured line per request.
func (s *server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.Logger.Enabled(r.Context(), slog.LevelInfo) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		s.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Int("bytes", rec.bytes),
			slog.Duration("duration", time.Since(start)))
	})
}

// securityHeaders sets a strict Content-Security-Policy and friends on every response.
// htmx 4 needs no unsafe-inline or unsafe-eval as long as no hx-on or js: expressions are used.
func (s *server) securityHeaders(next http.Handler) http.Handler {
	csp := "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; " +
		"form-action 'self' " + s.Payments.CheckoutOrigin()
	// The values are built once and assigned directly: this runs on every response.
	headers := map[string][]string{
		"Content-Security-Policy":    {csp},
		"X-Content-Type-Options":     {"nosniff"},
		"Referrer-Policy":            {"strict-origin-when-cross-origin"},
		"X-Frame-Options":            {"DENY"},
		"Cross-Origin-Opener-Policy": {"same-origin"},
	}
	if s.BaseURL.Scheme == "https" {
		headers["Strict-Transport-Security"] = []string{"max-age=63072000"}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, v := range headers {
			h[k] = v
		}
		next.ServeHTTP(w, r)
	})
}

// crossOriginDenied answers a state-changing request that a browser sent from another site.
func (s *server) crossOriginDenied(w http.ResponseWriter, r *http.Request) {
	s.Logger.Warn("cross-origin request refused", "method", r.Method, "path", r.URL.Path,
		"origin", r.Header.Get("Origin"), "sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
	s.errorPage(w, r, http.StatusForbidden, "Request refused",
		"This form was sent from another website, so it was not accepted. Please go back and try again from this shop.")
}

// Request body limits: every form is small; an admin's product image is the one upload.
const (
	maxFormBody   = 64 << 10
	maxUploadBody = 2<<20 + 64<<10 // a 2 MB image and the product's other fields
)

// limitBodies caps the body of every request that may carry one and parses forms up front, so
// that an oversized or malformed body gets a clear 413 or 400 and nothing is spooled to disk.
// The webhook reads (and caps) its own body.
func (s *server) limitBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead || r.URL.Path == "/webhook/" {
			next.ServeHTTP(w, r)
			return
		}
		limit := int64(maxFormBody)
		if strings.HasPrefix(r.URL.Path, "/admin/products") {
			limit = maxUploadBody
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		var err error
		if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "multipart/form-data" {
			err = r.ParseMultipartForm(limit) // held in memory: the body is at most limit
		} else {
			err = r.ParseForm()
		}
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			s.errorPage(w, r, http.StatusRequestEntityTooLarge, "Request too large",
				fmt.Sprintf("This form sent more than %d KiB, more than any form of this shop needs.", limit>>10))
		case err != nil:
			s.errorPage(w, r, http.StatusBadRequest, "Bad request", "This form could not be read. Please go back and try again.")
		default:
			next.ServeHTTP(w, r)
		}
	})
}
