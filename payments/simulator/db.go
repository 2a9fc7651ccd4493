package simulator

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// schemaVersion is stored in PRAGMA user_version so a later release can migrate old files.
const schemaVersion = 2

var schema = []string{
	`CREATE TABLE IF NOT EXISTS sessions (
		id TEXT PRIMARY KEY,
		created INTEGER NOT NULL,
		expires_at_ms INTEGER NOT NULL,
		status TEXT NOT NULL,
		payment_status TEXT NOT NULL,
		currency TEXT NOT NULL,
		amount_subtotal INTEGER NOT NULL,
		amount_total INTEGER NOT NULL,
		client_reference_id TEXT,
		customer_email TEXT,
		success_url TEXT NOT NULL,
		cancel_url TEXT,
		metadata TEXT NOT NULL,
		line_items TEXT NOT NULL,
		payment_intent TEXT,
		pi_status TEXT NOT NULL DEFAULT '',
		pi_created INTEGER NOT NULL DEFAULT 0,
		payment_method TEXT NOT NULL DEFAULT '',
		pm_details TEXT NOT NULL DEFAULT '',
		charge_id TEXT NOT NULL DEFAULT '',
		charge_created INTEGER NOT NULL DEFAULT 0,
		balance_txn TEXT NOT NULL DEFAULT '',
		amount_refunded INTEGER NOT NULL DEFAULT 0,
		paid_email TEXT NOT NULL DEFAULT '',
		pi_last_error TEXT NOT NULL DEFAULT ''
	)`,
	`CREATE INDEX IF NOT EXISTS sessions_open_expiry ON sessions(expires_at_ms) WHERE status = 'open'`,
	`CREATE UNIQUE INDEX IF NOT EXISTS sessions_payment_intent ON sessions(payment_intent) WHERE payment_intent IS NOT NULL`,
	`CREATE INDEX IF NOT EXISTS sessions_charge ON sessions(charge_id) WHERE charge_id != ''`,
	`CREATE INDEX IF NOT EXISTS sessions_created ON sessions(created)`,
	`CREATE TABLE IF NOT EXISTS refunds (
		id TEXT PRIMARY KEY,
		session_id TEXT NOT NULL,
		payment_intent TEXT NOT NULL,
		charge_id TEXT NOT NULL,
		amount INTEGER NOT NULL,
		currency TEXT NOT NULL,
		reason TEXT,
		metadata TEXT NOT NULL,
		created INTEGER NOT NULL
	)`,
	// seq gives the delivery order; session_id groups the events whose order matters.
	`CREATE TABLE IF NOT EXISTS events (
		seq INTEGER PRIMARY KEY AUTOINCREMENT,
		id TEXT NOT NULL UNIQUE,
		session_id TEXT NOT NULL,
		type TEXT NOT NULL,
		payload BLOB NOT NULL,
		enqueued_ms INTEGER NOT NULL,
		attempts INTEGER NOT NULL DEFAULT 0,
		next_attempt_ms INTEGER NOT NULL,
		delivered_ms INTEGER,
		abandoned_ms INTEGER,
		last_error TEXT NOT NULL DEFAULT '',
		created INTEGER NOT NULL DEFAULT 0
	)`,
	`CREATE INDEX IF NOT EXISTS events_pending ON events(session_id, seq) WHERE delivered_ms IS NULL AND abandoned_ms IS NULL`,
	`CREATE TABLE IF NOT EXISTS jobs (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		session_id TEXT NOT NULL,
		kind TEXT NOT NULL,
		due_ms INTEGER NOT NULL,
		done_ms INTEGER
	)`,
	// Payment intents created through the API (not by a Checkout Session), each kept as its JSON.
	`CREATE TABLE IF NOT EXISTS payment_intents (
		id TEXT PRIMARY KEY,
		created INTEGER NOT NULL,
		charge_id TEXT NOT NULL DEFAULT '',
		data TEXT NOT NULL
	)`,
	`CREATE INDEX IF NOT EXISTS payment_intents_charge ON payment_intents(charge_id) WHERE charge_id != ''`,
	`CREATE INDEX IF NOT EXISTS jobs_due ON jobs(due_ms) WHERE done_ms IS NULL`,
	`CREATE TABLE IF NOT EXISTS idempotency (
		key TEXT PRIMARY KEY,
		method TEXT NOT NULL,
		path TEXT NOT NULL,
		fingerprint TEXT NOT NULL,
		status INTEGER NOT NULL,
		body BLOB NOT NULL,
		created_ms INTEGER NOT NULL
	)`,
}

