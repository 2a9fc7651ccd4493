package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// seededCatalogue returns the active products, failing the test if there are fewer than n.
func seededCatalogue(tb testing.TB, db *DB, n int) []Product {
	tb.Helper()
	products, err := db.Products(context.Background())
	if err != nil {
		tb.Fatalf("Products: %v", err)
	}
	if len(products) < n {
		tb.Fatalf("catalogue has %d products, test needs %d", len(products), n)
	}
	return products
}

// insertExtraProducts adds n active products directly, for tests that need more than the seed.
func insertExtraProducts(tb testing.TB, db *DB, n int) []int64 {
	tb.Helper()
	ids := make([]int64, 0, n)
	for i := range n {
		id := int64(countRows(tb, db,
			"INSERT INTO products (slug, name, description, price, currency, image, created_at) VALUES (?, ?, 'extra', ?, 'usd', 'x.svg', '2030-01-01T00:00:00.000Z') RETURNING id",
			fmt.Sprintf("extra-%d", countRows(tb, db, "SELECT max(id) + 1 FROM products")), fmt.Sprintf("Extra %d", i), 100+i))
		ids = append(ids, id)
	}
	return ids
}

// mustAddToCart adds quantity of a product to the cart named by ref.
func mustAddToCart(tb testing.TB, db *DB, ref CartRef, productID int64, quantity int) {
	tb.Helper()
	if err := db.AddToCart(context.Background(), ref, productID, quantity); err != nil {
		tb.Fatalf("AddToCart(%+v, %d, %d): %v", ref, productID, quantity, err)
	}
}

// cartQuantities reads the cart named by ref as product id → quantity.
func cartQuantities(tb testing.TB, db *DB, ref CartRef) map[int64]int {
	tb.Helper()
	c, err := db.Cart(context.Background(), ref)
	if err != nil {
		tb.Fatalf("Cart(%+v): %v", ref, err)
	}
	out := map[int64]int{}
	for _, l := range c.Lines {
		out[l.Product.ID] = l.Quantity
	}
	return out
}

// wantInvalid fails unless err is an *InvalidError with a message for the user.
func wantInvalid(tb testing.TB, err error) {
	tb.Helper()
	var inv *InvalidError
	if !errors.As(err, &inv) {
		tb.Fatalf("error = %v (%T), want *InvalidError", err, err)
	}
	if inv.Message == "" {
		tb.Errorf("InvalidError has an empty message")
	}
}

