package handlers

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"

	"github.com/a-h/templ"

	"storefront/components"
	"storefront/store"
)

var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// render writes a component with the given status. It renders into a buffer first, so that a
// failed render never sends half a page.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	buf := buffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer buffers.Put(buf)
	if err := c.Render(r.Context(), buf); err != nil {
		s.serverError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Add("Vary", "Accept-Language") // prices follow the shopper's language
	body := buf.Bytes()
	if len(body) >= compressFrom {
		h.Add("Vary", "Accept-Encoding")
		if acceptsEncoding(r.Header.Get("Accept-Encoding"), "gzip") {
			zbuf := buffers.Get().(*bytes.Buffer)
			zbuf.Reset()
			defer buffers.Put(zbuf)
			zw := gzipWriters.Get().(*gzip.Writer)
			zw.Reset(zbuf)
			zw.Write(body)
			zw.Close()
			gzipWriters.Put(zw)
			h.Set("Content-Encoding", "gzip")
			body = zbuf.Bytes()
		}
	}
	w.WriteHeader(status)
	w.Write(body)
}

// Pages rendered per request are sent gzip compressed when the browser takes it, at a level
// that costs a fraction of a millisecond for a page (the shared home page is compressed once,
// in brotli too; static files at build time). A fragment under compressFrom is not worth it.
const (
	compressFrom  = 1024
	pageGzipFresh = 5
)

var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, pageGzipFresh)
	return zw
}}

// writeJSON writes v as a JSON response.
func (s *server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// page builds the layout's view of the current visitor.
func (s *server) page(ctx context.Context, v *visitor, title string) components.Page {
	p := components.Page{Title: title, Simulated: s.Simulated, Flash: v.flash}
	if v.user != nil {
		p.UserEmail = v.user.Email
		p.Admin = v.user.Admin || (s.Simulated && s.AdminEmail != "" && v.user.Email == s.AdminEmail)
		p.Member = s.isMember(ctx, v.user.ID)
	}
	if n, err := s.Store.CartCount(ctx, v.cartRef()); err == nil {
		p.CartCount = n
	} else {
		s.Logger.Error("count cart for nav", "error", err)
	}
	return p
}

// errorPage answers with a full error page, or just the message for htmx requests.
func (s *server) errorPage(w http.ResponseWriter, r *http.Request, status int, title, message string) {
	if wantsJSON(r) {
		s.writeJSON(w, r, status, map[string]string{"error": message})
		return
	}
	if isHTMX(r) {
		s.render(w, r, status, components.CheckoutError(message))
		return
	}
	v := s.visitorOf(r)
	s.render(w, r, status, components.ErrorPage(s.page(r.Context(), v, title), status, message))
}

// serverError logs err and tells the user, in plain words, that something went wrong on our side.
func (s *server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil && errors.Is(err, r.Context().Err()) {
		// The client hung up mid-request: nobody is waiting for an answer, and nothing failed here.
		s.Logger.Debug("client went away", "error", err, "method", r.Method, "path", r.URL.Path)
		return
	}
	s.Logger.Error("request failed", "error", err, "method", r.Method, "path", r.URL.Path)
	msg := "Something went wrong on our side. Nothing was charged; please try again in a moment."
	if wantsJSON(r) {
		s.writeJSON(w, r, http.StatusInternalServerError, map[string]string{"error": msg})
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	w.Write([]byte(msg + "\n"))
}

// storeError maps an error from the store to the right answer.
func (s *server) storeError(w http.ResponseWriter, r *http.Request, err error) {
	var inv *store.InvalidError
	switch {
	case errors.As(err, &inv):
		s.errorPage(w, r, http.StatusBadRequest, "That did not work", inv.Message)
	case errors.Is(err, store.ErrNotFound):
		s.notFound(w, r)
	default:
		s.serverError(w, r, err)
	}
}

func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotFound, "Page not found", "We could not find what you were looking for. It may have moved, or the link may be mistyped.")
}

func (s *server) handleNotFound() http.HandlerFunc { return s.notFound }

func isHTMX(r *http.Request) bool { return r.Header.Get("HX-Request") == "true" }

func wantsJSON(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	return accept == "application/json" || (len(accept) > 16 && accept[:16] == "application/json")
}

// redirect sends the browser elsewhere after a successful form: HX-Redirect for htmx, 303 otherwise.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	if isHTMX(r) {
		w.Header().Set("HX-Redirect", to)
		w.WriteHeader(http.StatusOK)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}
