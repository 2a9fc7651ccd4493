package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// applyMembership keeps what an event says about a subscription and its invoices.
//
// Events arrive late, twice and out of order, so a snapshot is applied only if it is newer than
// the one kept. Newer means, in this order:
//
//  1. canceled is final: nothing follows it, and it follows anything;
//  2. a later current-period end (a renewal happened since);
//  3. a later created time of the event (the provider's clock, in seconds);
//  4. within one second, the status later in the order a period passes through:
//     incomplete → active → past_due → unpaid; with the same status too, the later arrival
//     (a cancel and a resume in one second cannot be told apart otherwise).
//
// Rule 4 can guess wrong when a failed renewal is fixed within the same second as it failed;
// invoices settle that: a period whose invoice is paid reads as active (effectiveStatus),
// whichever of its snapshots was kept. A completed checkout has no period (0), so any
// snapshot of the subscription itself is newer; it only says which user and plan, and whether
// the first invoice was paid.
func (db *DB) applyMembership(ctx context.Context, tx *writeTx, ch Change) (EventResult, error) {
	mc := ch.Membership
	if mc == nil || (mc.Subscription == nil && mc.Invoice == nil) {
		return EventResult{Outcome: OutcomeRecorded, Reason: "the event names no subscription"}, nil
	}
	userID, err := userForCustomer(ctx, tx, mc)
	if err != nil {
		return EventResult{}, fmt.Errorf("find member: %w", err)
	}
	outcome, reason := OutcomeStale, ""
	if s := mc.Subscription; s != nil {
		applied, why, err := db.keepSubscription(ctx, tx, userID, mc.Customer, *s)
		if err != nil {
			return EventResult{}, err
		}
		if applied {
			outcome = OutcomeApplied
		}
		reason = why
	}
	if in := mc.Invoice; in != nil {
		applied, err := db.keepInvoice(ctx, tx, userID, *in)
		if err != nil {
			return EventResult{}, err
		}
		if applied {
			outcome = OutcomeApplied
		}
		if applied && !in.Paid && in.Renewal && userID != 0 {
			if err := db.queueRenewalFailed(ctx, tx, userID, *in); err != nil {
				return EventResult{}, err
			}
		}
	}
	if userID == 0 {
		// Kept all the same: the subscription is the provider's fact, and is shown once its
		// customer is known to belong to someone.
		return EventResult{Outcome: OutcomeUnmatched, Reason: "no user has customer " + mc.Customer}, nil
	}
	m, err := membershipWithInvoices(ctx, tx, userID)
	if err != nil {
		return EventResult{}, err
	}
	if m.Manageable() {
		// The checkout that started it is done with: joining again later starts afresh.
		if _, err := tx.ExecContext(ctx, "DELETE FROM membership_checkouts WHERE user_id = ?", userID); err != nil {
			return EventResult{}, fmt.Errorf("close membership checkout: %w", err)
		}
	}
	return EventResult{Outcome: outcome, Reason: reason, Membership: &m}, nil
}

