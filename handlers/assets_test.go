package handlers

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"testing"

	"github.com/andybalholm/brotli"

	"storefront/assets"
)

// decoders read a body sent with each Content-Encoding ("" for none).
var decoders = map[string]func(io.Reader) io.Reader{
	"br":   func(r io.Reader) io.Reader { return brotli.NewReader(r) },
	"gzip": func(r io.Reader) io.Reader { z, _ := gzip.NewReader(r); return z },
	"":     func(r io.Reader) io.Reader { return r },
}

// TestAssetsAreCompressed: text assets come brotli or gzip compressed as the browser asks, decode
// to the file itself, and plain when it asks for neither (or refuses both with q=0).
func TestAssetsAreCompressed(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t)
	c := shop.client()
	want, err := io.ReadAll(must(assets.FS.Open("htmx.min.js")))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ accept, want string }{
		{"gzip, deflate, br, zstd", "br"},
		{"gzip", "gzip"},
		{"br;q=0, gzip", "gzip"},
		{"identity", ""},
		{"", ""},
	} {
		res := c.get(assets.Path("htmx.min.js"), "Accept-Encoding", tc.accept)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("Accept-Encoding %q: status %d", tc.accept, res.StatusCode)
		}
		if got := res.Header.Get("Content-Encoding"); got != tc.want {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q", tc.accept, got, tc.want)
			continue
		}
		if res.Header.Get("Vary") != "Accept-Encoding" || res.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
			t.Errorf("Accept-Encoding %q: Vary %q, Content-Type %q", tc.accept, res.Header.Get("Vary"), res.Header.Get("Content-Type"))
		}
		got, err := io.ReadAll(decoders[tc.want](bytes.NewReader([]byte(res.body))))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("Accept-Encoding %q: body does not decode to the file (%v)", tc.accept, err)
		}
		if tc.want != "" && len(res.body) > len(want)/2 {
			t.Errorf("%s body is %d bytes for a %d-byte file", tc.want, len(res.body), len(want))
		}
	}
	res := c.get(assets.Path("htmx.min.js"), "If-None-Match", `"`+assets.Version("htmx.min.js")+`"`)
	if res.StatusCode != http.StatusNotModified {
		t.Errorf("a revalidation with the current ETag: status %d, want 304", res.StatusCode)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
