package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Status is an order's place in its life: pending → processing → paid | failed | expired,
// paid → refunded, and needs_review when a confirmation does not match the order.
type Status string

// The order statuses.
const (
	StatusPending     Status = "pending"
	StatusProcessing  Status = "processing"
	StatusPaid        Status = "paid"
	StatusFailed      Status = "failed"
	StatusExpired     Status = "expired"
	StatusRefunded    Status = "refunded"
	StatusNeedsReview Status = "needs_review"
)

// allowedMoves lists the statuses each status may move to. Status only moves forward, so events that
// arrive twice, late or out of order cannot undo what a later event did. Expiry is the weakest
// news: a payment confirmed for an expired session (delivered late, or out of order) still counts.
var allowedMoves = map[Status][]Status{
	StatusPending:     {StatusProcessing, StatusPaid, StatusFailed, StatusExpired, StatusNeedsReview},
	StatusExpired:     {StatusProcessing, StatusPaid, StatusNeedsReview},
	StatusProcessing:  {StatusPaid, StatusFailed, StatusNeedsReview},
	StatusPaid:        {StatusRefunded},
	StatusNeedsReview: {StatusRefunded},
}

// CanMoveTo reports whether an order in status s may move to t.
func (s Status) CanMoveTo(t Status) bool {
	for _, n := range allowedMoves[s] {
		if n == t {
			return true
		}
	}
	return false
}

// Order is a purchase, from checkout until Stripe's events settle it. UserID is 0 for guests.
type Order struct {
	ID                int64
	UserID            int64
	CartID            int64
	Status            Status
	AmountTotal       int64
	Currency          string
	CheckoutSessionID string
	CheckoutURL       string
	SessionExpiresAt  time.Time
	PaymentIntent     string
	CustomerEmail     string
	CreatedAt         time.Time
	UpdatedAt         time.Time
	PaidAt            time.Time
	// AmountRefunded is how much of the payment has been refunded so far, in minor units;
	// RefundedInFull is set once the whole payment is. Both are kept even while the order is
	// not yet paid, so a refund reported before the payment's confirmation is not lost.
	AmountRefunded int64
	RefundedInFull bool
	// Kind is how the shopper pays: on Stripe's Checkout page, or on the shop's own page
	// through a PaymentIntent, whose client secret only the order's owner may see and whose
	// last error is shown while the order stays payable.
	Kind                Kind
	PaymentClientSecret string
	PaymentError        string
	// StockState is what the order does to stock (see stock.go); ReviewReason says why an
	// order needs review; Disputed is set once the payment is disputed.
	StockState   StockState
	ReviewReason string
	Disputed     bool
	Items        []OrderItem
}

// Kind is how an order is paid.
type Kind string

// The kinds of order.
const (
	KindCheckout      Kind = "checkout"
	KindPaymentIntent Kind = "payment_intent"
)

// OrderItem is a snapshot of a product as it was priced when the order was made.
type OrderItem struct {
	ProductID  int64
	Name       string
	UnitAmount int64
	Quantity   int
}

// IdempotencyKey is the key for creating this order's Checkout Session: retries of the same
// order reuse it, and it never repeats across databases (the creation time is part of it).
func (o Order) IdempotencyKey() string {
	return fmt.Sprintf("storefront-order-%d-%d", o.ID, o.CreatedAt.UnixMilli())
}

const orderColumns = `id, coalesce(user_id, 0), coalesce(cart_id, 0), status, amount_total, currency,
	coalesce(checkout_session_id, ''), coalesce(checkout_url, ''), session_expires_at,
	coalesce(payment_intent, ''), coalesce(customer_email, ''), created_at, updated_at, paid_at, amount_refunded, refunded_in_full,
	kind, coalesce(payment_client_secret, ''), coalesce(payment_error, ''),
	stock_state, review_reason, disputed`

func scanOrder(scan func(...any) error) (Order, error) {
	var o Order
	var created, updated string
	var expires, paid sql.NullString
	err := scan(&o.ID, &o.UserID, &o.CartID, &o.Status, &o.AmountTotal, &o.Currency,
		&o.CheckoutSessionID, &o.CheckoutURL, &expires, &o.PaymentIntent, &o.CustomerEmail,
		&created, &updated, &paid, &o.AmountRefunded, &o.RefundedInFull,
		&o.Kind, &o.PaymentClientSecret, &o.PaymentError,
		&o.StockState, &o.ReviewReason, &o.Disputed)
	if err != nil {
		return Order{}, err
	}
	o.CreatedAt, o.UpdatedAt = parseTime(created), parseTime(updated)
	o.SessionExpiresAt, o.PaidAt = parseNullTime(expires), parseNullTime(paid)
	return o, nil
}

