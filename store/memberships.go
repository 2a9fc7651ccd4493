package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// SubscriptionStatus is where a membership stands, as the payment provider reports it.
type SubscriptionStatus string

// The subscription statuses.
const (
	SubIncomplete SubscriptionStatus = "incomplete" // the first payment has not gone through yet
	SubActive     SubscriptionStatus = "active"
	SubPastDue    SubscriptionStatus = "past_due" // a renewal failed; the provider is retrying
	SubUnpaid     SubscriptionStatus = "unpaid"   // retries ran out; the member must fix the card
	SubCanceled   SubscriptionStatus = "canceled" // over for good
)

// rank orders statuses within one billing period and one second of the provider's clock: the
// order a subscription passes through them. canceled is final whatever the clock says.
func (s SubscriptionStatus) rank() int {
	switch s {
	case SubActive:
		return 1
	case SubPastDue:
		return 2
	case SubUnpaid:
		return 3
	case SubCanceled:
		return 4
	}
	return 0
}

// Valid reports whether s is one of the statuses the shop knows.
func (s SubscriptionStatus) Valid() bool {
	switch s {
	case SubIncomplete, SubActive, SubPastDue, SubUnpaid, SubCanceled:
		return true
	}
	return false
}

// Plan is one price of the membership.
type Plan struct {
	Code            string // "monthly" or "yearly"
	Name            string
	Interval        string // "month" or "year"
	Amount          int64
	Currency        string
	DiscountPercent int
}

// Membership is a user's current subscription, or the zero value when there is none.
type Membership struct {
	UserID         int64
	SubscriptionID string
	Plan           Plan
	// Status is what the member sees: the newest snapshot's status, except that a period
	// whose invoice is paid is active whatever a late or same-second snapshot says.
	Status            SubscriptionStatus
	CurrentPeriodEnd  time.Time
	CancelAtPeriodEnd bool
	Invoices          []Invoice // newest first
}

// Exists reports whether the user has ever subscribed.
func (m Membership) Exists() bool { return m.SubscriptionID != "" }

// Member reports whether the user enjoys the membership's perks now: while active, and while
// the provider retries a failed renewal.
func (m Membership) Member() bool { return m.Status == SubActive || m.Status == SubPastDue }

// Manageable reports whether the user has a subscription to manage rather than start: a
// second one would bill them twice.
func (m Membership) Manageable() bool {
	return m.Status == SubActive || m.Status == SubPastDue || m.Status == SubUnpaid
}

// Invoice is one bill of a subscription.
type Invoice struct {
	ID        string
	Paid      bool
	Amount    int64
	Currency  string
	PeriodEnd time.Time
	Created   time.Time
	HostedURL string
}

// Discounted is a unit price after a discount of percent, rounded to the nearest minor unit.
func Discounted(price int64, percent int) int64 {
	if percent <= 0 {
		return price
	}
	return (price*int64(100-percent) + 50) / 100
}

