package handlers

import (
	"context"
	"database/sql"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"storefront/components"
	"storefront/store/storetest"
)

// sqlExec runs a statement against the shop's database and fails the test if it fails.
func sqlExec(t *testing.T, db storetest.DB, query string, args ...any) sql.Result {
	t.Helper()
	res, err := db.Exec(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return res
}

// sqlInt runs a query that answers one integer, such as a count.
func sqlInt(t *testing.T, db storetest.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// insertProducts adds n active products to the catalogue and returns their ids.
func insertProducts(t *testing.T, db storetest.DB, n int) []int64 {
	t.Helper()
	ids := make([]int64, n)
	for i := range n {
		ids[i] = int64(sqlInt(t, db, `INSERT INTO products (slug, name, description, price, currency, image, created_at)
			VALUES (?, ?, 'A product made for tests.', ?, 'usd', 'canvas-tote.svg', '2025-01-01T00:00:00.000Z') RETURNING id`,
			fmt.Sprintf("extra-%03d", i), fmt.Sprintf("Extra Product %03d", i), 100+i))
	}
	return ids
}

// productID is the id of the seeded product with the given slug.
func productID(t *testing.T, shop *testShop, slug string) int64 {
	t.Helper()
	p, err := shop.db.ProductBySlug(context.Background(), slug)
	if err != nil {
		t.Fatalf("product %s: %v", slug, err)
	}
	return p.ID
}

// isHTMLPage reports whether a response is a whole page in the layout, navigation included.
func isHTMLPage(res response) bool {
	return strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") &&
		strings.Contains(res.body, "<html") && strings.Contains(res.body, `aria-label="Main"`) &&
		strings.Contains(res.body, `href="/cart"`)
}

func TestCatalogue(t *testing.T) {
	t.Parallel()

	t.Run("OK", func(t *testing.T) {
		shop := newTestShop(t)
		products, err := shop.db.Products(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(products), 8; got != want {
			t.Fatalf("seeded products: got %d, want %d", got, want)
		}
		res := shop.client().get("/")
		if got, want := res.StatusCode, http.StatusOK; got != want {
			t.Fatalf("status: got %d, want %d", got, want)
		}
		if got, want := strings.Count(res.body, `class="product-card"`), len(products); got != want {
			t.Errorf("product cards: got %d, want %d", got, want)
		}
		for _, p := range products {
			if !strings.Contains(res.body, ">"+html.EscapeString(p.Name)+"<") {
				t.Errorf("catalogue lacks the name %q", p.Name)
			}
			if price := components.Money(p.Price, p.Currency); !strings.Contains(res.body, ">"+price+"<") {
				t.Errorf("catalogue lacks the price %s of %s", price, p.Name)
			}
			if !strings.Contains(res.body, `href="/products/`+p.Slug+`"`) {
				t.Errorf("catalogue lacks a link to %s", p.Slug)
			}
		}
		// Spot checks against the seed itself, not the formatter under test.
		for _, want := range []string{"Canvas Tote Bag", "$24.00", "Pour-over Kettle", "$58.00", "Enamel Pin Set", "$9.00", "$12.50"} {
			if !strings.Contains(res.body, want) {
				t.Errorf("catalogue lacks %q", want)
			}
		}
	})

	t.Run("InactiveProductDisappears", func(t *testing.T) {
		shop := newTestShop(t)
		db := shop.sql(t)
		c := shop.client()
		if res := c.get("/"); !strings.Contains(res.body, "Canvas Tote Bag") {
			t.Fatalf("tote missing before it was retired:\n%s", res.body)
		}
		// Retired from outside the shop's process (as with the sqlite3 shell): the shop reads the
		// catalogue's version again within a moment (its own writes, at once).
		sqlExec(t, db, "UPDATE products SET active = 0 WHERE slug = 'canvas-tote'")
		var res response
		waitFor(t, "the retired product to leave the catalogue", func() bool {
			res = c.get("/")
			return !strings.Contains(res.body, "Canvas Tote Bag")
		})
		if got, want := res.StatusCode, http.StatusOK; got != want {
			t.Fatalf("status: got %d, want %d", got, want)
		}
		if strings.Contains(res.body, "Canvas Tote Bag") || strings.Contains(res.body, "/products/canvas-tote") {
			t.Errorf("retired product still listed")
		}
		if got, want := strings.Count(res.body, `class="product-card"`), 7; got != want {
			t.Errorf("product cards: got %d, want %d", got, want)
		}
		if got, want := c.get("/products/canvas-tote").StatusCode, http.StatusNotFound; got != want {
			t.Errorf("retired product page: got %d, want %d", got, want)
		}
	})

	t.Run("NewProductAppears", func(t *testing.T) {
		shop := newTestShop(t)
		insertProducts(t, shop.sql(t), 1)
		res := shop.client().get("/")
		if !strings.Contains(res.body, "Extra Product 000") || !strings.Contains(res.body, "$1.00") {
			t.Errorf("product added to the database is not listed:\n%s", res.body)
		}
	})
}

func TestProductPage(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t)
	c := shop.client()

	t.Run("OK", func(t *testing.T) {
		p, err := shop.db.ProductBySlug(context.Background(), "stoneware-mug")
		if err != nil {
			t.Fatal(err)
		}
		res := c.get("/products/stoneware-mug")
		if got, want := res.StatusCode, http.StatusOK; got != want {
			t.Fatalf("status: got %d, want %d", got, want)
		}
		for _, want := range []string{
			"<h1>Stoneware Mug</h1>",
			"$18.00",
			html.EscapeString(p.Description),
			`action="/cart/items"`,
			`method="post"`,
			fmt.Sprintf(`name="product_id" value="%d"`, p.ID),
			`name="quantity"`,
			"Add to cart",
		} {
			if !strings.Contains(res.body, want) {
				t.Errorf("product page lacks %q", want)
			}
		}
		if !isHTMLPage(res) {
			t.Errorf("product page is not a whole page in the layout")
		}
	})

	t.Run("UnknownSlug", func(t *testing.T) {
		res := c.get("/products/no-such-thing")
		if got, want := res.StatusCode, http.StatusNotFound; got != want {
			t.Fatalf("status: got %d, want %d", got, want)
		}
		if !isHTMLPage(res) {
			t.Errorf("404 is not an HTML page with the layout's nav: %q\n%s", res.Header.Get("Content-Type"), res.body)
		}
		if !strings.Contains(res.body, "Product not found") {
			t.Errorf("404 page does not say what is missing:\n%s", res.body)
		}
	})
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t)
	c := shop.client()
	for _, path := range []string{"/no-such-page", "/products/", "/cart/nothing-here", "/index.php"} {
		t.Run(path, func(t *testing.T) {
			res := c.get(path)
			if got, want := res.StatusCode, http.StatusNotFound; got != want {
				t.Fatalf("status: got %d, want %d", got, want)
			}
			if !isHTMLPage(res) {
				t.Errorf("404 is not an HTML page with the layout's nav: %q\n%s", res.Header.Get("Content-Type"), res.body)
			}
			if !strings.Contains(res.body, "Page not found") {
				t.Errorf("404 page does not say so:\n%s", res.body)
			}
		})
	}
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t)
	res := shop.client().get("/healthz")
	if got, want := res.StatusCode, http.StatusOK; got != want {
		t.Fatalf("status: got %d, want %d", got, want)
	}
	if got, want := strings.TrimSpace(res.body), "ok"; got != want {
		t.Errorf("body: got %q, want %q", got, want)
	}
}

