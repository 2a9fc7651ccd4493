package handlers

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strconv"
	"sync"

	"github.com/andybalholm/brotli"
)

// cataloguePages keeps the whole home page as an anonymous visitor with no cart sees it, for
// one catalogue version and money locale: that page is the same for all of them, and most
// visitors are them. It is rendered once per version and locale (a small fixed set, see
// components.Locales), and compressed once per coding, the first time a browser asks for it.
type cataloguePages struct {
	mu    sync.Mutex
	pages map[string]*cachedPage // by locale tag
}

// cachedPage is the anonymous home page of one catalogue version, as sent.
type cachedPage struct {
	version int64
	plain   []byte
	gzip    compressedOnce
	brotli  compressedOnce
}

type compressedOnce struct {
	once sync.Once
	body []byte // nil when compressing did not make it smaller
}

// cacheable reports whether r gets the shared page: the plain `/` (no query: searches and
// sorting are rendered per request) for an anonymous visitor with no cart and no message to see.
func cacheable(r *http.Request, v *visitor) bool {
	return r.URL.RawQuery == "" && v.user == nil && v.cartToken == "" && v.flash == ""
}

// get returns the page kept for version in locale, or nil.
func (c *cataloguePages) get(version int64, locale string) *cachedPage {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.pages[locale]; p != nil && p.version == version {
		return p
	}
	return nil
}

// put keeps html as the page of version in locale and returns it.
func (c *cataloguePages) put(version int64, locale string, html []byte) *cachedPage {
	p := &cachedPage{version: version, plain: bytes.Clone(html)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pages == nil {
		c.pages = make(map[string]*cachedPage)
	}
	if old := c.pages[locale]; old == nil || old.version <= version {
		c.pages[locale] = p
	}
	return p
}

// serve writes the page, brotli or gzip compressed when the browser takes it.
func (p *cachedPage) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Vary", "Accept-Encoding")
	h.Add("Vary", "Accept-Language") // prices follow the shopper's language
	body := p.plain
	accepts := r.Header.Get("Accept-Encoding")
	switch {
	case accepts == "":
	case acceptsEncoding(accepts, "br"):
		if b := p.brotli.get(p.plain, compressBrotli); b != nil {
			h.Set("Content-Encoding", "br")
			body = b
		}
	case acceptsEncoding(accepts, "gzip"):
		if b := p.gzip.get(p.plain, compressGzip); b != nil {
			h.Set("Content-Encoding", "gzip")
			body = b
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// get compresses plain the first time, and returns the result every time.
func (c *compressedOnce) get(plain []byte, compress func([]byte) []byte) []byte {
	c.once.Do(func() {
		if b := compress(plain); len(b) < len(plain) {
			c.body = b
		}
	})
	return c.body
}

// A page is compressed again whenever the catalogue's version moves, which every checkout of a
// product with limited stock does; so the levels are picked for cost as much as size. Measured
// on the 10.1 KiB home page (BenchmarkCompressPage): brotli quality 5 makes 2,305 bytes for a
// fifteenth to a fortieth of the CPU of quality 11 (2,020 bytes, tens of milliseconds); gzip's
// default level makes the size of its best (2,591 and 2,588 bytes). Static assets are compressed
// at their best at build time (assets/compress.go).
const (
	pageGzipLevel     = gzip.DefaultCompression
	pageBrotliQuality = 5
)

func compressGzip(plain []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, pageGzipLevel)
	zw.Write(plain)
	zw.Close()
	return buf.Bytes()
}

func compressBrotli(plain []byte) []byte {
	var buf bytes.Buffer
	// A 256 KiB window instead of the default 4 MiB: a page is smaller, so the output is the
	// same, and the encoder's memory is not.
	bw := brotli.NewWriterOptions(&buf, brotli.WriterOptions{Quality: pageBrotliQuality, LGWin: 18})
	bw.Write(plain)
	bw.Close()
	return buf.Bytes()
}
