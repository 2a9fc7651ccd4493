//go:build ignore

// Compress writes a gzip and a brotli copy of every text asset into compressed/, at the best
// level each format has: `go generate ./assets` (make generate). They are committed and
// embedded, so the shop spends no CPU compressing its static files, at start-up or after;
// TestCompressedCopiesAreCurrent fails when a copy is missing or stale.
package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"log"
	"os"
	"path/filepath"

	"github.com/andybalholm/brotli"
)

func main() {
	os.RemoveAll("compressed")
	err := filepath.WalkDir(".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			if d != nil && d.Name() == "compressed" {
				return fs.SkipDir
			}
			return err
		}
		switch filepath.Ext(name) {
		case ".css", ".js", ".svg":
		default:
			return nil
		}
		body, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		var gz, br bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		zw.Write(body)
		zw.Close()
		// A 256 KiB window: every asset is smaller, so the output is as small as with more.
		bw := brotli.NewWriterOptions(&br, brotli.WriterOptions{Quality: brotli.BestCompression, LGWin: 18})
		bw.Write(body)
		bw.Close()
		// The copies are named for the content they were made from (see Compressed), so that a
		// stale copy is never served for a changed file.
		sum := sha256.Sum256(body)
		out := filepath.Join("compressed", name+"."+hex.EncodeToString(sum[:6]))
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(out+".gz", gz.Bytes(), 0o644); err != nil {
			return err
		}
		return os.WriteFile(out+".br", br.Bytes(), 0o644)
	})
	if err != nil {
		log.Fatal(err)
	}
}