// openDB opens (creating if needed) the simulator's SQLite file and brings its schema up to date.
func openDB(ctx context.Context, path string) (*sql.DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create database folder %s: %w", dir, err)
		}
	}
	dsn := "file:" + path + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open simulator database %s: %w", path, err)
	}
	// One connection serialises every write; the simulator is low traffic.
	db.SetMaxOpenConns(1)
	for _, stmt := range schema {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			db.Close()
			return nil, fmt.Errorf("migrate simulator database %s: %w", path, err)
		}
	}
	if err := migrateV2(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate simulator database %s: %w", path, err)
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
		db.Close()
		return nil, fmt.Errorf("set simulator schema version: %w", err)
	}
	// Stripe forgets idempotency keys after 24 hours; so do we, at start-up.
	cutoff := time.Now().Add(-24 * time.Hour).UnixMilli()
	if _, err := db.ExecContext(ctx, `DELETE FROM idempotency WHERE created_ms < ?`, cutoff); err != nil {
		db.Close()
		return nil, fmt.Errorf("prune idempotency keys: %w", err)
	}
	return db, nil
}

// migrateV2 adds the columns version 2 reads to a file an older simulator created.
func migrateV2(ctx context.Context, db *sql.DB) error {
	for _, c := range []struct{ table, column, def string }{
		{"sessions", "pi_last_error", "TEXT NOT NULL DEFAULT ''"},
		{"events", "created", "INTEGER NOT NULL DEFAULT 0"},
	} {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?`, c.table, c.column).Scan(&n); err != nil {
			return fmt.Errorf("inspect %s: %w", c.table, err)
		}
		if n > 0 {
			continue
		}
		if _, err := db.ExecContext(ctx, `ALTER TABLE `+c.table+` ADD COLUMN `+c.column+` `+c.def); err != nil {
			return fmt.Errorf("add %s.%s: %w", c.table, c.column, err)
		}
	}
	// Events queued by version 1 carry their creation time only in the payload.
	_, err := db.ExecContext(ctx, `UPDATE events SET created = json_extract(CAST(payload AS TEXT), '$.created') WHERE created = 0`)
	return err
}

// txn is a write transaction that remembers which workers must be woken once it commits.
type txn struct {
	*sql.Tx
	ctx          context.Context
	queuedEvents bool
	queuedJobs   bool
}

// inTx runs fn in one immediate transaction and wakes the workers after the commit, never before.
func (s *Simulator) inTx(ctx context.Context, fn func(t *txn) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	t := &txn{Tx: tx, ctx: ctx}
	if err := fn(t); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if t.queuedEvents {
		wake(s.deliveryWake)
	}
	if t.queuedJobs {
		wake(s.schedulerWake)
	}
	return nil
}

// wake nudges a worker without ever blocking: one pending nudge is enough.
func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// querier is what loading needs, so it works both inside and outside a transaction.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

var errNoSession = errors.New("no such checkout session")

const sessionColumns = `id, created, expires_at_ms, status, payment_status, currency, amount_subtotal,
	amount_total, client_reference_id, customer_email, success_url, cancel_url, metadata, line_items,
	payment_intent, pi_status, pi_created, payment_method, pm_details, charge_id, charge_created,
	balance_txn, amount_refunded, paid_email, pi_last_error`

type rowScanner interface{ Scan(dest ...any) error }

func scanSession(row rowScanner) (*session, error) {
	var (
		s                        session
		expiresMS                int64
		clientRef, email, cancel sql.NullString
		pi                       sql.NullString
		metadataJSON, itemsJSON  string
		pmDetails, lastErr       string
	)
	err := row.Scan(&s.ID, &s.Created, &expiresMS, &s.Status, &s.PaymentStatus, &s.Currency,
		&s.AmountSubtotal, &s.AmountTotal, &clientRef, &email, &s.SuccessURL, &cancel,
		&metadataJSON, &itemsJSON, &pi, &s.PIStatus, &s.PICreated, &s.PaymentMethod, &pmDetails,
		&s.ChargeID, &s.ChargeCreated, &s.BalanceTxn, &s.AmountRefunded, &s.PaidEmail, &lastErr)
	if err != nil {
		return nil, err
	}
	s.ExpiresAt = time.UnixMilli(expiresMS)
	s.ClientReferenceID = nullable(clientRef)
	s.CustomerEmail = nullable(email)
	s.CancelURL = nullable(cancel)
	s.PaymentIntent = pi.String
	if pmDetails != "" {
		s.PMDetails = json.RawMessage(pmDetails)
	}
	if lastErr != "" {
		s.PILastError = &paymentErrorJSON{}
		if err := json.Unmarshal([]byte(lastErr), s.PILastError); err != nil {
			return nil, fmt.Errorf("decode last payment error of %s: %w", s.ID, err)
		}
	}
	if err := json.Unmarshal([]byte(metadataJSON), &s.Metadata); err != nil {
		return nil, fmt.Errorf("decode metadata of %s: %w", s.ID, err)
	}
	if err := json.Unmarshal([]byte(itemsJSON), &s.LineItems); err != nil {
		return nil, fmt.Errorf("decode line items of %s: %w", s.ID, err)
	}
	return &s, nil
}

func nullable(ns sql.NullString) *string {
	if !ns.Valid {
		return nil
	}
	return &ns.String
}

// loadSession reads one session by id, or by payment intent or charge when by names that column.
func loadSession(ctx context.Context, q querier, by, value string) (*session, error) {
	column := map[string]string{"id": "id", "payment_intent": "payment_intent", "charge": "charge_id"}[by]
	if column == "" {
		return nil, fmt.Errorf("load session: unknown key %q", by)
	}
	row := q.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE `+column+` = ?`, value)
	sess, err := scanSession(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("load session %s: %w", value, err)
	}
	sess.Billing, err = loadCheckoutSubscription(ctx, q, sess.ID)
	return sess, err
}

