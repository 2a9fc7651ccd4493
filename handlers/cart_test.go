package handlers

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"storefront/store"
)

var cartQuantityInput = regexp.MustCompile(`id="cart-qty-(\d+)"[^>]*?value="(\d+)"`)

// cartLines reads the cart as the shopper sees it: product id to the quantity in its field.
func cartLines(t *testing.T, body string) map[int64]int {
	t.Helper()
	lines := map[int64]int{}
	for _, m := range cartQuantityInput.FindAllStringSubmatch(body, -1) {
		id, _ := strconv.ParseInt(m[1], 10, 64)
		q, _ := strconv.Atoi(m[2])
		lines[id] = q
	}
	return lines
}

// badgeCount is the number the nav's cart badge shows.
func badgeCount(t *testing.T, body string) string {
	t.Helper()
	m := regexp.MustCompile(`class="cart-count" data-count="(\d+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no cart badge in:\n%s", body)
	}
	return m[1]
}

func addForm(productID any, quantity string) url.Values {
	return url.Values{"product_id": {fmt.Sprint(productID)}, "quantity": {quantity}}
}

func quantityForm(quantity string) url.Values { return url.Values{"quantity": {quantity}} }

func linePath(productID int64) string { return fmt.Sprintf("/cart/items/%d", productID) }

func TestAddToCart(t *testing.T) {
	t.Parallel()

	t.Run("Guest", func(t *testing.T) {
		shop := newTestShop(t)
		tote, mug := productID(t, shop, "canvas-tote"), productID(t, shop, "stoneware-mug")
		c := shop.client()
		for _, f := range []url.Values{addForm(tote, "2"), addForm(mug, "1")} {
			res := c.post("/cart/items", f)
			if got, want := res.StatusCode, http.StatusSeeOther; got != want {
				t.Fatalf("status: got %d, want %d\n%s", got, want, res.body)
			}
			if got, want := res.Header.Get("Location"), "/cart"; got != want {
				t.Errorf("Location: got %q, want %q", got, want)
			}
		}
		res := c.get("/cart")
		if got, want := res.StatusCode, http.StatusOK; got != want {
			t.Fatalf("cart: status %d, want %d", got, want)
		}
		if got, want := cartLines(t, res.body), map[int64]int{tote: 2, mug: 1}; !maps.Equal(got, want) {
			t.Errorf("cart lines: got %v, want %v", got, want)
		}
		for _, want := range []string{"Canvas Tote Bag", "Stoneware Mug", `<p class="line-total">$48.00</p>`, "Total <strong>$66.00</strong>", "Check out"} {
			if !strings.Contains(res.body, want) {
				t.Errorf("cart page lacks %q", want)
			}
		}
		if got, want := badgeCount(t, res.body), "3"; got != want {
			t.Errorf("badge on the cart page: got %s, want %s", got, want)
		}
		if got, want := badgeCount(t, c.get("/").body), "3"; got != want {
			t.Errorf("badge on the catalogue: got %s, want %s", got, want)
		}

		c.addToCart("canvas-tote", 1)
		if got, want := cartLines(t, c.get("/cart").body), map[int64]int{tote: 3, mug: 1}; !maps.Equal(got, want) {
			t.Errorf("after adding the tote again: got %v, want %v", got, want)
		}
	})

	t.Run("HTMX", func(t *testing.T) {
		shop := newTestShop(t)
		tote := productID(t, shop, "canvas-tote")
		c := shop.client()
		res := c.post("/cart/items", addForm(tote, "2"), "HX-Request", "true")
		if got, want := res.StatusCode, http.StatusOK; got != want {
			t.Fatalf("status: got %d, want %d\n%s", got, want, res.body)
		}
		if strings.Contains(res.body, "<html") || !strings.Contains(res.body, `<form class="add-to-cart"`) {
			t.Errorf("want the form fragment alone:\n%s", res.body)
		}
		if !strings.Contains(res.body, "Added 2 to your cart.") {
			t.Errorf("no confirmation:\n%s", res.body)
		}
		if got := res.Header.Get("HX-Trigger"); !strings.Contains(got, "cart-updated") {
			t.Errorf("HX-Trigger %q does not announce cart-updated", got)
		}

		badge := c.get("/cart/badge")
		if got, want := badge.StatusCode, http.StatusOK; got != want {
			t.Fatalf("badge: status %d, want %d", got, want)
		}
		if strings.Contains(badge.body, "<html") || !strings.Contains(badge.body, `id="cart-link"`) {
			t.Errorf("badge: want the fragment alone:\n%s", badge.body)
		}
		if got, want := badgeCount(t, badge.body), "2"; got != want {
			t.Errorf("badge: got %s, want %s", got, want)
		}
		if got, want := cartLines(t, c.get("/cart").body), map[int64]int{tote: 2}; !maps.Equal(got, want) {
			t.Errorf("cart lines: got %v, want %v", got, want)
		}
	})

	t.Run("EmptyCart", func(t *testing.T) {
		shop := newTestShop(t)
		c := shop.client()
		if got, want := badgeCount(t, c.get("/cart/badge").body), "0"; got != want {
			t.Errorf("badge: got %s, want %s", got, want)
		}
		res := c.get("/cart")
		if !strings.Contains(res.body, "Your cart is empty.") || strings.Contains(res.body, "Check out") {
			t.Errorf("empty cart page:\n%s", res.body)
		}
	})

	t.Run("AtMost99OfOne", func(t *testing.T) {
		shop := newTestShop(t)
		tote := productID(t, shop, "canvas-tote")
		c := shop.client()
		c.addToCart("canvas-tote", 98)
		res := c.post("/cart/items", addForm(tote, "2"))
		if got, want := res.StatusCode, http.StatusBadRequest; got != want {
			t.Fatalf("status: got %d, want %d", got, want)
		}
		if !strings.Contains(res.body, "You can have at most 99 of one item in your cart.") {
			t.Errorf("no message:\n%s", res.body)
		}
		if got, want := cartLines(t, c.get("/cart").body), map[int64]int{tote: 98}; !maps.Equal(got, want) {
			t.Errorf("cart lines: got %v, want %v", got, want)
		}
	})
}

func TestAddToCartRefusesBadInput(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t)
	db := shop.sql(t)
	mug := productID(t, shop, "stoneware-mug")
	retired := productID(t, shop, "enamel-pin-set")
	sqlExec(t, db, "UPDATE products SET active = 0 WHERE id = ?", retired)

	const badQuantity = "Quantity must be a whole number from 1 to 99."
	const unavailable = "That product is not available."
	for _, tc := range []struct {
		name, productID, quantity, message string
	}{
		{"Zero", fmt.Sprint(mug), "0", badQuantity},
		{"Negative", fmt.Sprint(mug), "-1", badQuantity},
		{"TooMany", fmt.Sprint(mug), "100", badQuantity},
		{"Huge", fmt.Sprint(mug), "99999999999999999999", badQuantity},
		{"Word", fmt.Sprint(mug), "abc", badQuantity},
		{"Fraction", fmt.Sprint(mug), "1.5", badQuantity},
		{"Empty", fmt.Sprint(mug), "", badQuantity},
		{"UnknownProduct", "999999", "1", unavailable},
		{"ProductWord", "abc", "1", unavailable},
		{"NoProduct", "", "1", unavailable},
		{"ProductZero", "0", "1", unavailable},
		{"InactiveProduct", fmt.Sprint(retired), "1", unavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, htmx := range []bool{false, true} {
				var headers []string
				if htmx {
					headers = []string{"HX-Request", "true"}
				}
				c := shop.client()
				res := c.post("/cart/items", addForm(tc.productID, tc.quantity), headers...)
				if got, want := res.StatusCode, http.StatusBadRequest; got != want {
					t.Errorf("htmx %v: status %d, want %d", htmx, got, want)
				}
				if !strings.Contains(res.body, tc.message) {
					t.Errorf("htmx %v: no message %q:\n%s", htmx, tc.message, res.body)
				}
				if got := strings.Contains(res.body, "<html"); got == htmx {
					t.Errorf("htmx %v: whole page %v", htmx, got)
				}
				if tc.message == badQuantity {
					// The message sits beside the quantity field it is about.
					field := fmt.Sprintf(`aria-invalid="true" aria-describedby="qty-error-%d"`, mug)
					beside := fmt.Sprintf(`<p class="field-error" id="qty-error-%d" role="alert">%s</p>`, mug, tc.message)
					if !strings.Contains(res.body, field) || !strings.Contains(res.body, beside) {
						t.Errorf("htmx %v: message not beside the quantity field:\n%s", htmx, res.body)
					}
				}
				if got, want := badgeCount(t, c.get("/").body), "0"; got != want {
					t.Errorf("htmx %v: badge %s, want %s", htmx, got, want)
				}
			}
		})
	}
	if got, want := sqlInt(t, db, "SELECT count(*) FROM cart_items"), 0; got != want {
		t.Errorf("cart lines written: %d, want %d", got, want)
	}
	if got, want := sqlInt(t, db, "SELECT count(*) FROM carts"), 0; got != want {
		t.Errorf("carts written: %d, want %d", got, want)
	}
}

func TestCartLineLimit(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t)
	db := shop.sql(t)
	insertProducts(t, db, store.MaxCartLines+1-8)
	products, err := shop.db.Products(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(products), store.MaxCartLines+1; got != want {
		t.Fatalf("products: got %d, want %d", got, want)
	}
	c := shop.client()
	for _, p := range products[:store.MaxCartLines] {
		if res := c.post("/cart/items", addForm(p.ID, "1")); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("add %s: status %d\n%s", p.Slug, res.StatusCode, res.body)
		}
	}
	res := c.post("/cart/items", addForm(products[store.MaxCartLines].ID, "1"))
	if got, want := res.StatusCode, http.StatusBadRequest; got != want {
		t.Errorf("line %d: status %d, want %d", store.MaxCartLines+1, got, want)
	}
	if !strings.Contains(res.body, "Your cart is full: it holds at most 50 different products.") {
		t.Errorf("no message:\n%s", res.body)
	}
	if got, want := sqlInt(t, db, "SELECT count(*) FROM cart_items"), store.MaxCartLines; got != want {
		t.Errorf("cart lines: got %d, want %d", got, want)
	}
	// More of a product already in the cart is still welcome.
	if got, want := c.post("/cart/items", addForm(products[0].ID, "1")).StatusCode, http.StatusSeeOther; got != want {
		t.Errorf("more of a line already there: status %d, want %d", got, want)
	}
	page := c.get("/cart")
	if got, want := len(cartLines(t, page.body)), store.MaxCartLines; got != want {
		t.Errorf("lines on the cart page: got %d, want %d", got, want)
	}
	if got, want := badgeCount(t, page.body), strconv.Itoa(store.MaxCartLines+1); got != want {
		t.Errorf("badge: got %s, want %s", got, want)
	}
}

func TestSetCartQuantity(t *testing.T) {
	t.Parallel()

	// setup gives a guest a cart holding one tote and two mugs.
	setup := func(t *testing.T) (*testShop, *testClient, int64, int64) {
		shop := newTestShop(t)
		c := shop.client()
		tote := c.addToCart("canvas-tote", 1).ID
		mug := c.addToCart("stoneware-mug", 2).ID
		return shop, c, tote, mug
	}

	t.Run("Update", func(t *testing.T) {
		_, c, tote, mug := setup(t)
		res := c.post(linePath(tote), quantityForm("3"))
		if got, want := res.StatusCode, http.StatusSeeOther; got != want {
			t.Fatalf("status: got %d, want %d\n%s", got, want, res.body)
		}
		if got, want := res.Header.Get("Location"), "/cart"; got != want {
			t.Errorf("Location: got %q, want %q", got, want)
		}
		page := c.get("/cart")
		if got, want := cartLines(t, page.body), map[int64]int{tote: 3, mug: 2}; !maps.Equal(got, want) {
			t.Errorf("cart lines: got %v, want %v", got, want)
		}
		if !strings.Contains(page.body, "Total <strong>$108.00</strong>") {
			t.Errorf("total is not 3 × $24 + 2 × $18:\n%s", page.body)
		}
		if got, want := badgeCount(t, page.body), "5"; got != want {
			t.Errorf("badge: got %s, want %s", got, want)
		}
	})

	t.Run("Remove", func(t *testing.T) {
		_, c, tote, mug := setup(t)
		if got, want := c.post(linePath(tote), quantityForm("0")).StatusCode, http.StatusSeeOther; got != want {
			t.Fatalf("status: got %d, want %d", got, want)
		}
		page := c.get("/cart")
		if got, want := cartLines(t, page.body), map[int64]int{mug: 2}; !maps.Equal(got, want) {
			t.Errorf("cart lines: got %v, want %v", got, want)
		}
		if strings.Contains(page.body, "Canvas Tote Bag") {
			t.Errorf("removed product still in the cart")
		}
		c.post(linePath(mug), quantityForm("0"))
		page = c.get("/cart")
		if !strings.Contains(page.body, "Your cart is empty.") || badgeCount(t, page.body) != "0" {
			t.Errorf("cart not empty after removing every line:\n%s", page.body)
		}
	})

	t.Run("HTMX", func(t *testing.T) {
		_, c, tote, mug := setup(t)
		for _, tc := range []struct {
			quantity string
			want     map[int64]int
			text     string
		}{
			{"3", map[int64]int{tote: 3, mug: 2}, "Total <strong>$108.00</strong>"},
			{"0", map[int64]int{mug: 2}, "Total <strong>$36.00</strong>"},
		} {
			res := c.post(linePath(tote), quantityForm(tc.quantity), "HX-Request", "true")
			if got, want := res.StatusCode, http.StatusOK; got != want {
				t.Fatalf("quantity %s: status %d, want %d\n%s", tc.quantity, got, want, res.body)
			}
			if strings.Contains(res.body, "<html") || !strings.HasPrefix(strings.TrimSpace(res.body), `<section id="cart"`) {
				t.Errorf("quantity %s: want the cart fragment alone:\n%s", tc.quantity, res.body)
			}
			if got := cartLines(t, res.body); !maps.Equal(got, tc.want) {
				t.Errorf("quantity %s: lines %v, want %v", tc.quantity, got, tc.want)
			}
			if !strings.Contains(res.body, tc.text) {
				t.Errorf("quantity %s: fragment lacks %q", tc.quantity, tc.text)
			}
			if got := res.Header.Get("HX-Trigger"); !strings.Contains(got, "cart-updated") {
				t.Errorf("quantity %s: HX-Trigger %q does not announce cart-updated", tc.quantity, got)
			}
		}
	})

	t.Run("BadQuantity", func(t *testing.T) {
		shop, c, tote, mug := setup(t)
		db := shop.sql(t)
		const message = "Quantity must be a whole number from 0 to 99."
		for _, quantity := range []string{"100", "-1", "abc", "1.5", "", " "} {
			for _, htmx := range []bool{false, true} {
				var headers []string
				if htmx {
					headers = []string{"HX-Request", "true"}
				}
				res := c.post(linePath(tote), quantityForm(quantity), headers...)
				if got, want := res.StatusCode, http.StatusBadRequest; got != want {
					t.Errorf("%q htmx %v: status %d, want %d", quantity, htmx, got, want)
				}
				field := fmt.Sprintf(`aria-invalid="true" aria-describedby="cart-qty-error-%d"`, tote)
				beside := fmt.Sprintf(`<p class="field-error" id="cart-qty-error-%d" role="alert">%s</p>`, tote, message)
				if !strings.Contains(res.body, field) || !strings.Contains(res.body, beside) {
					t.Errorf("%q htmx %v: message not beside the line:\n%s", quantity, htmx, res.body)
				}
				if got := strings.Contains(res.body, "<html"); got == htmx {
					t.Errorf("%q htmx %v: whole page %v", quantity, htmx, got)
				}
				if got, want := cartLines(t, res.body), map[int64]int{tote: 1, mug: 2}; !maps.Equal(got, want) {
					t.Errorf("%q htmx %v: lines shown %v, want %v", quantity, htmx, got, want)
				}
			}
		}
		if got, want := sqlInt(t, db, "SELECT quantity FROM cart_items WHERE product_id = ?", tote), 1; got != want {
			t.Errorf("stored quantity: got %d, want %d", got, want)
		}
	})

	t.Run("NotInCart", func(t *testing.T) {
		shop, c, tote, mug := setup(t)
		db := shop.sql(t)
		succulent := productID(t, shop, "desk-succulent")
		res := c.post(linePath(succulent), quantityForm("2"))
		if got, want := res.StatusCode, http.StatusBadRequest; got != want {
			t.Errorf("status: got %d, want %d", got, want)
		}
		if !strings.Contains(res.body, "That item is no longer in your cart.") {
			t.Errorf("no message:\n%s", res.body)
		}
		if got, want := sqlInt(t, db, "SELECT count(*) FROM cart_items"), 2; got != want {
			t.Errorf("cart lines: got %d, want %d", got, want)
		}
		if got, want := cartLines(t, c.get("/cart").body), map[int64]int{tote: 1, mug: 2}; !maps.Equal(got, want) {
			t.Errorf("cart lines: got %v, want %v", got, want)
		}
		if got, want := c.post("/cart/items/abc", quantityForm("2")).StatusCode, http.StatusNotFound; got != want {
			t.Errorf("line id abc: status %d, want %d", got, want)
		}
	})

	t.Run("SomeoneElsesCart", func(t *testing.T) {
		shop, owner, tote, mug := setup(t)
		guest := shop.client()
		guest.addToCart("desk-succulent", 1) // a guest with a cart of their own
		user := shop.client()
		user.signup("lee@example.com")
		for _, other := range []*testClient{shop.client(), guest, user} {
			if got, want := other.post(linePath(tote), quantityForm("0")).StatusCode, http.StatusBadRequest; got != want {
				t.Errorf("removing another's line: status %d, want %d", got, want)
			}
			other.post(linePath(mug), quantityForm("9"))
		}
		if got, want := cartLines(t, owner.get("/cart").body), map[int64]int{tote: 1, mug: 2}; !maps.Equal(got, want) {
			t.Errorf("owner's cart changed by others: got %v, want %v", got, want)
		}
	})
}

func TestCartMerge(t *testing.T) {
	t.Parallel()

	t.Run("SumsQuantitiesAndPersists", func(t *testing.T) {
		shop := newTestShop(t)
		db := shop.sql(t)
		tote, mug := productID(t, shop, "canvas-tote"), productID(t, shop, "stoneware-mug")
		owner := shop.client()
		owner.signup("kim@example.com")
		owner.addToCart("canvas-tote", 3)
		owner.post("/logout", nil)

		c := shop.client()
		c.addToCart("canvas-tote", 2)
		c.addToCart("stoneware-mug", 1)
		if got, want := c.post("/login", credentials("kim@example.com", testPassword)).StatusCode, http.StatusSeeOther; got != want {
			t.Fatalf("login: status %d, want %d", got, want)
		}
		want := map[int64]int{tote: 5, mug: 1}
		page := c.get("/cart")
		if got := cartLines(t, page.body); !maps.Equal(got, want) {
			t.Errorf("merged cart: got %v, want %v", got, want)
		}
		if !strings.Contains(page.body, "Total <strong>$138.00</strong>") {
			t.Errorf("merged total is not 5 × $24 + $18:\n%s", page.body)
		}
		if got, want := badgeCount(t, page.body), "6"; got != want {
			t.Errorf("badge: got %s, want %s", got, want)
		}
		if got, want := sqlInt(t, db, "SELECT count(*) FROM carts"), 1; got != want {
			t.Errorf("carts after merge: got %d, want %d (the guest cart should be gone)", got, want)
		}

		c.post("/logout", nil)
		page = c.get("/cart")
		if !strings.Contains(page.body, "Your cart is empty.") || badgeCount(t, page.body) != "0" {
			t.Errorf("the account's cart shows after logout:\n%s", page.body)
		}
		if got, want := c.post("/login", credentials("kim@example.com", testPassword)).StatusCode, http.StatusSeeOther; got != want {
			t.Fatalf("login again: status %d, want %d", got, want)
		}
		if got := cartLines(t, c.get("/cart").body); !maps.Equal(got, want) {
			t.Errorf("cart after logging in again: got %v, want %v", got, want)
		}
		if got := cartLines(t, owner.get("/cart").body); len(got) != 0 {
			t.Errorf("the logged-out browser shows a cart: %v", got)
		}
	})

	t.Run("SignupKeepsGuestCart", func(t *testing.T) {
		shop := newTestShop(t)
		tote := productID(t, shop, "canvas-tote")
		c := shop.client()
		c.addToCart("canvas-tote", 2)
		c.signup("max@example.com")
		if got, want := cartLines(t, c.get("/cart").body), map[int64]int{tote: 2}; !maps.Equal(got, want) {
			t.Errorf("cart after signup: got %v, want %v", got, want)
		}
	})

	t.Run("CapsQuantity", func(t *testing.T) {
		shop := newTestShop(t)
		tote := productID(t, shop, "canvas-tote")
		owner := shop.client()
		owner.signup("ned@example.com")
		owner.addToCart("canvas-tote", 98)
		c := shop.client()
		c.addToCart("canvas-tote", 5)
		c.post("/login", credentials("ned@example.com", testPassword))
		if got, want := cartLines(t, c.get("/cart").body), map[int64]int{tote: store.MaxQuantity}; !maps.Equal(got, want) {
			t.Errorf("merged cart: got %v, want %v", got, want)
		}
	})

	t.Run("CapsLines", func(t *testing.T) {
		shop := newTestShop(t)
		db := shop.sql(t)
		insertProducts(t, db, 45)
		products, err := shop.db.Products(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		owner := shop.client()
		u := owner.signup("ora@example.com")
		owner.post("/cart/items", addForm(products[0].ID, "1"))
		for _, p := range products[1:48] {
			sqlExec(t, db, `INSERT INTO cart_items (cart_id, product_id, quantity, added_at)
				SELECT id, ?, 1, '2025-01-01T00:00:00.000Z' FROM carts WHERE user_id = ?`, p.ID, u.ID)
		}
		if got, want := len(cartLines(t, owner.get("/cart").body)), 48; got != want {
			t.Fatalf("account's cart: %d lines, want %d", got, want)
		}
		owner.post("/logout", nil)

		c := shop.client()
		c.addToCart(products[0].Slug, 1) // already in the account's cart: always merges
		for _, p := range products[48:53] {
			c.addToCart(p.Slug, 1)
		}
		if got, want := c.post("/login", credentials("ora@example.com", testPassword)).StatusCode, http.StatusSeeOther; got != want {
			t.Fatalf("login: status %d, want %d", got, want)
		}
		lines := cartLines(t, c.get("/cart").body)
		if got, want := len(lines), store.MaxCartLines; got != want {
			t.Errorf("merged cart: %d lines, want %d (at most %d)", got, want, store.MaxCartLines)
		}
		if got, want := lines[products[0].ID], 2; got != want {
			t.Errorf("shared line: quantity %d, want %d", got, want)
		}
		if got := sqlInt(t, db, "SELECT count(*) FROM cart_items i JOIN carts c ON c.id = i.cart_id WHERE c.user_id = ?", u.ID); got > store.MaxCartLines {
			t.Errorf("stored lines in the account's cart: %d, more than %d", got, store.MaxCartLines)
		}
	})
}