func TestAddToCart(t *testing.T) {
	ctx := context.Background()
	db := mustOpenDB(t)
	products := seededCatalogue(t, db, 3)
	p := products[0]

	t.Run("OK", func(t *testing.T) {
		ref := CartRef{Token: "tok-add-ok"}
		mustAddToCart(t, db, ref, p.ID, 2)
		c, err := db.Cart(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if c.ID == 0 {
			t.Fatal("cart ID = 0 after adding, want a saved cart")
		}
		if got, want := len(c.Lines), 1; got != want {
			t.Fatalf("lines = %d, want %d", got, want)
		}
		if got, want := c.Lines[0].Product, p; got != want {
			t.Errorf("line product = %+v, want %+v", got, want)
		}
		if got, want := c.Lines[0].Quantity, 2; got != want {
			t.Errorf("quantity = %d, want %d", got, want)
		}
	})

	t.Run("Accumulates", func(t *testing.T) {
		ref := CartRef{Token: "tok-accumulate"}
		mustAddToCart(t, db, ref, p.ID, 2)
		mustAddToCart(t, db, ref, p.ID, 3)
		if got, want := cartQuantities(t, db, ref)[p.ID], 5; got != want {
			t.Errorf("quantity after 2 + 3 = %d, want %d", got, want)
		}
		if got, want := countRows(t, db, "SELECT count(*) FROM cart_items i JOIN carts c ON c.id = i.cart_id WHERE c.token = 'tok-accumulate'"), 1; got != want {
			t.Errorf("rows for the product = %d, want %d", got, want)
		}
		n, err := db.CartCount(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := n, 5; got != want {
			t.Errorf("CartCount = %d, want %d", got, want)
		}
	})

	t.Run("UserCart", func(t *testing.T) {
		u := mustCreateUser(t, db)
		ref := CartRef{UserID: u.ID}
		mustAddToCart(t, db, ref, products[1].ID, 1)
		if got, want := cartQuantities(t, db, ref), map[int64]int{products[1].ID: 1}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("user cart = %v, want %v", got, want)
		}
		// A token cart and a user cart are different carts.
		if got := cartQuantities(t, db, CartRef{Token: "tok-add-ok"})[products[1].ID]; got != 0 {
			t.Errorf("token cart got the user's product (quantity %d)", got)
		}
	})

	t.Run("BadQuantity", func(t *testing.T) {
		for _, q := range []int{0, -1, 100, 1000} {
			t.Run(fmt.Sprint(q), func(t *testing.T) {
				ref := CartRef{Token: fmt.Sprintf("tok-bad-%d", q)}
				wantInvalid(t, db.AddToCart(ctx, ref, p.ID, q))
				if got := countRows(t, db, "SELECT count(*) FROM carts WHERE token = ?", ref.Token); got != 0 {
					t.Errorf("carts created = %d, want 0", got)
				}
			})
		}
		t.Run("ExistingLineUnchanged", func(t *testing.T) {
			ref := CartRef{Token: "tok-bad-existing"}
			mustAddToCart(t, db, ref, p.ID, 4)
			for _, q := range []int{0, -1, 100} {
				wantInvalid(t, db.AddToCart(ctx, ref, p.ID, q))
			}
			if got, want := cartQuantities(t, db, ref)[p.ID], 4; got != want {
				t.Errorf("quantity after refused adds = %d, want %d", got, want)
			}
		})
	})

	t.Run("TotalOver99", func(t *testing.T) {
		ref := CartRef{Token: "tok-over-99"}
		mustAddToCart(t, db, ref, p.ID, 60)
		wantInvalid(t, db.AddToCart(ctx, ref, p.ID, 40))
		if got, want := cartQuantities(t, db, ref)[p.ID], 60; got != want {
			t.Errorf("quantity after refused add = %d, want %d", got, want)
		}
		mustAddToCart(t, db, ref, p.ID, 39)
		if got, want := cartQuantities(t, db, ref)[p.ID], 99; got != want {
			t.Errorf("quantity after 60 + 39 = %d, want %d", got, want)
		}
		wantInvalid(t, db.AddToCart(ctx, ref, p.ID, 1))
		if got, want := cartQuantities(t, db, ref)[p.ID], 99; got != want {
			t.Errorf("quantity after refused add = %d, want %d", got, want)
		}
	})

	t.Run("UnknownProduct", func(t *testing.T) {
		ref := CartRef{Token: "tok-unknown"}
		wantInvalid(t, db.AddToCart(ctx, ref, 987654, 1))
		if got := countRows(t, db, "SELECT count(*) FROM carts WHERE token = ?", ref.Token); got != 0 {
			t.Errorf("carts created = %d, want 0", got)
		}
	})

	t.Run("InactiveProduct", func(t *testing.T) {
		inactive := products[2]
		mustExec(t, db, "UPDATE products SET active = 0 WHERE id = ?", inactive.ID)
		t.Cleanup(func() { mustExec(t, db, "UPDATE products SET active = 1 WHERE id = ?", inactive.ID) })
		ref := CartRef{Token: "tok-inactive"}
		wantInvalid(t, db.AddToCart(ctx, ref, inactive.ID, 1))
		if got := countRows(t, db, "SELECT count(*) FROM carts WHERE token = ?", ref.Token); got != 0 {
			t.Errorf("carts created = %d, want 0", got)
		}
		if got := countRows(t, db, "SELECT count(*) FROM cart_items WHERE product_id = ?", inactive.ID); got != 0 {
			t.Errorf("cart lines of the inactive product = %d, want 0", got)
		}
	})

	t.Run("NoCartNamed", func(t *testing.T) {
		before := countRows(t, db, "SELECT count(*) FROM carts")
		if err := db.AddToCart(ctx, CartRef{}, p.ID, 1); err == nil {
			t.Error("AddToCart with an empty ref = nil, want an error")
		}
		if got, want := countRows(t, db, "SELECT count(*) FROM carts"), before; got != want {
			t.Errorf("carts = %d, want %d", got, want)
		}
	})
}

func TestAddToCartLineLimit(t *testing.T) {
	ctx := context.Background()
	db := mustOpenDB(t)
	ids := insertExtraProducts(t, db, MaxCartLines+1)
	ref := CartRef{Token: "tok-full"}
	for _, id := range ids[:MaxCartLines] {
		mustAddToCart(t, db, ref, id, 1)
	}

	t.Run("NewLineRefused", func(t *testing.T) {
		wantInvalid(t, db.AddToCart(ctx, ref, ids[MaxCartLines], 1))
		q := cartQuantities(t, db, ref)
		if got, want := len(q), MaxCartLines; got != want {
			t.Errorf("lines = %d, want %d", got, want)
		}
		if _, ok := q[ids[MaxCartLines]]; ok {
			t.Error("the 51st product is in the cart")
		}
	})

	t.Run("ExistingLineStillGrows", func(t *testing.T) {
		mustAddToCart(t, db, ref, ids[0], 2)
		if got, want := cartQuantities(t, db, ref)[ids[0]], 3; got != want {
			t.Errorf("quantity = %d, want %d", got, want)
		}
	})

	t.Run("RoomAfterRemoval", func(t *testing.T) {
		if err := db.SetCartQuantity(ctx, ref, ids[1], 0); err != nil {
			t.Fatal(err)
		}
		mustAddToCart(t, db, ref, ids[MaxCartLines], 1)
		if got, want := len(cartQuantities(t, db, ref)), MaxCartLines; got != want {
			t.Errorf("lines = %d, want %d", got, want)
		}
	})
}

func TestSetCartQuantity(t *testing.T) {
	ctx := context.Background()
	db := mustOpenDB(t)
	products := seededCatalogue(t, db, 3)
	ref := CartRef{Token: "tok-set"}
	mustAddToCart(t, db, ref, products[0].ID, 1)
	mustAddToCart(t, db, ref, products[1].ID, 2)

	t.Run("OK", func(t *testing.T) {
		if err := db.SetCartQuantity(ctx, ref, products[0].ID, 7); err != nil {
			t.Fatalf("SetCartQuantity: %v", err)
		}
		if got, want := cartQuantities(t, db, ref)[products[0].ID], 7; got != want {
			t.Errorf("quantity = %d, want %d", got, want)
		}
		if err := db.SetCartQuantity(ctx, ref, products[0].ID, MaxQuantity); err != nil {
			t.Fatalf("SetCartQuantity(99): %v", err)
		}
		if got, want := cartQuantities(t, db, ref)[products[0].ID], MaxQuantity; got != want {
			t.Errorf("quantity = %d, want %d", got, want)
		}
	})

	t.Run("BadQuantity", func(t *testing.T) {
		for _, q := range []int{-1, 100} {
			wantInvalid(t, db.SetCartQuantity(ctx, ref, products[1].ID, q))
		}
		if got, want := cartQuantities(t, db, ref)[products[1].ID], 2; got != want {
			t.Errorf("quantity after refused updates = %d, want %d", got, want)
		}
	})

	t.Run("ZeroRemoves", func(t *testing.T) {
		if err := db.SetCartQuantity(ctx, ref, products[1].ID, 0); err != nil {
			t.Fatalf("SetCartQuantity(0): %v", err)
		}
		q := cartQuantities(t, db, ref)
		if _, ok := q[products[1].ID]; ok {
			t.Errorf("removed line still in cart: %v", q)
		}
		if got, want := len(q), 1; got != want {
			t.Errorf("lines = %d, want %d", got, want)
		}
	})

	t.Run("NotInCart", func(t *testing.T) {
		for _, q := range []int{0, 3} {
			if err := db.SetCartQuantity(ctx, ref, products[2].ID, q); !errors.Is(err, ErrNotFound) {
				t.Errorf("SetCartQuantity(line not in cart, %d) = %v, want ErrNotFound", q, err)
			}
		}
		if _, ok := cartQuantities(t, db, ref)[products[2].ID]; ok {
			t.Error("SetCartQuantity created a line")
		}
	})

	t.Run("NoCart", func(t *testing.T) {
		if err := db.SetCartQuantity(ctx, CartRef{Token: "tok-never-used"}, products[0].ID, 1); !errors.Is(err, ErrNotFound) {
			t.Errorf("SetCartQuantity(unknown cart) = %v, want ErrNotFound", err)
		}
		if err := db.SetCartQuantity(ctx, CartRef{}, products[0].ID, 1); !errors.Is(err, ErrNotFound) {
			t.Errorf("SetCartQuantity(empty ref) = %v, want ErrNotFound", err)
		}
	})

	t.Run("OtherShoppersCart", func(t *testing.T) {
		other := mustCreateUser(t, db)
		if err := db.SetCartQuantity(ctx, CartRef{UserID: other.ID}, products[0].ID, 1); !errors.Is(err, ErrNotFound) {
			t.Errorf("SetCartQuantity(someone else's line) = %v, want ErrNotFound", err)
		}
		if got, want := cartQuantities(t, db, ref)[products[0].ID], MaxQuantity; got != want {
			t.Errorf("first shopper's quantity = %d, want %d", got, want)
		}
	})
}

func TestMergeCart(t *testing.T) {
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		db := mustOpenDB(t)
		products := seededCatalogue(t, db, 3)
		u := mustCreateUser(t, db)
		anon := CartRef{Token: "tok-merge"}
		mine := CartRef{UserID: u.ID}
		mustAddToCart(t, db, anon, products[0].ID, 3)
		mustAddToCart(t, db, anon, products[1].ID, 60)
		mustAddToCart(t, db, mine, products[1].ID, 50)
		mustAddToCart(t, db, mine, products[2].ID, 1)

		if err := db.MergeCart(ctx, anon.Token, u.ID); err != nil {
			t.Fatalf("MergeCart: %v", err)
		}
		want := map[int64]int{products[0].ID: 3, products[1].ID: MaxQuantity, products[2].ID: 1}
		if got := cartQuantities(t, db, mine); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("user cart after merge = %v, want %v", got, want)
		}
		if got := countRows(t, db, "SELECT count(*) FROM carts WHERE token = ?", anon.Token); got != 0 {
			t.Errorf("anonymous carts left = %d, want 0", got)
		}
		c, err := db.Cart(ctx, anon)
		if err != nil {
			t.Fatal(err)
		}
		if c.ID != 0 || len(c.Lines) != 0 {
			t.Errorf("anonymous cart after merge = %+v, want none", c)
		}
		if got := countRows(t, db, "SELECT count(*) FROM cart_items WHERE cart_id NOT IN (SELECT id FROM carts)"); got != 0 {
			t.Errorf("orphan cart lines = %d, want 0", got)
		}
	})

	t.Run("IntoNewUserCart", func(t *testing.T) {
		db := mustOpenDB(t)
		products := seededCatalogue(t, db, 2)
		u := mustCreateUser(t, db)
		anon := CartRef{Token: "tok-merge-new"}
		mustAddToCart(t, db, anon, products[0].ID, 2)
		mustAddToCart(t, db, anon, products[1].ID, 1)
		if err := db.MergeCart(ctx, anon.Token, u.ID); err != nil {
			t.Fatalf("MergeCart: %v", err)
		}
		c, err := db.Cart(ctx, CartRef{UserID: u.ID})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(c.Lines), 2; got != want {
			t.Fatalf("lines = %d, want %d", got, want)
		}
		// Lines keep the order they were added in.
		if c.Lines[0].Product.ID != products[0].ID || c.Lines[0].Quantity != 2 ||
			c.Lines[1].Product.ID != products[1].ID || c.Lines[1].Quantity != 1 {
			t.Errorf("user cart = %+v, want %d×2 then %d×1", c.Lines, products[0].ID, products[1].ID)
		}
	})

	t.Run("NothingToMerge", func(t *testing.T) {
		db := mustOpenDB(t)
		products := seededCatalogue(t, db, 1)
		u := mustCreateUser(t, db)
		mustAddToCart(t, db, CartRef{UserID: u.ID}, products[0].ID, 2)
		for _, token := range []string{"", "tok-never-used"} {
			if err := db.MergeCart(ctx, token, u.ID); err != nil {
				t.Errorf("MergeCart(%q) = %v, want nil", token, err)
			}
		}
		if got, want := cartQuantities(t, db, CartRef{UserID: u.ID})[products[0].ID], 2; got != want {
			t.Errorf("user cart quantity = %d, want %d", got, want)
		}
	})

	t.Run("CappedAt50Lines", func(t *testing.T) {
		db := mustOpenDB(t)
		ids := insertExtraProducts(t, db, 55)
		u := mustCreateUser(t, db)
		anon := CartRef{Token: "tok-merge-many"}
		mine := CartRef{UserID: u.ID}
		for _, id := range ids[:45] {
			mustAddToCart(t, db, mine, id, 1)
		}
		// One line the user already has, then ten new ones: only five of those fit.
		mustAddToCart(t, db, anon, ids[0], 4)
		for _, id := range ids[45:] {
			mustAddToCart(t, db, anon, id, 1)
		}
		if err := db.MergeCart(ctx, anon.Token, u.ID); err != nil {
			t.Fatalf("MergeCart: %v", err)
		}
		q := cartQuantities(t, db, mine)
		if got, want := len(q), MaxCartLines; got != want {
			t.Errorf("user cart lines after merge = %d, want %d", got, want)
		}
		if got, want := q[ids[0]], 5; got != want {
			t.Errorf("shared line quantity = %d, want %d", got, want)
		}
		if got := countRows(t, db, "SELECT count(*) FROM carts WHERE token = ?", anon.Token); got != 0 {
			t.Errorf("anonymous carts left = %d, want 0", got)
		}
	})

	t.Run("FullUserCartStillSums", func(t *testing.T) {
		db := mustOpenDB(t)
		ids := insertExtraProducts(t, db, MaxCartLines+1)
		u := mustCreateUser(t, db)
		anon := CartRef{Token: "tok-merge-full"}
		mine := CartRef{UserID: u.ID}
		for _, id := range ids[:MaxCartLines] {
			mustAddToCart(t, db, mine, id, 1)
		}
		mustAddToCart(t, db, anon, ids[MaxCartLines], 1)
		mustAddToCart(t, db, anon, ids[3], 2)
		if err := db.MergeCart(ctx, anon.Token, u.ID); err != nil {
			t.Fatalf("MergeCart: %v", err)
		}
		q := cartQuantities(t, db, mine)
		if got, want := len(q), MaxCartLines; got != want {
			t.Errorf("user cart lines = %d, want %d", got, want)
		}
		if got, want := q[ids[3]], 3; got != want {
			t.Errorf("shared line quantity = %d, want %d", got, want)
		}
	})

	t.Run("PendingOrderFollows", func(t *testing.T) {
		db := mustOpenDB(t)
		products := seededCatalogue(t, db, 1)
		u := mustCreateUser(t, db)
		anon := CartRef{Token: "tok-merge-order"}
		mustAddToCart(t, db, anon, products[0].ID, 1)
		o, _, err := db.PrepareOrder(ctx, anon)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.MergeCart(ctx, anon.Token, u.ID); err != nil {
			t.Fatal(err)
		}
		c, err := db.Cart(ctx, CartRef{UserID: u.ID})
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.Order(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.CartID != c.ID {
			t.Errorf("order cart = %d, want the user's cart %d", got.CartID, c.ID)
		}
	})
}

