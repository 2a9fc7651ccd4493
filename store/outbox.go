package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// MailKind is what a queued message says.
type MailKind string

// The kinds of mail the shop sends.
const (
	MailReceipt       MailKind = "receipt"        // an order was paid
	MailPaymentFailed MailKind = "payment_failed" // an order's payment failed; the message links to retry
	MailRefunded      MailKind = "refunded"       // an order was refunded
	MailPasswordReset MailKind = "password_reset" // a reset link for an account
	MailOrderLookup   MailKind = "order_lookup"   // links to a guest's orders
)

// MailStatus is where a queued message stands.
type MailStatus string

// The mail statuses.
const (
	MailPending MailStatus = "pending" // waiting to be sent, or to be tried again
	MailSent    MailStatus = "sent"    // the mail server accepted it
	MailFailed  MailStatus = "failed"  // given up on; admins can list these
	MailSkipped MailStatus = "skipped" // a request recorded with nobody to write to (no account, no orders)
)

// MailLifetime is how long the shop keeps trying to send a message before it gives up.
const MailLifetime = 24 * time.Hour

// MailData is what a message shows, kept with it in the outbox so that the message says what
// was true when it was queued.
type MailData struct {
	Order        *Order    `json:"order,omitempty"`        // receipts and notices
	Orders       []Order   `json:"orders,omitempty"`       // an order lookup
	RefundAmount int64     `json:"refundAmount,omitempty"` // a refund notice
	ExpiresAt    time.Time `json:"expiresAt,omitzero"`     // until when a reset link works
	Invoice      *Invoice  `json:"invoice,omitempty"`      // a membership's failed renewal
}

// OutboxMail is one message in the outbox.
type OutboxMail struct {
	ID            int64
	Kind          MailKind
	To            string
	OrderID       int64
	Data          MailData
	Secret        string // a one-time token the message carries; empty once sent
	Status        MailStatus
	Attempts      int
	NextAttemptAt time.Time
	GiveUpAt      time.Time
	LastError     string
	CreatedAt     time.Time
	SentAt        time.Time
}

