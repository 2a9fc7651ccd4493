package store

import (
	"context"
	"errors"
	"fmt"
)

// dispute records that the customer disputed the order's payment. A paid order moves to
// needs_review (reason disputed): the money may be taken back, and an admin decides what to do.
// A dispute that arrives before the payment's confirmation is kept on the order, and the
// confirmation then ends in needs_review too (see transition), so event order does not matter.
func (db *DB) dispute(ctx context.Context, tx *writeTx, ch Change) (EventResult, error) {
	if ch.Order.PaymentIntent == "" {
		return EventResult{Outcome: OutcomeUnmatched, Reason: "the dispute names no payment"}, nil
	}
	o, err := db.findOrder(ctx, tx, OrderRef{PaymentIntent: ch.Order.PaymentIntent})
	if errors.Is(err, ErrNotFound) {
		return unmatched(ch.Order), nil
	}
	if err != nil {
		return EventResult{}, err
	}
	from := o.Status
	o.Disputed = true
	if o.Status == StatusPaid {
		o.Status, o.ReviewReason, o.UpdatedAt = StatusNeedsReview, ReasonDisputed, db.Now()
	}
	_, err = tx.ExecContext(ctx, "UPDATE orders SET disputed = 1, status = ?, review_reason = ?, updated_at = ? WHERE id = ?",
		o.Status, o.ReviewReason, formatTime(db.Now()), o.ID)
	if err != nil {
		return EventResult{}, fmt.Errorf("record dispute on order %d: %w", o.ID, err)
	}
	if from == StatusPaid {
		return EventResult{Outcome: OutcomeNeedsReview, Reason: ReasonDisputed, Order: &o, From: from}, nil
	}
	return EventResult{Outcome: OutcomeRecorded, Reason: fmt.Sprintf("dispute kept on order %d (%s)", o.ID, from), Order: &o, From: from}, nil
}