func TestCartTotals(t *testing.T) {
	ctx := context.Background()

	t.Run("Empty", func(t *testing.T) {
		var c Cart
		if c.Total() != 0 || c.Count() != 0 {
			t.Errorf("empty cart Total, Count = %d, %d, want 0, 0", c.Total(), c.Count())
		}
		if got, want := c.Currency(), "usd"; got != want {
			t.Errorf("empty cart Currency = %q, want %q", got, want)
		}
	})

	t.Run("Lines", func(t *testing.T) {
		c := Cart{Lines: []CartLine{
			{Product: Product{Price: 1250, Currency: "eur"}, Quantity: 3},
			{Product: Product{Price: 900, Currency: "eur"}, Quantity: 1},
		}}
		if got, want := c.Lines[0].Subtotal(), int64(3750); got != want {
			t.Errorf("Subtotal = %d, want %d", got, want)
		}
		if got, want := c.Total(), int64(4650); got != want {
			t.Errorf("Total = %d, want %d", got, want)
		}
		if got, want := c.Count(), 4; got != want {
			t.Errorf("Count = %d, want %d", got, want)
		}
		if got, want := c.Currency(), "eur"; got != want {
			t.Errorf("Currency = %q, want %q", got, want)
		}
	})

	t.Run("FromDatabase", func(t *testing.T) {
		db := mustOpenDB(t)
		products := seededCatalogue(t, db, 2)
		ref := CartRef{Token: "tok-totals"}
		mustAddToCart(t, db, ref, products[0].ID, 2)
		mustAddToCart(t, db, ref, products[1].ID, 3)
		c, err := db.Cart(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := c.Total(), 2*products[0].Price+3*products[1].Price; got != want {
			t.Errorf("Total = %d, want %d", got, want)
		}
		if got, want := c.Count(), 5; got != want {
			t.Errorf("Count = %d, want %d", got, want)
		}
		n, err := db.CartCount(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := n, 5; got != want {
			t.Errorf("CartCount = %d, want %d", got, want)
		}

		// A product taken off sale disappears from the cart and its count.
		mustExec(t, db, "UPDATE products SET active = 0 WHERE id = ?", products[1].ID)
		c, err = db.Cart(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := c.Total(), 2*products[0].Price; got != want {
			t.Errorf("Total with an inactive line = %d, want %d", got, want)
		}
		if n, _ = db.CartCount(ctx, ref); n != 2 {
			t.Errorf("CartCount with an inactive line = %d, want 2", n)
		}
	})

	t.Run("NoCart", func(t *testing.T) {
		db := mustOpenDB(t)
		for _, ref := range []CartRef{{}, {Token: "tok-none"}, {UserID: 12345}} {
			c, err := db.Cart(ctx, ref)
			if err != nil {
				t.Fatalf("Cart(%+v): %v", ref, err)
			}
			if c.ID != 0 || len(c.Lines) != 0 {
				t.Errorf("Cart(%+v) = %+v, want empty", ref, c)
			}
			n, err := db.CartCount(ctx, ref)
			if err != nil || n != 0 {
				t.Errorf("CartCount(%+v) = %d, %v, want 0, nil", ref, n, err)
			}
		}
	})
}
