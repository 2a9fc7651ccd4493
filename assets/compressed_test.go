package assets

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"path"
	"testing"

	"github.com/andybalholm/brotli"
)

// TestCompressedCopiesAreCurrent checks that every text asset has gzip and brotli copies that
// decompress to it, and that no copy is left of a file that is gone: run `make generate`
// after changing an asset.
func TestCompressedCopiesAreCurrent(t *testing.T) {
	want := map[string]bool{}
	fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch path.Ext(name) {
		case ".css", ".js", ".svg":
		default:
			return nil
		}
		body, _ := files.ReadFile(name)
		gz, br := Compressed(name)
		base := "compressed/" + name + "." + Version(name)
		want[base+".gz"], want[base+".br"] = true, true
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			t.Errorf("%s: gzip copy: %v (run make generate)", name, err)
			return nil
		}
		if got, err := io.ReadAll(zr); err != nil || !bytes.Equal(got, body) {
			t.Errorf("%s: the gzip copy is stale (run make generate)", name)
		}
		if got, err := io.ReadAll(brotli.NewReader(bytes.NewReader(br))); err != nil || len(br) == 0 || !bytes.Equal(got, body) {
			t.Errorf("%s: the brotli copy is missing or stale (run make generate)", name)
		}
		if len(br) >= len(body) || len(gz) >= len(body) {
			t.Errorf("%s: a compressed copy is no smaller (%d br, %d gzip, %d plain)", name, len(br), len(gz), len(body))
		}
		return nil
	})
	fs.WalkDir(compressed, ".", func(name string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !want[name] {
			t.Errorf("%s: a copy of no asset (run make generate)", name)
		}
		return err
	})
}
