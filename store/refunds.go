package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// RefundRequest is a refund an admin asked the payment provider for. The order changes only
// when the provider reports the refund (charge.refunded); until then it is "requested".
type RefundRequest struct {
	ID          int64
	OrderID     int64
	Amount      int64
	Status      string // sending, sent or failed
	Error       string
	RequestedBy string
	CreatedAt   time.Time
}

// IdempotencyKey is the key for asking the provider for this refund: a retry of the same request
// never refunds twice.
func (r RefundRequest) IdempotencyKey() string {
	return fmt.Sprintf("storefront-refund-%d-%d-%d", r.OrderID, r.ID, r.CreatedAt.UnixMilli())
}

// RefundLeft is how much of the order's payment may still be refunded: what was paid less what
// was refunded or asked for already.
func refundLeft(ctx context.Context, tx querier, o Order) (int64, error) {
	var asked int64
	err := tx.QueryRowContext(ctx, "SELECT coalesce(sum(amount), 0) FROM refund_requests WHERE order_id = ? AND status != 'failed'", o.ID).Scan(&asked)
	if err != nil {
		return 0, fmt.Errorf("sum refund requests: %w", err)
	}
	if o.RefundedInFull {
		return 0, nil
	}
	return max(o.AmountTotal-max(o.AmountRefunded, asked), 0), nil
}

// RefundPending is how much was asked of the provider and is not reported refunded yet.
func (db *DB) RefundPending(ctx context.Context, o Order) (int64, error) {
	left, err := refundLeft(ctx, db.readStmts, o)
	if err != nil {
		return 0, err
	}
	if o.RefundedInFull {
		return 0, nil
	}
	return max(o.AmountTotal-left-o.AmountRefunded, 0), nil
}

// RequestRefund records an admin's refund of amount (0: all that is left) of a paid order, or
// of one under review, before the provider is asked; an amount above what is left is refused
// here, so the provider is never asked for it. The caller asks the provider and reports the
// answer with RefundSent or RefundFailed.
func (db *DB) RequestRefund(ctx context.Context, who Actor, orderID, amount int64) (RefundRequest, Order, error) {
	var req RefundRequest
	var o Order
	err := db.inTx(ctx, func(tx *writeTx) error {
		var err error
		if o, err = db.orderWhere(ctx, tx, "id = ?", orderID); err != nil {
			return err
		}
		if o.Status != StatusPaid && o.Status != StatusNeedsReview {
			return invalid(fmt.Sprintf("Order %d is %s: only a paid order, or one under review, can be refunded.", o.ID, o.Status))
		}
		if o.PaymentIntent == "" {
			return invalid(fmt.Sprintf("Order %d has no payment to refund.", o.ID))
		}
		left, err := refundLeft(ctx, tx, o)
		if err != nil {
			return err
		}
		if amount == 0 {
			amount = left
		}
		switch {
		case left == 0:
			return invalid("Nothing is left to refund: the whole payment is refunded or asked for.")
		case amount < 0:
			return invalid("The refund must be more than zero.")
		case amount > left:
			return &InvalidError{Message: fmt.Sprintf("At most %s is left to refund.", moneyText(left, o.Currency))}
		}
		req = RefundRequest{OrderID: o.ID, Amount: amount, Status: "sending", RequestedBy: who.Email, CreatedAt: db.Now()}
		var by any
		if who.ID != 0 {
			by = who.ID
		}
		err = tx.QueryRowContext(ctx, "INSERT INTO refund_requests (order_id, amount, status, requested_by, created_at) VALUES (?, ?, 'sending', ?, ?) RETURNING id",
			o.ID, amount, by, formatTime(req.CreatedAt)).Scan(&req.ID)
		if err != nil {
			return fmt.Errorf("record refund request: %w", err)
		}
		return db.recordAudit(ctx, tx, who, "order.refund", fmt.Sprintf("order %d", o.ID), "asked for "+moneyText(amount, o.Currency))
	})
	return req, o, err
}

// RefundSent notes that the provider accepted the refund request.
func (db *DB) RefundSent(ctx context.Context, id int64) error {
	return db.finishRefund(ctx, id, "sent", "")
}

// RefundFailed notes that the provider refused the refund request, so it no longer counts.
func (db *DB) RefundFailed(ctx context.Context, id int64, reason string) error {
	return db.finishRefund(ctx, id, "failed", reason)
}

func (db *DB) finishRefund(ctx context.Context, id int64, status, reason string) error {
	return db.inTx(ctx, func(tx *writeTx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE refund_requests SET status = ?, error = ? WHERE id = ?", status, reason, id); err != nil {
			return fmt.Errorf("record refund request %d: %w", id, err)
		}
		return nil
	})
}

// RefundRequests lists the refunds asked for an order, oldest first.
func (db *DB) RefundRequests(ctx context.Context, orderID int64) ([]RefundRequest, error) {
	rows, err := db.readStmts.QueryContext(ctx, `SELECT r.id, r.order_id, r.amount, r.status, r.error, coalesce(u.email, ''), r.created_at
		FROM refund_requests r LEFT JOIN users u ON u.id = r.requested_by WHERE r.order_id = ? ORDER BY r.id`, orderID)
	if err != nil {
		return nil, fmt.Errorf("list refund requests: %w", err)
	}
	defer rows.Close()
	var out []RefundRequest
	for rows.Next() {
		var r RefundRequest
		var created string
		if err := rows.Scan(&r.ID, &r.OrderID, &r.Amount, &r.Status, &r.Error, &r.RequestedBy, &created); err != nil {
			return nil, fmt.Errorf("list refund requests: %w", err)
		}
		r.CreatedAt = parseTime(created)
		out = append(out, r)
	}
	return out, rows.Err()
}

// moneyText writes minor units as a decimal with the currency, such as "12.50 USD", for messages.
func moneyText(amount int64, currency string) string {
	return fmt.Sprintf("%d.%02d %s", amount/100, amount%100, strings.ToUpper(currency))
}
