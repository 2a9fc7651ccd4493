package handlers

import (
	"io/fs"
	"net/http"
	"strings"

	"storefront/assets"
)

func (s *server) handleHealth() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := s.Store.Ping(r.Context()); err != nil {
			s.Logger.Error("health check failed", "error", err)
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	}
}

// handleAssets serves the embedded static files; a URL carrying the file's current version
// may be cached for a year.
func (s *server) handleAssets() http.Handler {
	files := http.StripPrefix("/assets/", http.FileServerFS(assets.FS))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/assets/")
		if _, err := fs.Stat(assets.FS, name); err != nil || strings.HasSuffix(name, "/") || name == "" {
			s.notFound(w, r)
			return
		}
		if v := r.URL.Query().Get("v"); v != "" && v == assets.Version(name) {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "public, max-age=300")
		}
		files.ServeHTTP(w, r)
	})
}
