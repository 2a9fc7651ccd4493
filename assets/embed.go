// Package assets holds the shop's static files (vendored htmx, stylesheet, images), embedded
// in the binary and served with long-lived caching under versioned URLs.
package assets

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"sync"
)

//go:generate go run compress.go

//go:embed *.css *.js *.svg images
var files embed.FS

// compressed holds a gzip and a brotli copy of each text asset, made by compress.go.
//
//go:embed compressed
var compressed embed.FS

// FS is every embedded asset.
var FS fs.FS = files

// versions are the assets' content hashes, computed on first use rather than at start-up.
var versions = sync.OnceValue(func() map[string]string {
	v := map[string]string{}
	fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := files.ReadFile(path)
		sum := sha256.Sum256(b)
		v[path] = hex.EncodeToString(sum[:6])
		return nil
	})
	return v
})

// Path is the URL of an asset, versioned by its content so that browsers may cache it forever.
func Path(name string) string {
	return "/assets/" + name + "?v=" + versions()[name]
}

// Version is the content version of an asset ("" when there is no such asset).
func Version(name string) string { return versions()[name] }

// Compressed returns the asset's gzip and brotli copies: nil when it has none made from its
// current content (the copies' names carry the content version they were made from).
func Compressed(name string) (gz, br []byte) {
	base := "compressed/" + name + "." + Version(name)
	gz, _ = compressed.ReadFile(base + ".gz")
	br, _ = compressed.ReadFile(base + ".br")
	return gz, br
}