func TestAssets(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t)
	c := shop.client()

	t.Run("OK", func(t *testing.T) {
		res := c.get("/assets/app.css")
		if got, want := res.StatusCode, http.StatusOK; got != want {
			t.Fatalf("status: got %d, want %d", got, want)
		}
		if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, "text/css") {
			t.Errorf("Content-Type: got %q, want text/css", got)
		}
		if len(res.body) == 0 {
			t.Errorf("empty stylesheet")
		}
		if got := res.Header.Get("Cache-Control"); strings.Contains(got, "immutable") {
			t.Errorf("unversioned URL cached forever: %q", got)
		}
	})

	t.Run("VersionedURLFromPageIsImmutable", func(t *testing.T) {
		page := c.get("/")
		refs := regexp.MustCompile(`"(/assets/[^"?]+\?v=[0-9a-f]+)"`).FindAllStringSubmatch(page.body, -1)
		var css string
		for _, m := range refs {
			if strings.HasPrefix(m[1], "/assets/app.css?") {
				css = m[1]
			}
		}
		if css == "" {
			t.Fatalf("page links no versioned app.css:\n%s", page.body)
		}
		for _, m := range refs {
			res := c.get(html.UnescapeString(m[1]))
			if got, want := res.StatusCode, http.StatusOK; got != want {
				t.Errorf("%s: status: got %d, want %d", m[1], got, want)
			}
			if got := res.Header.Get("Cache-Control"); !strings.Contains(got, "immutable") {
				t.Errorf("%s: Cache-Control %q, want immutable", m[1], got)
			}
		}
	})

	t.Run("StaleVersionIsNotImmutable", func(t *testing.T) {
		res := c.get("/assets/app.css?v=000000000000")
		if got := res.Header.Get("Cache-Control"); strings.Contains(got, "immutable") {
			t.Errorf("stale version cached forever: %q", got)
		}
	})

	for _, path := range []string{"/assets/missing.css", "/assets/", "/assets/images/products/missing.svg"} {
		t.Run("Missing", func(t *testing.T) {
			res := c.get(path)
			if got, want := res.StatusCode, http.StatusNotFound; got != want {
				t.Errorf("%s: status: got %d, want %d", path, got, want)
			}
		})
	}
}
