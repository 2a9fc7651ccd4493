package handlers

import (
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"

	"storefront/assets"
)

// asset is one embedded file with its compressed copies.
type asset struct {
	body, gzip, brotli []byte
	contentType        string
}

// compressible lists the types worth compressing; images other than SVG already are.
var compressible = map[string]bool{".css": true, ".js": true, ".svg": true}

// loadAssets reads every embedded file with its gzip and brotli copies, which are made at
// build time (assets/compress.go), so the shop never compresses a static file itself.
var loadAssets = sync.OnceValue(func() map[string]*asset {
	table := map[string]*asset{}
	fs.WalkDir(assets.FS, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(assets.FS, name)
		if err != nil {
			return err
		}
		a := &asset{body: body, contentType: mime.TypeByExtension(path.Ext(name))}
		if a.contentType == "" {
			a.contentType = http.DetectContentType(body)
		}
		if compressible[path.Ext(name)] {
			a.gzip, a.brotli = assets.Compressed(name)
		}
		table[name] = a
		return nil
	})
	return table
})

// handleAssets serves the embedded static files, brotli or gzip compressed when the browser
// takes it. A URL carrying the file's content version may be cached for a year.
func (s *server) handleAssets() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/assets/")
		a := loadAssets()[name]
		if a == nil {
			s.notFound(w, r)
			return
		}
		h := w.Header()
		if v := r.URL.Query().Get("v"); v != "" && v == assets.Version(name) {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "public, max-age=300")
		}
		h.Set("Content-Type", a.contentType)
		h.Set("ETag", `"`+assets.Version(name)+`"`)
		body := a.body
		if a.gzip != nil {
			h.Set("Vary", "Accept-Encoding")
			switch accepts := r.Header.Get("Accept-Encoding"); {
			case a.brotli != nil && acceptsEncoding(accepts, "br"):
				h.Set("Content-Encoding", "br")
				body = a.brotli
			case acceptsEncoding(accepts, "gzip"):
				h.Set("Content-Encoding", "gzip")
				body = a.gzip
			}
		}
		if match := r.Header.Get("If-None-Match"); match != "" && match == h.Get("ETag") {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		if r.Method != http.MethodHead {
			w.Write(body)
		} else {
			w.WriteHeader(http.StatusOK)
		}
	})
}

// acceptsEncoding reports whether an Accept-Encoding header allows coding (not refused with q=0).
func acceptsEncoding(header, coding string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), coding) {
			q := strings.ReplaceAll(params, " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}
