package store

import (
	"context"
	"fmt"
	"time"
)

// DeleteIdleCarts deletes anonymous carts nobody has touched since idleSince: their token
// lived only in a cookie, and a cart left that long is abandoned. Carts of accounts stay.
// It returns how many carts it deleted.
func (db *DB) DeleteIdleCarts(ctx context.Context, idleSince time.Time) (int64, error) {
	var n int64
	err := db.inTx(ctx, func(tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM carts WHERE user_id IS NULL AND created_at < ?1
			AND NOT EXISTS (SELECT 1 FROM cart_items i WHERE i.cart_id = carts.id AND i.added_at >= ?1)`,
			formatTime(idleSince))
		if err != nil {
			return fmt.Errorf("delete idle carts: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// StalePendingOrders lists orders still pending that were created before since, oldest first:
// checkouts abandoned, or whose expiry the payment provider never reported.
func (db *DB) StalePendingOrders(ctx context.Context, since time.Time, limit int) ([]Order, error) {
	return db.listOrders(ctx, "stale pending orders", "status = 'pending' AND created_at < ? ORDER BY id LIMIT ?", formatTime(since), limit)
}

// ExpireOrder moves a pending order to expired, for a checkout nobody can pay any more; a
// payment confirmed later still counts (expired may move on to paid). It returns the order as
// it is after, and whether it changed.
func (db *DB) ExpireOrder(ctx context.Context, id int64) (Order, bool, error) {
	var res EventResult
	err := db.inTx(ctx, func(tx *writeTx) error {
		o, err := db.orderWhere(ctx, tx, "id = ?", id)
		if err != nil {
			return err
		}
		if o.Status != StatusPending {
			res.Order = &o
			return nil
		}
		// Through transition, like an expiry the provider reports, so it has the same effects.
		res, err = db.transition(ctx, tx, o, StatusExpired, OutcomeApplied, "", Change{})
		return err
	})
	if err != nil {
		return Order{}, false, err
	}
	return *res.Order, res.Outcome == OutcomeApplied, nil
}