// recentSessions lists the newest sessions for the dev page.
func recentSessions(ctx context.Context, q querier, limit int) ([]*session, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+sessionColumns+` FROM sessions ORDER BY created DESC, rowid DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	var out []*session
	for rows.Next() {
		sess, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		out = append(out, sess)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	rows.Close()
	for _, sess := range out {
		if sess.Billing, err = loadCheckoutSubscription(ctx, q, sess.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func insertSession(t *txn, s *session) error {
	meta, err := json.Marshal(s.Metadata)
	if err != nil {
		return fmt.Errorf("encode metadata: %w", err)
	}
	items, err := json.Marshal(s.LineItems)
	if err != nil {
		return fmt.Errorf("encode line items: %w", err)
	}
	_, err = t.ExecContext(t.ctx, `INSERT INTO sessions (id, created, expires_at_ms, status, payment_status,
		currency, amount_subtotal, amount_total, client_reference_id, customer_email, success_url,
		cancel_url, metadata, line_items) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.Created, s.ExpiresAt.UnixMilli(), s.Status, s.PaymentStatus, s.Currency,
		s.AmountSubtotal, s.AmountTotal, s.ClientReferenceID, s.CustomerEmail, s.SuccessURL,
		s.CancelURL, string(meta), string(items))
	if err != nil {
		return fmt.Errorf("insert session %s: %w", s.ID, err)
	}
	return nil
}

// saveSession writes back the fields that payments, expiry and refunds change.
func saveSession(t *txn, s *session) error {
	var pi any
	if s.PaymentIntent != "" {
		pi = s.PaymentIntent
	}
	lastErr := ""
	if s.PILastError != nil {
		b, err := json.Marshal(s.PILastError)
		if err != nil {
			return fmt.Errorf("encode last payment error: %w", err)
		}
		lastErr = string(b)
	}
	_, err := t.ExecContext(t.ctx, `UPDATE sessions SET status = ?, payment_status = ?, payment_intent = ?,
		pi_status = ?, pi_created = ?, payment_method = ?, pm_details = ?, charge_id = ?,
		charge_created = ?, balance_txn = ?, amount_refunded = ?, paid_email = ?, pi_last_error = ? WHERE id = ?`,
		s.Status, s.PaymentStatus, pi, s.PIStatus, s.PICreated, s.PaymentMethod, string(s.PMDetails),
		s.ChargeID, s.ChargeCreated, s.BalanceTxn, s.AmountRefunded, s.PaidEmail, lastErr, s.ID)
	if err != nil {
		return fmt.Errorf("update session %s: %w", s.ID, err)
	}
	return nil
}