// queueMail adds a message to the outbox inside the caller's transaction. A message whose
// dedupe key is already queued is not queued again: each cause sends at most one message.
func (db *DB) queueMail(ctx context.Context, tx *writeTx, dedupeKey string, m OutboxMail) error {
	data, err := json.Marshal(m.Data)
	if err != nil {
		return fmt.Errorf("queue %s mail: %w", m.Kind, err)
	}
	now := db.Now()
	if m.GiveUpAt.IsZero() {
		m.GiveUpAt = now.Add(MailLifetime)
	}
	if m.Status == "" {
		m.Status = MailPending
	}
	var orderID, secret any
	if m.OrderID != 0 {
		orderID = m.OrderID
	}
	if m.Secret != "" {
		secret = m.Secret
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO outbox (kind, dedupe_key, recipient, order_id, data, secret, status,
		next_attempt_at, give_up_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING`,
		string(m.Kind), dedupeKey, m.To, orderID, string(data), secret, string(m.Status),
		formatTime(now), formatTime(m.GiveUpAt), formatTime(now))
	if err != nil {
		return fmt.Errorf("queue %s mail: %w", m.Kind, err)
	}
	return nil
}

// queueOrderMail queues the message an order's new status calls for, in the transaction that
// changed it: a receipt when paid, a notice when its payment failed or it was refunded. The
// outbox holds at most one of each kind per order, so a replayed event sends nothing twice.
func (db *DB) queueOrderMail(ctx context.Context, tx *writeTx, o Order, ch Change) error {
	kind, ok := map[Status]MailKind{StatusPaid: MailReceipt, StatusFailed: MailPaymentFailed, StatusRefunded: MailRefunded}[o.Status]
	if !ok {
		return nil
	}
	to := o.CustomerEmail
	if to == "" && o.UserID != 0 {
		if err := tx.QueryRowContext(ctx, "SELECT email FROM users WHERE id = ?", o.UserID).Scan(&to); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("queue %s mail: %w", kind, err)
		}
	}
	if to == "" {
		return nil // nobody to write to: a guest whose address the payment did not carry
	}
	data := MailData{Order: &o}
	if kind == MailRefunded {
		data.RefundAmount = ch.Refund.Amount
		if data.RefundAmount == 0 {
			data.RefundAmount = o.AmountTotal
		}
	}
	key := string(kind) + ":order:" + strconv.FormatInt(o.ID, 10)
	return db.queueMail(ctx, tx, key, OutboxMail{Kind: kind, To: to, OrderID: o.ID, Data: data})
}

const outboxColumns = `id, kind, recipient, coalesce(order_id, 0), data, coalesce(secret, ''), status, attempts,
	next_attempt_at, give_up_at, last_error, created_at, sent_at`

func scanOutboxMail(scan func(...any) error) (OutboxMail, error) {
	var m OutboxMail
	var data, next, giveUp, created string
	var sent sql.NullString
	err := scan(&m.ID, &m.Kind, &m.To, &m.OrderID, &data, &m.Secret, &m.Status, &m.Attempts,
		&next, &giveUp, &m.LastError, &created, &sent)
	if err != nil {
		return OutboxMail{}, err
	}
	if err := json.Unmarshal([]byte(data), &m.Data); err != nil {
		return OutboxMail{}, fmt.Errorf("decode mail %d: %w", m.ID, err)
	}
	m.NextAttemptAt, m.GiveUpAt, m.CreatedAt = parseTime(next), parseTime(giveUp), parseTime(created)
	m.SentAt = parseNullTime(sent)
	return m, nil
}

// ClaimMail takes the next message due at now and holds it for lease: the message counts one
// more attempt and is not due again until the lease ends, so a sender that crashed mid-send
// leaves it to be tried again then. It reports false when nothing is due.
func (db *DB) ClaimMail(ctx context.Context, now time.Time, lease time.Duration) (OutboxMail, bool, error) {
	// Most polls find nothing due: ask a reader first and leave the one writer to others.
	var due bool
	err := db.readStmts.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?)",
		formatTime(now)).Scan(&due)
	if err != nil || !due {
		if err != nil {
			err = fmt.Errorf("claim mail: %w", err)
		}
		return OutboxMail{}, false, err
	}
	var m OutboxMail
	found := false
	err = db.inTx(ctx, func(tx *writeTx) error {
		var err error
		m, err = scanOutboxMail(tx.QueryRowContext(ctx, "SELECT "+outboxColumns+` FROM outbox
			WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT 1`, formatTime(now)).Scan)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		m.Attempts++
		m.NextAttemptAt = now.Add(lease)
		_, err = tx.ExecContext(ctx, "UPDATE outbox SET attempts = ?, next_attempt_at = ? WHERE id = ?",
			m.Attempts, formatTime(m.NextAttemptAt), m.ID)
		found = err == nil
		return err
	})
	if err != nil {
		return OutboxMail{}, false, fmt.Errorf("claim mail: %w", err)
	}
	return m, found, nil
}

// MarkMailSent records that the mail server accepted the message, and forgets its token.
func (db *DB) MarkMailSent(ctx context.Context, id int64, at time.Time) error {
	return db.updateMail(ctx, "mark mail sent", `UPDATE outbox SET status = 'sent', sent_at = ?, secret = NULL, last_error = ''
		WHERE id = ? AND status = 'pending'`, formatTime(at), id)
}

// RetryMail records a failed attempt and when to try again.
func (db *DB) RetryMail(ctx context.Context, id int64, at time.Time, reason string) error {
	return db.updateMail(ctx, "retry mail", "UPDATE outbox SET next_attempt_at = ?, last_error = ? WHERE id = ? AND status = 'pending'",
		formatTime(at), reason, id)
}

// FailMail gives up on a message for good, and forgets its token.
func (db *DB) FailMail(ctx context.Context, id int64, reason string) error {
	return db.updateMail(ctx, "fail mail", "UPDATE outbox SET status = 'failed', last_error = ?, secret = NULL WHERE id = ? AND status = 'pending'",
		reason, id)
}

func (db *DB) updateMail(ctx context.Context, what, query string, args ...any) error {
	return db.inTx(ctx, func(tx *writeTx) error {
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	})
}

// ListMail lists the outbox's messages in a status (all when status is empty), newest first;
// limit ≤ 0 means all. Admins list the failed ones.
func (db *DB) ListMail(ctx context.Context, status MailStatus, limit int) ([]OutboxMail, error) {
	if limit <= 0 {
		limit = noLimit
	}
	rows, err := db.readStmts.QueryContext(ctx, "SELECT "+outboxColumns+" FROM outbox WHERE ? IN ('', status) ORDER BY id DESC LIMIT ?",
		string(status), limit)
	if err != nil {
		return nil, fmt.Errorf("list mail: %w", err)
	}
	defer rows.Close()
	var out []OutboxMail
	for rows.Next() {
		m, err := scanOutboxMail(rows.Scan)
		if err != nil {
			return nil, fmt.Errorf("list mail: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
