package simulator

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// Billing: customers, recurring prices, subscriptions, their invoices, and Billing Portal
// sessions. Subscription-mode Checkout Sessions keep their extra fields in a side table, so the
// sessions table (and every simulator file already written) stays as it was.
func init() {
	schema = append(schema,
		`CREATE TABLE IF NOT EXISTS customers (
			id TEXT PRIMARY KEY,
			created INTEGER NOT NULL,
			email TEXT NOT NULL DEFAULT '',
			metadata TEXT NOT NULL DEFAULT '{}',
			card_number TEXT NOT NULL DEFAULT '',
			card_brand TEXT NOT NULL DEFAULT '',
			card_exp TEXT NOT NULL DEFAULT ''
		)`,
		`CREATE TABLE IF NOT EXISTS prices (
			id TEXT PRIMARY KEY,
			created INTEGER NOT NULL,
			product TEXT NOT NULL,
			product_name TEXT NOT NULL,
			unit_amount INTEGER NOT NULL,
			currency TEXT NOT NULL,
			interval TEXT NOT NULL DEFAULT '',
			lookup_key TEXT UNIQUE,
			active INTEGER NOT NULL DEFAULT 1,
			metadata TEXT NOT NULL DEFAULT '{}'
		)`,
		`CREATE TABLE IF NOT EXISTS subscriptions (
			id TEXT PRIMARY KEY,
			created INTEGER NOT NULL,
			customer TEXT NOT NULL,
			price TEXT NOT NULL,
			item_id TEXT NOT NULL,
			status TEXT NOT NULL,
			period_start INTEGER NOT NULL,
			period_end INTEGER NOT NULL,
			cancel_at_period_end INTEGER NOT NULL DEFAULT 0,
			canceled_at INTEGER NOT NULL DEFAULT 0,
			latest_invoice TEXT NOT NULL DEFAULT '',
			metadata TEXT NOT NULL DEFAULT '{}'
		)`,
		`CREATE INDEX IF NOT EXISTS subscriptions_by_customer ON subscriptions(customer)`,
		`CREATE TABLE IF NOT EXISTS invoices (
			id TEXT PRIMARY KEY,
			created INTEGER NOT NULL,
			customer TEXT NOT NULL,
			subscription TEXT NOT NULL,
			status TEXT NOT NULL,
			amount INTEGER NOT NULL,
			currency TEXT NOT NULL,
			period_start INTEGER NOT NULL,
			period_end INTEGER NOT NULL,
			attempt_count INTEGER NOT NULL DEFAULT 0,
			billing_reason TEXT NOT NULL,
			price TEXT NOT NULL
		)`,
		`CREATE TABLE IF NOT EXISTS checkout_subscriptions (
			session_id TEXT PRIMARY KEY,
			customer TEXT NOT NULL,
			price TEXT NOT NULL,
			metadata TEXT NOT NULL DEFAULT '{}',
			subscription TEXT NOT NULL DEFAULT ''
		)`,
		`CREATE TABLE IF NOT EXISTS portal_sessions (
			id TEXT PRIMARY KEY,
			created INTEGER NOT NULL,
			customer TEXT NOT NULL,
			return_url TEXT NOT NULL
		)`,
	)
}

// Subscription states, spelled as Stripe spells them.
const (
	modeSubscription = "subscription"

	subIncomplete = "incomplete"
	subActive     = "active"
	subPastDue    = "past_due"
	subUnpaid     = "unpaid"
	subCanceled   = "canceled"

	invoiceOpen = "open"
	invoicePaid = "paid"

	// maxRenewalAttempts is how many times a renewal is tried before the subscription turns
	// unpaid: Stripe's default Smart Retries policy, shortened.
	maxRenewalAttempts = 3
)

type customer struct {
	ID         string
	Created    int64
	Email      string
	Metadata   map[string]string
	CardNumber string // the default card, "" until one is attached
	CardBrand  string
	CardExp    string
}

type price struct {
	ID          string
	Created     int64
	Product     string
	ProductName string
	UnitAmount  int64
	Currency    string
	Interval    string // "" for a one-time price
	LookupKey   string
	Active      bool
	Metadata    map[string]string
}

type subscription struct {
	ID                string
	Created           int64
	Customer          string
	Price             string
	ItemID            string
	Status            string
	PeriodStart       int64
	PeriodEnd         int64
	CancelAtPeriodEnd bool
	CanceledAt        int64
	LatestInvoice     string
	Metadata          map[string]string
}

