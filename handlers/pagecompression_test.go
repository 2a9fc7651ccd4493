package handlers

import (
	"compress/gzip"
	"io"
	"strings"
	"testing"
)

// TestPagesAreCompressed: a page rendered for one shopper comes gzip compressed when the
// browser takes it, and decodes to the same page; without Accept-Encoding it comes plain.
func TestPagesAreCompressed(t *testing.T) {
	shop := newTestShop(t)
	c := shop.client()
	c.signup("zip@example.com")
	c.addToCart("canvas-tote", 1)

	plain := c.get("/cart")
	if plain.Header.Get("Content-Encoding") != "" || !strings.Contains(plain.body, "Canvas Tote Bag") {
		t.Fatalf("without Accept-Encoding: encoding %q", plain.Header.Get("Content-Encoding"))
	}
	zipped := c.get("/cart", "Accept-Encoding", "gzip, deflate, br")
	if got := zipped.Header.Get("Content-Encoding"); got != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", got)
	}
	if !strings.Contains(strings.Join(zipped.Header.Values("Vary"), ","), "Accept-Encoding") {
		t.Errorf("Vary %q lacks Accept-Encoding", zipped.Header.Values("Vary"))
	}
	zr, err := gzip.NewReader(strings.NewReader(zipped.body))
	if err != nil {
		t.Fatal(err)
	}
	page, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), "Canvas Tote Bag") || len(zipped.body) >= len(page)/2 {
		t.Errorf("the gzip page (%d bytes) decodes to %d bytes without the cart's line", len(zipped.body), len(page))
	}
}
