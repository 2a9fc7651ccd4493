package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Cart limits, enforced here so that no handler can get them wrong.
const (
	MaxQuantity  = 99
	MaxCartLines = 50
)

// CartRef names a cart: the user's own when UserID is set, else the anonymous cart of Token.
type CartRef struct {
	UserID int64
	Token  string
}

// IsZero reports whether the ref names no cart at all (an anonymous visitor who never added anything).
func (r CartRef) IsZero() bool { return r.UserID == 0 && r.Token == "" }

func (r CartRef) where() (string, any) {
	if r.UserID != 0 {
		return "user_id = ?", r.UserID
	}
	return "token = ?", r.Token
}

// CartLine is one product in a cart, priced from the catalogue as it is now.
type CartLine struct {
	Product  Product
	Quantity int
}

// Subtotal is the line's price times its quantity.
func (l CartLine) Subtotal() int64 { return l.Product.Price * int64(l.Quantity) }

// Cart is a shopper's cart. A cart never saved has ID 0 and no lines.
type Cart struct {
	ID    int64
	Lines []CartLine
}

// Total is the sum of the lines.
func (c Cart) Total() int64 {
	var t int64
	for _, l := range c.Lines {
		t += l.Subtotal()
	}
	return t
}

// Count is the number of items in the cart, counting quantities.
func (c Cart) Count() int {
	n := 0
	for _, l := range c.Lines {
		n += l.Quantity
	}
	return n
}

// Currency is the currency of the cart's lines (the catalogue has one).
func (c Cart) Currency() string {
	if len(c.Lines) == 0 {
		return "usd"
	}
	return c.Lines[0].Product.Currency
}