type invoice struct {
	ID            string
	Created       int64
	Customer      string
	Subscription  string
	Status        string
	Amount        int64
	Currency      string
	PeriodStart   int64
	PeriodEnd     int64
	AttemptCount  int64
	BillingReason string
	Price         string
}

// checkoutSubscription is what a subscription-mode session adds to a session.
type checkoutSubscription struct {
	Customer     string
	Price        string
	Metadata     map[string]string // subscription_data[metadata]
	Subscription string            // set once the session is paid
}

var errNoBillingObject = errors.New("no such billing object")

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func readJSONMap(s string) map[string]string {
	m := map[string]string{}
	json.Unmarshal([]byte(s), &m)
	return m
}

func loadCustomer(ctx context.Context, q querier, id string) (*customer, error) {
	var c customer
	var meta string
	err := q.QueryRowContext(ctx, `SELECT id, created, email, metadata, card_number, card_brand, card_exp FROM customers WHERE id = ?`, id).
		Scan(&c.ID, &c.Created, &c.Email, &meta, &c.CardNumber, &c.CardBrand, &c.CardExp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoBillingObject
	}
	if err != nil {
		return nil, fmt.Errorf("load customer %s: %w", id, err)
	}
	c.Metadata = readJSONMap(meta)
	return &c, nil
}

func saveCustomer(t *txn, c *customer) error {
	_, err := t.ExecContext(t.ctx, `INSERT INTO customers (id, created, email, metadata, card_number, card_brand, card_exp)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET email = excluded.email, metadata = excluded.metadata,
		card_number = excluded.card_number, card_brand = excluded.card_brand, card_exp = excluded.card_exp`,
		c.ID, c.Created, c.Email, jsonText(c.Metadata), c.CardNumber, c.CardBrand, c.CardExp)
	if err != nil {
		return fmt.Errorf("save customer %s: %w", c.ID, err)
	}
	return nil
}

const priceColumns = `id, created, product, product_name, unit_amount, currency, interval, coalesce(lookup_key, ''), active, metadata`

func scanPrice(row rowScanner) (*price, error) {
	var p price
	var meta string
	if err := row.Scan(&p.ID, &p.Created, &p.Product, &p.ProductName, &p.UnitAmount, &p.Currency, &p.Interval, &p.LookupKey, &p.Active, &meta); err != nil {
		return nil, err
	}
	p.Metadata = readJSONMap(meta)
	return &p, nil
}