// Plans lists the membership's plans, monthly first.
func (db *DB) Plans(ctx context.Context) ([]Plan, error) {
	rows, err := db.readStmts.QueryContext(ctx, "SELECT "+planColumns+" FROM plans ORDER BY amount")
	if err != nil {
		return nil, fmt.Errorf("list plans: %w", err)
	}
	defer rows.Close()
	var out []Plan
	for rows.Next() {
		var p Plan
		if err := rows.Scan(&p.Code, &p.Name, &p.Interval, &p.Amount, &p.Currency, &p.DiscountPercent); err != nil {
			return nil, fmt.Errorf("list plans: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// PlanByCode finds a plan; an unknown code gives ErrNotFound.
func (db *DB) PlanByCode(ctx context.Context, code string) (Plan, error) {
	var p Plan
	err := db.readStmts.QueryRowContext(ctx, "SELECT "+planColumns+" FROM plans WHERE code = ?", code).
		Scan(&p.Code, &p.Name, &p.Interval, &p.Amount, &p.Currency, &p.DiscountPercent)
	if errors.Is(err, sql.ErrNoRows) {
		return Plan{}, ErrNotFound
	}
	if err != nil {
		return Plan{}, fmt.Errorf("get plan: %w", err)
	}
	return p, nil
}

const planColumns = "code, name, billing_interval, amount, currency, discount_percent"

// MembershipOf returns the user's current subscription (the newest that is not canceled, else
// the newest), with its invoices; the zero Membership when the user never subscribed.
func (db *DB) MembershipOf(ctx context.Context, userID int64) (Membership, error) {
	return membershipWithInvoices(ctx, db.readStmts, userID)
}

// membershipWithInvoices reads the user's current subscription and its invoices.
func membershipWithInvoices(ctx context.Context, q querier, userID int64) (Membership, error) {
	m, err := membershipOf(ctx, q, userID)
	if err != nil || !m.Exists() {
		return m, err
	}
	rows, err := q.QueryContext(ctx, `SELECT id, status = 'paid', amount, currency, period_end, created, hosted_url
		FROM invoices WHERE subscription_id = ? ORDER BY created DESC, period_end DESC LIMIT 24`, m.SubscriptionID)
	if err != nil {
		return Membership{}, fmt.Errorf("list invoices: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var in Invoice
		var periodEnd, created int64
		if err := rows.Scan(&in.ID, &in.Paid, &in.Amount, &in.Currency, &periodEnd, &created, &in.HostedURL); err != nil {
			return Membership{}, fmt.Errorf("list invoices: %w", err)
		}
		in.PeriodEnd, in.Created = unixTime(periodEnd), unixTime(created)
		m.Invoices = append(m.Invoices, in)
	}
	return m, rows.Err()
}

// membershipOf reads the user's current subscription without its invoices.
func membershipOf(ctx context.Context, q querier, userID int64) (Membership, error) {
	m := Membership{UserID: userID}
	var periodEnd int64
	var checkoutPaid bool
	var paidThrough sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT s.id, s.status, s.current_period_end, s.cancel_at_period_end, s.checkout_paid,
			(SELECT max(period_end) FROM invoices i WHERE i.subscription_id = s.id AND i.status = 'paid'),
			p.code, p.name, p.billing_interval, p.amount, p.currency, p.discount_percent
		FROM subscriptions s JOIN plans p ON p.code = s.plan
		WHERE s.user_id = ? ORDER BY s.status = 'canceled', s.version_created DESC, s.created_at DESC LIMIT 1`, userID).
		Scan(&m.SubscriptionID, &m.Status, &periodEnd, &m.CancelAtPeriodEnd, &checkoutPaid, &paidThrough,
			&m.Plan.Code, &m.Plan.Name, &m.Plan.Interval, &m.Plan.Amount, &m.Plan.Currency, &m.Plan.DiscountPercent)
	if errors.Is(err, sql.ErrNoRows) {
		return Membership{UserID: userID}, nil
	}
	if err != nil {
		return Membership{}, fmt.Errorf("get membership: %w", err)
	}
	if periodEnd > 0 {
		m.CurrentPeriodEnd = time.Unix(periodEnd, 0).UTC()
	}
	m.Status = effectiveStatus(m.Status, periodEnd, paidThrough.Int64, checkoutPaid)
	return m, nil
}

// effectiveStatus is the status a member sees. Snapshots of one period taken in the same
// second cannot be ordered by the clock, and events arrive in any order; but a subscription
// whose current period is paid for is active (that is what paying the invoice does on the
// provider's side), and one whose checkout was paid is past incomplete.
func effectiveStatus(s SubscriptionStatus, periodEnd, paidThrough int64, checkoutPaid bool) SubscriptionStatus {
	switch {
	case s == SubCanceled || s == SubActive:
		return s
	case s == SubIncomplete && checkoutPaid:
		return SubActive
	case periodEnd > 0 && paidThrough >= periodEnd:
		return SubActive
	}
	return s
}

// memberDiscount is the discount the user's orders get now, in percent (0 for non-members).
func memberDiscount(ctx context.Context, q querier, userID int64) (int, error) {
	if userID == 0 {
		return 0, nil
	}
	m, err := membershipOf(ctx, q, userID)
	if err != nil || !m.Member() {
		return 0, err
	}
	return m.Plan.DiscountPercent, nil
}

// MemberDiscount is the discount the user's orders get now, in percent (0 for non-members).
func (db *DB) MemberDiscount(ctx context.Context, userID int64) (int, error) {
	return recent(ctx, db, "member discount:"+strconv.FormatInt(userID, 10), func(ctx context.Context) (int, error) {
		return memberDiscount(ctx, db.readStmts, userID)
	})
}

// CustomerReservation is a user's provider customer, or the reservation to create one under.
type CustomerReservation struct {
	UserID     int64
	CustomerID string // "" until the provider has created it
	ReservedAt time.Time
}

// IdempotencyKey is the key for creating the user's customer: every attempt, concurrent or
// retried, sends the same one, so the provider creates one customer.
func (c CustomerReservation) IdempotencyKey() string {
	return fmt.Sprintf("storefront-customer-%d-%d", c.UserID, c.ReservedAt.UnixMilli())
}

// ReserveCustomer returns the user's customer, reserving the row first if there is none yet.
func (db *DB) ReserveCustomer(ctx context.Context, userID int64) (CustomerReservation, error) {
	c := CustomerReservation{UserID: userID}
	err := db.inTx(ctx, func(tx *writeTx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO customers (user_id, reserved_at) VALUES (?, ?) ON CONFLICT (user_id) DO NOTHING",
			userID, db.now()); err != nil {
			return err
		}
		var id sql.NullString
		var at string
		if err := tx.QueryRowContext(ctx, "SELECT customer_id, reserved_at FROM customers WHERE user_id = ?", userID).Scan(&id, &at); err != nil {
			return err
		}
		c.CustomerID, c.ReservedAt = id.String, parseTime(at)
		return nil
	})
	if err != nil {
		return CustomerReservation{}, fmt.Errorf("reserve customer: %w", err)
	}
	return c, nil
}

// SetCustomer records the customer the provider created for the user. A second, concurrent
// creation under the same key gets the same id; a different one gives ErrConflict.
func (db *DB) SetCustomer(ctx context.Context, userID int64, customerID string) error {
	return db.inTx(ctx, func(tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `UPDATE customers SET customer_id = ? WHERE user_id = ? AND (customer_id IS NULL OR customer_id = ?)`,
			customerID, userID, customerID)
		if err != nil {
			return fmt.Errorf("set customer: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrConflict
		}
		return nil
	})
}

// MembershipCheckout is a user's subscription checkout in progress.
type MembershipCheckout struct {
	UserID    int64
	Plan      string
	Attempt   int64
	SessionID string
	URL       string
	ExpiresAt time.Time
	CreatedAt time.Time
	// Superseded is the session of an earlier checkout (another plan) this one replaces: it
	// should be expired, so that the user cannot pay both.
	Superseded string
}

// IdempotencyKey is the key for creating this checkout's session: requests racing for the
// same checkout send the same one, so the provider makes one session.
func (c MembershipCheckout) IdempotencyKey() string {
	return fmt.Sprintf("storefront-membership-%d-%d-%d", c.UserID, c.Attempt, c.CreatedAt.UnixMilli())
}

// StartMembershipCheckout returns the user's open checkout for plan, or starts a new one (a
// new attempt, whose session is still to be created). A session must stay open a few minutes
// longer to be worth reusing.
func (db *DB) StartMembershipCheckout(ctx context.Context, userID int64, plan string) (MembershipCheckout, error) {
	var c MembershipCheckout
	err := db.inTx(ctx, func(tx *writeTx) error {
		var session, url, expires sql.NullString
		var created string
		err := tx.QueryRowContext(ctx, `SELECT plan, attempt, session_id, url, expires_at, created_at FROM membership_checkouts WHERE user_id = ?`, userID).
			Scan(&c.Plan, &c.Attempt, &session, &url, &expires, &created)
		now := db.Now()
		c.UserID = userID
		switch {
		case errors.Is(err, sql.ErrNoRows):
			c = MembershipCheckout{UserID: userID, Plan: plan, Attempt: 1, CreatedAt: now}
			_, err = tx.ExecContext(ctx, "INSERT INTO membership_checkouts (user_id, plan, attempt, created_at) VALUES (?, ?, 1, ?)",
				userID, plan, formatTime(now))
			return err
		case err != nil:
			return err
		}
		c.SessionID, c.URL, c.ExpiresAt, c.CreatedAt = session.String, url.String, parseNullTime(expires), parseTime(created)
		open := c.SessionID == "" || c.ExpiresAt.After(now.Add(5*time.Minute))
		if c.Plan == plan && open {
			return nil
		}
		if open {
			c.Superseded = c.SessionID
		}
		c = MembershipCheckout{UserID: userID, Plan: plan, Attempt: c.Attempt + 1, CreatedAt: now, Superseded: c.Superseded}
		_, err = tx.ExecContext(ctx, `UPDATE membership_checkouts SET plan = ?, attempt = ?, session_id = NULL, url = NULL,
			expires_at = NULL, created_at = ? WHERE user_id = ?`, plan, c.Attempt, formatTime(now), userID)
		return err
	})
	if err != nil {
		return MembershipCheckout{}, fmt.Errorf("start membership checkout: %w", err)
	}
	return c, nil
}

// AttachMembershipCheckout records the session created for a checkout attempt. It gives
// ErrConflict when the attempt was replaced meanwhile (the user chose another plan).
func (db *DB) AttachMembershipCheckout(ctx context.Context, c MembershipCheckout, sessionID, url string, expiresAt time.Time) error {
	return db.inTx(ctx, func(tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `UPDATE membership_checkouts SET session_id = ?, url = ?, expires_at = ?
			WHERE user_id = ? AND attempt = ? AND (session_id IS NULL OR session_id = ?)`,
			sessionID, url, formatTime(expiresAt), c.UserID, c.Attempt, sessionID)
		if err != nil {
			return fmt.Errorf("attach membership checkout: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrConflict
		}
		return nil
	})
}

// userForCustomer finds the shop's user a membership change is about: by the customer the
// shop created for them, else by the user id the provider carried.
func userForCustomer(ctx context.Context, tx *writeTx, mc *MembershipChange) (int64, error) {
	var userID int64
	err := tx.QueryRowContext(ctx, "SELECT user_id FROM customers WHERE customer_id = ?", mc.Customer).Scan(&userID)
	if err == nil || !errors.Is(err, sql.ErrNoRows) {
		return userID, err
	}
	ref, perr := strconv.ParseInt(mc.UserRef, 10, 64)
	if perr != nil || ref <= 0 {
		return 0, nil
	}
	err = tx.QueryRowContext(ctx, "SELECT id FROM users WHERE id = ?", ref).Scan(&userID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return userID, err
}

// Discounted is the cart with percent off every unit price (each rounded to the minor unit):
// what a member's order is made from.
func (c Cart) Discounted(percent int) Cart {
	if percent <= 0 {
		return c
	}
	lines := make([]CartLine, len(c.Lines))
	for i, l := range c.Lines {
		l.Product.Price = Discounted(l.Product.Price, percent)
		lines[i] = l
	}
	c.Lines = lines
	return c
}

// UpdatePlan changes a plan's name, price and member discount, recording who did it. A new
// price applies to new subscribers (the provider prices each amount separately); running
// subscriptions keep theirs. Bad values give an *InvalidError and change nothing.
func (db *DB) UpdatePlan(ctx context.Context, who Actor, code, name string, amount int64, discount int) (Plan, error) {
	switch {
	case name == "" || len(name) > 80:
		return Plan{}, invalid("Give the plan a name of at most 80 characters.")
	case amount < 50:
		return Plan{}, invalid("A plan costs at least 0.50: the payment provider charges nothing smaller.")
	case amount > 99_999_999:
		return Plan{}, invalid("That price is too large.")
	case discount < 0 || discount > 90:
		return Plan{}, invalid("The member discount is a whole percentage from 0 to 90.")
	}
	err := db.inTx(ctx, func(tx *writeTx) error {
		res, err := tx.ExecContext(ctx, "UPDATE plans SET name = ?, amount = ?, discount_percent = ? WHERE code = ?", name, amount, discount, code)
		if err != nil {
			return fmt.Errorf("update plan: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return db.recordAudit(ctx, tx, who, "plan.update", "plan "+code,
			fmt.Sprintf("%s, %d minor units, %d%% off", name, amount, discount))
	})
	if err != nil {
		return Plan{}, err
	}
	return db.PlanByCode(ctx, code)
}