// Cart returns the cart named by ref with its lines in the order they were added.
func (db *DB) Cart(ctx context.Context, ref CartRef) (Cart, error) {
	if ref.IsZero() {
		return Cart{}, nil
	}
	return loadCart(ctx, db.readStmts, ref)
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func loadCart(ctx context.Context, q querier, ref CartRef) (Cart, error) {
	var c Cart
	cond, arg := ref.where()
	err := q.QueryRowContext(ctx, "SELECT id FROM carts WHERE "+cond, arg).Scan(&c.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return Cart{}, nil
	}
	if err != nil {
		return Cart{}, fmt.Errorf("get cart: %w", err)
	}
	rows, err := q.QueryContext(ctx, `SELECT p.id, p.slug, p.name, p.description, p.price, p.currency, p.image, p.active,
		p.stock, p.held, p.sold, p.version, i.quantity
		FROM cart_items i JOIN products p ON p.id = i.product_id
		WHERE i.cart_id = ? AND p.active = 1 ORDER BY i.added_at, p.id`, c.ID)
	if err != nil {
		return Cart{}, fmt.Errorf("get cart: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l CartLine
		var err error
		l.Product, err = scanProduct(func(dest ...any) error { return rows.Scan(append(dest, &l.Quantity)...) })
		if err != nil {
			return Cart{}, fmt.Errorf("get cart: %w", err)
		}
		c.Lines = append(c.Lines, l)
	}
	return c, rows.Err()
}

// CartCount is the number of items in the cart named by ref, for the nav badge.
func (db *DB) CartCount(ctx context.Context, ref CartRef) (int, error) {
	if ref.IsZero() {
		return 0, nil
	}
	cond, arg := ref.where()
	return recent(ctx, db, fmt.Sprint("cart count:", cond, arg), func(ctx context.Context) (int, error) {
		var n int
		err := db.readStmts.QueryRowContext(ctx, `SELECT coalesce(sum(i.quantity), 0) FROM carts c
			JOIN cart_items i ON i.cart_id = c.id JOIN products p ON p.id = i.product_id
			WHERE p.active = 1 AND c.`+cond, arg).Scan(&n)
		if err != nil {
			return 0, fmt.Errorf("count cart: %w", err)
		}
		return n, nil
	})
}

// CartCountByID is CartCount for the cart with this id (an order's cart); 0 for none.
func (db *DB) CartCountByID(ctx context.Context, cartID int64) (int, error) {
	var n int
	err := db.readStmts.QueryRowContext(ctx, `SELECT coalesce(sum(i.quantity), 0) FROM cart_items i
		JOIN products p ON p.id = i.product_id WHERE p.active = 1 AND i.cart_id = ?`, cartID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count cart: %w", err)
	}
	return n, nil
}

// AddToCart adds quantity of a product, creating the cart if needed. Bad input gives an *InvalidError
// and changes nothing.
func (db *DB) AddToCart(ctx context.Context, ref CartRef, productID int64, quantity int) error {
	if ref.IsZero() {
		return errors.New("add to cart: no cart named")
	}
	if quantity < 1 || quantity > MaxQuantity {
		return invalid(fmt.Sprintf("Quantity must be a whole number from 1 to %d.", MaxQuantity))
	}
	return db.inTx(ctx, func(tx *writeTx) error {
		var active bool
		err := tx.QueryRowContext(ctx, "SELECT active FROM products WHERE id = ?", productID).Scan(&active)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !active) {
			return invalid("That product is not available.")
		}
		if err != nil {
			return fmt.Errorf("add to cart: %w", err)
		}
		cartID, err := db.ensureCart(ctx, tx, ref)
		if err != nil {
			return err
		}
		var have, lines int
		err = tx.QueryRowContext(ctx, `SELECT coalesce(sum(quantity) FILTER (WHERE product_id = ?), 0), count(*)
			FROM cart_items WHERE cart_id = ?`, productID, cartID).Scan(&have, &lines)
		if err != nil {
			return fmt.Errorf("add to cart: %w", err)
		}
		if have+quantity > MaxQuantity {
			return invalid(fmt.Sprintf("You can have at most %d of one item in your cart.", MaxQuantity))
		}
		if have == 0 && lines >= MaxCartLines {
			return invalid(fmt.Sprintf("Your cart is full: it holds at most %d different products.", MaxCartLines))
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO cart_items (cart_id, product_id, quantity, added_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = cart_items.quantity + excluded.quantity`,
			cartID, productID, quantity, db.now())
		if err != nil {
			return fmt.Errorf("add to cart: %w", err)
		}
		return nil
	})
}

// SetCartQuantity changes a line's quantity; 0 removes the line. A product not in the cart gives ErrNotFound.
func (db *DB) SetCartQuantity(ctx context.Context, ref CartRef, productID int64, quantity int) error {
	if quantity < 0 || quantity > MaxQuantity {
		return invalid(fmt.Sprintf("Quantity must be a whole number from 0 to %d.", MaxQuantity))
	}
	if ref.IsZero() {
		return ErrNotFound
	}
	return db.inTx(ctx, func(tx *writeTx) error {
		cond, arg := ref.where()
		var res sql.Result
		var err error
		if quantity == 0 {
			res, err = tx.ExecContext(ctx, "DELETE FROM cart_items WHERE product_id = ? AND cart_id = (SELECT id FROM carts WHERE "+cond+")", productID, arg)
		} else {
			res, err = tx.ExecContext(ctx, "UPDATE cart_items SET quantity = ? WHERE product_id = ? AND cart_id = (SELECT id FROM carts WHERE "+cond+")", quantity, productID, arg)
		}
		if err != nil {
			return fmt.Errorf("set cart quantity: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// MergeCart moves an anonymous cart's lines into the user's cart at login: quantities add up
// (capped at MaxQuantity), lines beyond MaxCartLines are dropped, and the anonymous cart is deleted.
func (db *DB) MergeCart(ctx context.Context, token string, userID int64) error {
	if token == "" {
		return nil
	}
	return db.inTx(ctx, func(tx *writeTx) error {
		var anonID int64
		err := tx.QueryRowContext(ctx, "SELECT id FROM carts WHERE token = ?", token).Scan(&anonID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("merge cart: %w", err)
		}
		userCart, err := db.ensureCart(ctx, tx, CartRef{UserID: userID})
		if err != nil {
			return err
		}
		// Lines the user already has add up; new lines fill the room left under MaxCartLines.
		var lines int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM cart_items WHERE cart_id = ?", userCart).Scan(&lines); err != nil {
			return fmt.Errorf("merge cart: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO cart_items (cart_id, product_id, quantity, added_at)
			SELECT ?, product_id, quantity, added_at FROM cart_items a WHERE a.cart_id = ?
			  AND (EXISTS (SELECT 1 FROM cart_items u WHERE u.cart_id = ? AND u.product_id = a.product_id)
			       OR a.product_id IN (SELECT n.product_id FROM cart_items n WHERE n.cart_id = ?
			            AND NOT EXISTS (SELECT 1 FROM cart_items u WHERE u.cart_id = ? AND u.product_id = n.product_id)
			            ORDER BY n.added_at, n.product_id LIMIT ?))
			ORDER BY added_at
			ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = CASE
			    WHEN cart_items.quantity + excluded.quantity > ? THEN ? ELSE cart_items.quantity + excluded.quantity END`,
			userCart, anonID, userCart, anonID, userCart, max(0, MaxCartLines-lines), MaxQuantity, MaxQuantity)
		if err != nil {
			return fmt.Errorf("merge cart: %w", err)
		}
		// Pending orders of the anonymous cart now belong to the user's cart, so a payment
		// confirmed later still empties the cart the shopper is looking at.
		if _, err := tx.ExecContext(ctx, "UPDATE orders SET cart_id = ? WHERE cart_id = ?", userCart, anonID); err != nil {
			return fmt.Errorf("merge cart: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM carts WHERE id = ?", anonID); err != nil {
			return fmt.Errorf("merge cart: %w", err)
		}
		return nil
	})
}

func (db *DB) ensureCart(ctx context.Context, tx *writeTx, ref CartRef) (int64, error) {
	cond, arg := ref.where()
	var id int64
	err := tx.QueryRowContext(ctx, "SELECT id FROM carts WHERE "+cond, arg).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("find cart: %w", err)
	}
	var userID, token any
	if ref.UserID != 0 {
		userID = ref.UserID
	} else {
		token = ref.Token
	}
	err = tx.QueryRowContext(ctx, "INSERT INTO carts (user_id, token, created_at) VALUES (?, ?, ?) RETURNING id", userID, token, db.now()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("create cart: %w", err)
	}
	return id, nil
}