func loadPrice(ctx context.Context, q querier, id string) (*price, error) {
	p, err := scanPrice(q.QueryRowContext(ctx, `SELECT `+priceColumns+` FROM prices WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoBillingObject
	}
	if err != nil {
		return nil, fmt.Errorf("load price %s: %w", id, err)
	}
	return p, nil
}

// listPrices lists prices, newest first; lookupKeys, when given, filters by lookup key.
func listPrices(ctx context.Context, q querier, lookupKeys []string) ([]*price, error) {
	query := `SELECT ` + priceColumns + ` FROM prices`
	var args []any
	if len(lookupKeys) > 0 {
		query += ` WHERE lookup_key IN (?` + repeatString(",?", len(lookupKeys)-1) + `)`
		for _, k := range lookupKeys {
			args = append(args, k)
		}
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY created DESC, rowid DESC LIMIT 100`, args...)
	if err != nil {
		return nil, fmt.Errorf("list prices: %w", err)
	}
	defer rows.Close()
	var out []*price
	for rows.Next() {
		p, err := scanPrice(rows)
		if err != nil {
			return nil, fmt.Errorf("list prices: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func repeatString(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}

func insertPrice(t *txn, p *price) error {
	var lookup any
	if p.LookupKey != "" {
		lookup = p.LookupKey
	}
	_, err := t.ExecContext(t.ctx, `INSERT INTO prices (id, created, product, product_name, unit_amount, currency, interval, lookup_key, active, metadata)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, p.ID, p.Created, p.Product, p.ProductName, p.UnitAmount, p.Currency, p.Interval, lookup, p.Active, jsonText(p.Metadata))
	if err != nil {
		return fmt.Errorf("insert price: %w", err)
	}
	return nil
}

const subscriptionColumns = `id, created, customer, price, item_id, status, period_start, period_end, cancel_at_period_end,
	canceled_at, latest_invoice, metadata`

func scanSubscription(row rowScanner) (*subscription, error) {
	var s subscription
	var meta string
	err := row.Scan(&s.ID, &s.Created, &s.Customer, &s.Price, &s.ItemID, &s.Status, &s.PeriodStart, &s.PeriodEnd,
		&s.CancelAtPeriodEnd, &s.CanceledAt, &s.LatestInvoice, &meta)
	if err != nil {
		return nil, err
	}
	s.Metadata = readJSONMap(meta)
	return &s, nil
}

func loadSubscription(ctx context.Context, q querier, id string) (*subscription, error) {
	sub, err := scanSubscription(q.QueryRowContext(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoBillingObject
	}
	if err != nil {
		return nil, fmt.Errorf("load subscription %s: %w", id, err)
	}
	return sub, nil
}

// subscriptionsWhere lists subscriptions, newest first, matching a condition on one column.
func subscriptionsWhere(ctx context.Context, q querier, cond string, args ...any) ([]*subscription, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions WHERE `+cond+` ORDER BY created DESC, rowid DESC LIMIT 100`, args...)
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	defer rows.Close()
	var out []*subscription
	for rows.Next() {
		sub, err := scanSubscription(rows)
		if err != nil {
			return nil, fmt.Errorf("list subscriptions: %w", err)
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

func saveSubscription(t *txn, sub *subscription) error {
	_, err := t.ExecContext(t.ctx, `INSERT INTO subscriptions (`+subscriptionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET price = excluded.price, status = excluded.status, period_start = excluded.period_start,
		period_end = excluded.period_end, cancel_at_period_end = excluded.cancel_at_period_end, canceled_at = excluded.canceled_at,
		latest_invoice = excluded.latest_invoice`,
		sub.ID, sub.Created, sub.Customer, sub.Price, sub.ItemID, sub.Status, sub.PeriodStart, sub.PeriodEnd,
		sub.CancelAtPeriodEnd, sub.CanceledAt, sub.LatestInvoice, jsonText(sub.Metadata))
	if err != nil {
		return fmt.Errorf("save subscription %s: %w", sub.ID, err)
	}
	return nil
}

const invoiceColumns = `id, created, customer, subscription, status, amount, currency, period_start, period_end, attempt_count, billing_reason, price`

func loadInvoice(ctx context.Context, q querier, id string) (*invoice, error) {
	var in invoice
	err := q.QueryRowContext(ctx, `SELECT `+invoiceColumns+` FROM invoices WHERE id = ?`, id).
		Scan(&in.ID, &in.Created, &in.Customer, &in.Subscription, &in.Status, &in.Amount, &in.Currency, &in.PeriodStart,
			&in.PeriodEnd, &in.AttemptCount, &in.BillingReason, &in.Price)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoBillingObject
	}
	if err != nil {
		return nil, fmt.Errorf("load invoice %s: %w", id, err)
	}
	return &in, nil
}

func saveInvoice(t *txn, in *invoice) error {
	_, err := t.ExecContext(t.ctx, `INSERT INTO invoices (`+invoiceColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET status = excluded.status, attempt_count = excluded.attempt_count`,
		in.ID, in.Created, in.Customer, in.Subscription, in.Status, in.Amount, in.Currency, in.PeriodStart, in.PeriodEnd,
		in.AttemptCount, in.BillingReason, in.Price)
	if err != nil {
		return fmt.Errorf("save invoice %s: %w", in.ID, err)
	}
	return nil
}

func loadCheckoutSubscription(ctx context.Context, q querier, sessionID string) (*checkoutSubscription, error) {
	var cs checkoutSubscription
	var meta string
	err := q.QueryRowContext(ctx, `SELECT customer, price, metadata, subscription FROM checkout_subscriptions WHERE session_id = ?`, sessionID).
		Scan(&cs.Customer, &cs.Price, &meta, &cs.Subscription)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load subscription checkout %s: %w", sessionID, err)
	}
	cs.Metadata = readJSONMap(meta)
	return &cs, nil
}

func saveCheckoutSubscription(t *txn, sessionID string, cs *checkoutSubscription) error {
	_, err := t.ExecContext(t.ctx, `INSERT INTO checkout_subscriptions (session_id, customer, price, metadata, subscription)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (session_id) DO UPDATE SET subscription = excluded.subscription`,
		sessionID, cs.Customer, cs.Price, jsonText(cs.Metadata), cs.Subscription)
	if err != nil {
		return fmt.Errorf("save subscription checkout %s: %w", sessionID, err)
	}
	return nil
}
