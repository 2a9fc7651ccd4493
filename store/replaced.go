package store

import (
	"context"
	"fmt"
)

// ReplacedCheckouts lists the orders whose Checkout Session a new checkout of the same cart
// replaced: pending, with a session still open, other than o. The shop keeps one payable
// checkout per cart, so these must be closed at the payment provider (their stock is already
// given back, see releaseSuperseded).
func (db *DB) ReplacedCheckouts(ctx context.Context, o Order) ([]Order, error) {
	if o.CartID == 0 {
		return nil, nil
	}
	return db.listOrders(ctx, "replaced checkouts", `cart_id = ? AND id != ? AND status = 'pending'
		AND checkout_session_id IS NOT NULL AND session_expires_at > ? ORDER BY id`, o.CartID, o.ID, db.now())
}

// listOrders lists the orders a condition (with its ORDER BY) selects, without their items;
// what names the list in errors.
func (db *DB) listOrders(ctx context.Context, what, where string, args ...any) ([]Order, error) {
	rows, err := db.readStmts.QueryContext(ctx, "SELECT "+orderColumns+" FROM orders WHERE "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []Order
	for rows.Next() {
		o, err := scanOrder(rows.Scan)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}
