package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// NextCheckoutAttempt counts one more Checkout Session for a pending order and returns its
// number (the first session is attempt 1). It gives ErrConflict if the order is not pending.
func (db *DB) NextCheckoutAttempt(ctx context.Context, orderID int64) (int, error) {
	var n int
	err := db.inTx(ctx, func(tx *writeTx) error {
		err := tx.QueryRowContext(ctx, `UPDATE orders SET checkout_attempt = checkout_attempt + 1, updated_at = ?
			WHERE id = ? AND status = 'pending' RETURNING checkout_attempt`, db.now(), orderID).Scan(&n)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrConflict
		}
		if err != nil {
			return fmt.Errorf("next checkout attempt: %w", err)
		}
		return nil
	})
	return n, err
}

// ReplaceCheckoutSession puts a new Checkout Session on a pending order in place of the one it
// had (oldSessionID, "" for none). Events of the old session then match no order, which is
// right: it was closed before the new one was made. It gives ErrConflict if the order moved on
// or its session changed meanwhile.
func (db *DB) ReplaceCheckoutSession(ctx context.Context, orderID int64, oldSessionID, sessionID, url string, expiresAt time.Time) error {
	return db.inTx(ctx, func(tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `UPDATE orders SET checkout_session_id = ?, checkout_url = ?, session_expires_at = ?, updated_at = ?
			WHERE id = ? AND status = 'pending' AND coalesce(checkout_session_id, '') = ?`,
			sessionID, url, formatTime(expiresAt), db.now(), orderID, oldSessionID)
		if err != nil {
			return fmt.Errorf("replace checkout session: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrConflict
		}
		return nil
	})
}