// ErrEmptyCart means there is nothing to check out.
var ErrEmptyCart = invalid("Your cart is empty: add something before checking out.")

// PrepareOrder turns the cart into a pending order with a snapshot of its lines, holding their
// stock, in one transaction. If the same unchanged cart already has a pending order whose
// Checkout Session is still open (or not created yet), that order is returned instead, with
// reused set. When a line asks for more than is free the answer is a *StockError and nothing
// is written.
func (db *DB) PrepareOrder(ctx context.Context, ref CartRef) (o Order, reused bool, err error) {
	return db.PrepareOrderOfKind(ctx, ref, KindCheckout)
}

// PrepareOrderOfKind is PrepareOrder for an order paid the given way; only a pending order of
// the same kind is reused (for a PaymentIntent, while it is still payable).
func (db *DB) PrepareOrderOfKind(ctx context.Context, ref CartRef, kind Kind) (o Order, reused bool, err error) {
	if ref.IsZero() {
		return Order{}, false, ErrEmptyCart
	}
	err = db.inTx(ctx, func(tx *writeTx) error {
		cart, err := loadCart(ctx, tx, ref)
		if err != nil {
			return err
		}
		if len(cart.Lines) == 0 {
			return ErrEmptyCart
		}
		// A member pays discounted prices (memberships.go): the order's total, its lines and the
		// cart's fingerprint all see the cart at those prices.
		discount, err := memberDiscount(ctx, tx, ref.UserID)
		if err != nil {
			return err
		}
		cart = cart.Discounted(discount)
		fp := fingerprint(ref, cart)
		now := db.Now()
		// A session must stay open a while longer for the shopper to use it; else start afresh.
		openUntil := formatTime(now.Add(5 * time.Minute))
		o, err = scanOrder(tx.QueryRowContext(ctx, "SELECT "+orderColumns+` FROM orders
			WHERE cart_id = ? AND status = 'pending' AND cart_fingerprint = ? AND kind = ?
			  AND (checkout_session_id IS NULL OR session_expires_at > ?)
			ORDER BY id DESC LIMIT 1`, cart.ID, fp, kind, openUntil).Scan)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("find pending order: %w", err)
		}
		// Only the checkout this one reuses or replaces holds the cart's stock: holds of
		// earlier checkouts of the cart (made before it changed) give way.
		if err := releaseSuperseded(ctx, tx, cart.ID); err != nil {
			return err
		}
		if err == nil {
			reused = true
			if o.Items, err = orderItems(ctx, tx, o.ID); err != nil {
				return err
			}
			if err := holdStock(ctx, tx, o.Items); err != nil {
				return err
			}
			o.StockState = StockHeld
			return saveStockState(ctx, tx, o)
		}
		o = Order{UserID: ref.UserID, CartID: cart.ID, Status: StatusPending, AmountTotal: cart.Total(),
			Currency: cart.Currency(), CreatedAt: now, UpdatedAt: now, Kind: kind, StockState: StockHeld}
		var userID any
		if ref.UserID != 0 {
			userID = ref.UserID
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO orders (user_id, cart_id, cart_fingerprint, status, amount_total,
			currency, created_at, updated_at, kind, stock_state) VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, 'held') RETURNING id`,
			userID, cart.ID, fp, o.AmountTotal, o.Currency, formatTime(now), formatTime(now), kind).Scan(&o.ID)
		if err != nil {
			return fmt.Errorf("create order: %w", err)
		}
		for _, l := range cart.Lines {
			item := OrderItem{ProductID: l.Product.ID, Name: l.Product.Name, UnitAmount: l.Product.Price, Quantity: l.Quantity}
			_, err := tx.ExecContext(ctx, "INSERT INTO order_items (order_id, product_id, name, unit_amount, quantity) VALUES (?, ?, ?, ?, ?)",
				o.ID, item.ProductID, item.Name, item.UnitAmount, item.Quantity)
			if err != nil {
				return fmt.Errorf("create order item: %w", err)
			}
			o.Items = append(o.Items, item)
		}
		return holdStock(ctx, tx, o.Items)
	})
	return o, reused, err
}

// fingerprint identifies the cart's exact contents and prices, and who is buying.
func fingerprint(ref CartRef, c Cart) string {
	var b strings.Builder
	b.WriteString(strconv.FormatInt(ref.UserID, 10))
	for _, l := range c.Lines {
		fmt.Fprintf(&b, "|%d:%d:%d:%s", l.Product.ID, l.Quantity, l.Product.Price, l.Product.Currency)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:16])
}

// AttachCheckoutSession records the Checkout Session created for a pending order. It gives
// ErrConflict if the order is no longer pending (a concurrent attempt marked it failed), so that
// nobody is sent to pay for an order the shop has given up on.
func (db *DB) AttachCheckoutSession(ctx context.Context, orderID int64, sessionID, url string, expiresAt time.Time) error {
	return db.inTx(ctx, func(tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `UPDATE orders SET checkout_session_id = ?, checkout_url = ?, session_expires_at = ?, updated_at = ?
			WHERE id = ? AND status = 'pending' AND (checkout_session_id IS NULL OR checkout_session_id = ?)`,
			sessionID, url, formatTime(expiresAt), db.now(), orderID, sessionID)
		if err != nil {
			return fmt.Errorf("attach checkout session: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrConflict
		}
		return nil
	})
}

// FailCheckout marks a pending order failed because its Checkout Session could not be created,
// and releases its stock.
func (db *DB) FailCheckout(ctx context.Context, orderID int64) error {
	return db.inTx(ctx, func(tx *writeTx) error {
		res, err := tx.ExecContext(ctx, "UPDATE orders SET status = 'failed', updated_at = ? WHERE id = ? AND status = 'pending' AND checkout_session_id IS NULL",
			db.now(), orderID)
		if err != nil {
			return fmt.Errorf("fail checkout: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		o, err := db.orderWhere(ctx, tx, "id = ?", orderID)
		if err != nil {
			return err
		}
		if err := releaseStock(ctx, tx, &o); err != nil {
			return err
		}
		return saveStockState(ctx, tx, o)
	})
}

// OrdersForUser lists a user's orders, newest first, with their items; limit ≤ 0 means all.
func (db *DB) OrdersForUser(ctx context.Context, userID int64, limit int) ([]Order, error) {
	return db.ordersForUser(ctx, userID, limit, 0)
}

// ordersForUser is OrdersForUser skipping the newest offset orders.
func (db *DB) ordersForUser(ctx context.Context, userID int64, limit, offset int) ([]Order, error) {
	if limit <= 0 {
		limit = noLimit
	}
	rows, err := db.readStmts.QueryContext(ctx, "SELECT "+orderColumns+" FROM orders WHERE user_id = ? ORDER BY id DESC LIMIT ? OFFSET ?", userID, limit, max(offset, 0))
	if err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	var out []Order
	for rows.Next() {
		o, err := scanOrder(rows.Scan)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("list orders: %w", err)
		}
		out = append(out, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	for i := range out {
		if out[i].Items, err = orderItems(ctx, db.readStmts, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Order returns one order with its items.
func (db *DB) Order(ctx context.Context, id int64) (Order, error) {
	return db.orderWhere(ctx, db.readStmts, "id = ?", id)
}

// OrderBySession returns the order paid through a Checkout Session.
func (db *DB) OrderBySession(ctx context.Context, sessionID string) (Order, error) {
	return db.orderWhere(ctx, db.readStmts, "checkout_session_id = ?", sessionID)
}

func (db *DB) orderWhere(ctx context.Context, q querier, cond string, arg any) (Order, error) {
	o, err := scanOrder(q.QueryRowContext(ctx, "SELECT "+orderColumns+" FROM orders WHERE "+cond, arg).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return Order{}, ErrNotFound
	}
	if err != nil {
		return Order{}, fmt.Errorf("get order: %w", err)
	}
	o.Items, err = orderItems(ctx, q, o.ID)
	return o, err
}

func orderItems(ctx context.Context, q querier, orderID int64) ([]OrderItem, error) {
	rows, err := q.QueryContext(ctx, "SELECT product_id, name, unit_amount, quantity FROM order_items WHERE order_id = ? ORDER BY rowid", orderID)
	if err != nil {
		return nil, fmt.Errorf("get order items: %w", err)
	}
	defer rows.Close()
	var items []OrderItem
	for rows.Next() {
		var it OrderItem
		if err := rows.Scan(&it.ProductID, &it.Name, &it.UnitAmount, &it.Quantity); err != nil {
			return nil, fmt.Errorf("get order items: %w", err)
		}
		items = append(items, it)
	}
	return items, rows.Err()
}
