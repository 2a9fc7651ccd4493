package store

import (
	"context"
	"errors"
	"fmt"
)

// AttachPaymentIntent records the PaymentIntent created for a pending order and the client
// secret its owner's browser confirms it with. Like AttachCheckoutSession it gives ErrConflict
// when the order is no longer pending or already has another intent.
func (db *DB) AttachPaymentIntent(ctx context.Context, orderID int64, intentID, clientSecret string) error {
	return db.inTx(ctx, func(tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `UPDATE orders SET payment_intent = ?, payment_client_secret = ?, updated_at = ?
			WHERE id = ? AND status = 'pending' AND kind = 'payment_intent' AND (payment_intent IS NULL OR payment_intent = ?)`,
			intentID, clientSecret, db.now(), orderID, intentID)
		if err != nil {
			return fmt.Errorf("attach payment intent: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrConflict
		}
		return nil
	})
}

// OrderByPaymentIntent finds the order a PaymentIntent pays.
func (db *DB) OrderByPaymentIntent(ctx context.Context, intentID string) (Order, error) {
	return db.orderWhere(ctx, db.readStmts, "payment_intent = ?", intentID)
}

// paymentError keeps the reason an attempt to pay an order failed, while the order is still
// payable; a payment that was processing has failed for good; once the order has moved on, the
// error is old news.
func (db *DB) paymentError(ctx context.Context, tx *writeTx, ch Change) (EventResult, error) {
	o, err := db.findOrder(ctx, tx, ch.Order)
	if errors.Is(err, ErrNotFound) {
		return unmatched(ch.Order), nil
	}
	if err != nil {
		return EventResult{}, err
	}
	if o.Status == StatusProcessing {
		// A delayed payment (a bank debit) failed after it started: like Checkout's
		// async_payment_failed, the order fails, its hold goes back and the shopper starts again.
		return db.transition(ctx, tx, o, StatusFailed, OutcomeApplied, "", ch)
	}
	if o.Status != StatusPending {
		return EventResult{Outcome: OutcomeStale, Reason: fmt.Sprintf("order %d is %s", o.ID, o.Status)}, nil
	}
	o.PaymentError, o.UpdatedAt = ch.PaymentError, db.Now()
	if _, err := tx.ExecContext(ctx, "UPDATE orders SET payment_error = ?, updated_at = ? WHERE id = ?",
		o.PaymentError, formatTime(o.UpdatedAt), o.ID); err != nil {
		return EventResult{}, fmt.Errorf("record payment error on order %d: %w", o.ID, err)
	}
	return EventResult{Outcome: OutcomeRecorded, Reason: "payment failed: " + ch.PaymentError, Order: &o, From: o.Status}, nil
}