// keepSubscription stores the snapshot if it is newer than the one kept (see applyMembership).
func (db *DB) keepSubscription(ctx context.Context, tx *writeTx, userID int64, customer string, s SubscriptionSnapshot) (bool, string, error) {
	if !s.Status.Valid() {
		return false, "", fmt.Errorf("subscription %s: unknown status %q", s.ID, s.Status)
	}
	var (
		old             SubscriptionSnapshot
		oldRank         int
		oldPlan         string
		oldCheckoutPaid bool
		oldUser         sql.NullInt64
	)
	var paidThrough sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT status, current_period_end, version_created, plan, checkout_paid, user_id,
			(SELECT max(period_end) FROM invoices i WHERE i.subscription_id = s.id AND i.status = 'paid')
		FROM subscriptions s WHERE id = ?`, s.ID).Scan(&old.Status, &old.CurrentPeriodEnd, &old.Seen, &oldPlan, &oldCheckoutPaid, &oldUser, &paidThrough)
	// The kept snapshot ranks as the member sees it: a past-due period whose invoice is paid
	// is active, so an active snapshot of the same second (a cancel just after the card was
	// fixed) is not refused as older.
	oldRank = effectiveStatus(old.Status, old.CurrentPeriodEnd, paidThrough.Int64, oldCheckoutPaid).rank()
	now := db.now()
	var user any
	if userID != 0 {
		user = userID
	}
	if errors.Is(err, sql.ErrNoRows) {
		plan := s.Plan
		if plan == "" {
			plan = "monthly"
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO subscriptions (id, user_id, customer_id, plan, status, current_period_end,
			cancel_at_period_end, checkout_paid, version_created, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			s.ID, user, customer, plan, s.Status, s.CurrentPeriodEnd, s.CancelAtPeriodEnd, s.CheckoutPaid, s.Seen, now, now)
		if err != nil {
			return false, "", fmt.Errorf("store subscription %s: %w", s.ID, err)
		}
		return true, "", nil
	}
	if err != nil {
		return false, "", fmt.Errorf("get subscription %s: %w", s.ID, err)
	}
	// A checkout's word about who, which plan and whether it was paid holds whatever its age.
	if _, err := tx.ExecContext(ctx, `UPDATE subscriptions SET user_id = coalesce(user_id, ?), checkout_paid = CASE WHEN ? = 1 THEN 1 ELSE checkout_paid END
		WHERE id = ?`, user, s.CheckoutPaid, s.ID); err != nil {
		return false, "", fmt.Errorf("update subscription %s: %w", s.ID, err)
	}
	if !newerSnapshot(s, old, oldRank) {
		return false, fmt.Sprintf("subscription %s already has a newer state (%s)", s.ID, old.Status), nil
	}
	plan := s.Plan
	if plan == "" {
		plan = oldPlan
	}
	_, err = tx.ExecContext(ctx, `UPDATE subscriptions SET plan = ?, status = ?, current_period_end = ?, cancel_at_period_end = ?,
		version_created = ?, updated_at = ? WHERE id = ?`,
		plan, s.Status, s.CurrentPeriodEnd, s.CancelAtPeriodEnd, s.Seen, now, s.ID)
	if err != nil {
		return false, "", fmt.Errorf("update subscription %s: %w", s.ID, err)
	}
	return true, "", nil
}

// newerSnapshot reports whether s is newer than the kept snapshot old (see applyMembership).
func newerSnapshot(s, old SubscriptionSnapshot, oldRank int) bool {
	switch {
	case old.Status == SubCanceled:
		return false
	case s.Status == SubCanceled:
		return true
	case s.CurrentPeriodEnd != old.CurrentPeriodEnd:
		return s.CurrentPeriodEnd > old.CurrentPeriodEnd
	case s.Seen != old.Seen:
		return s.Seen > old.Seen
	}
	// Same period, same second, same status (a cancel at period end, a resume, a plan switch):
	// nothing in the object orders the two, so the later arrival wins, as the provider most
	// often sends them.
	return s.Status.rank() >= oldRank
}

// keepInvoice stores an invoice's outcome: paid is final, and otherwise the later attempt wins.
func (db *DB) keepInvoice(ctx context.Context, tx *writeTx, userID int64, in InvoiceSnapshot) (bool, error) {
	status := "failed"
	if in.Paid {
		status = "paid"
	}
	var user any
	if userID != 0 {
		user = userID
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO invoices (id, subscription_id, user_id, status, amount, currency, period_end,
			attempt_count, event_created, hosted_url, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET status = excluded.status, attempt_count = excluded.attempt_count,
			event_created = excluded.event_created, amount = excluded.amount, user_id = coalesce(invoices.user_id, excluded.user_id)
		WHERE invoices.status <> 'paid' AND (excluded.status = 'paid' OR excluded.attempt_count > invoices.attempt_count
			OR (excluded.attempt_count = invoices.attempt_count AND excluded.event_created > invoices.event_created))`,
		in.ID, in.SubscriptionID, user, status, in.Amount, in.Currency, in.PeriodEnd, in.AttemptCount, in.Seen, in.HostedURL, in.Created)
	if err != nil {
		return false, fmt.Errorf("store invoice %s: %w", in.ID, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// queueRenewalFailed queues the mail telling a member their renewal failed, once per invoice.
func (db *DB) queueRenewalFailed(ctx context.Context, tx *writeTx, userID int64, in InvoiceSnapshot) error {
	var email string
	if err := tx.QueryRowContext(ctx, "SELECT email FROM users WHERE id = ?", userID).Scan(&email); err != nil {
		return fmt.Errorf("find member's email: %w", err)
	}
	invoice := &Invoice{ID: in.ID, Amount: in.Amount, Currency: in.Currency, HostedURL: in.HostedURL,
		PeriodEnd: unixTime(in.PeriodEnd), Created: unixTime(in.Created)}
	return db.queueMail(ctx, tx, "renewal_failed:"+in.ID, OutboxMail{Kind: MailRenewalFailed, To: email,
		Data: MailData{Invoice: invoice}})
}

// MailRenewalFailed tells a member a renewal payment failed, with a link to fix their card.
const MailRenewalFailed MailKind = "renewal_failed"

func unixTime(sec int64) time.Time { return time.Unix(sec, 0).UTC() }
