package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
)

// Event is a verified Stripe event, reduced to the fields that are stable across API versions.
type Event struct {
	ID         string
	Type       string
	APIVersion string
	Created    int64
	Payload    []byte
	Object     EventObject
}

// EventObject holds the fields of data.object the shop reads: a Checkout Session's, or a charge's.
type EventObject struct {
	ID                string
	Status            string
	PaymentStatus     string
	AmountTotal       int64
	Currency          string
	ClientReferenceID string
	OrderID           string // metadata[order_id]
	PaymentIntent     string
	CustomerEmail     string
	AmountRefunded    int64 // charges
	Refunded          bool  // charges: fully refunded
}

// Outcome says what an event did; it is stored with the event.
type Outcome string

// Event outcomes.
const (
	OutcomeApplied     Outcome = "applied"      // the order moved to a new status
	OutcomeStale       Outcome = "stale"        // the order is already past what the event says
	OutcomeNeedsReview Outcome = "needs_review" // the event did not match the order
	OutcomeUnmatched   Outcome = "unmatched"    // no order matches the event
	OutcomeRecorded    Outcome = "recorded"     // stored; this type changes nothing
	OutcomeDuplicate   Outcome = "duplicate"    // seen before; nothing done
)

// EventResult reports what applying an event did. Order is set when an order's status changed.
type EventResult struct {
	Outcome Outcome
	Reason  string // why, for logs, when the outcome is needs_review or unmatched
	Order   *Order // the order after the change
	From    Status // its status before
}

// maxEventBatch bounds how many events share one commit.
const maxEventBatch = 256

// ErrClosed means the database was closed.
var ErrClosed = errors.New("database closed")

type applyRequest struct {
	ev   Event
	done chan applyResult
}

type applyResult struct {
	res EventResult
	err error
}

// ApplyEvent stores a Stripe event and applies its effect exactly once: an event id seen before
// changes nothing and reports OutcomeDuplicate. It returns only after the effect is committed
// and synced to disk.
//
// Events are committed in groups: one goroutine takes every event waiting, applies each in its
// own savepoint (so one failing event does not take the others with it) within a single
// BEGIN IMMEDIATE transaction, and commits once. Under load this shares one disk sync among
// many webhooks; alone, an event commits at once.
func (db *DB) ApplyEvent(ctx context.Context, ev Event) (EventResult, error) {
	req := applyRequest{ev: ev, done: make(chan applyResult, 1)}
	select {
	case <-db.closed:
		return EventResult{}, fmt.Errorf("apply event %s: %w", ev.ID, ErrClosed)
	default:
	}
	select {
	case db.events <- req:
	case <-db.closed:
		return EventResult{}, fmt.Errorf("apply event %s: %w", ev.ID, ErrClosed)
	case <-ctx.Done():
		return EventResult{}, fmt.Errorf("apply event %s: %w", ev.ID, ctx.Err())
	}
	result := func(r applyResult) (EventResult, error) {
		if r.err != nil {
			return EventResult{}, fmt.Errorf("apply event %s: %w", ev.ID, r.err)
		}
		return r.res, nil
	}
	select {
	case r := <-req.done:
		return result(r)
	case <-db.stopped:
		// The committer has exited: it answered this request before leaving, or never saw it.
		select {
		case r := <-req.done:
			return result(r)
		default:
			return EventResult{}, fmt.Errorf("apply event %s: %w", ev.ID, ErrClosed)
		}
	case <-ctx.Done():
		// The event may still commit; Stripe's retry will then find it a duplicate.
		return EventResult{}, fmt.Errorf("apply event %s: %w", ev.ID, ctx.Err())
	}
}

// commitEvents is the committer goroutine: it applies waiting events in groups until Close.
func (db *DB) commitEvents() {
	defer db.wg.Done()
	defer close(db.stopped)
	batch := make([]applyRequest, 0, maxEventBatch)
	for {
		select {
		case req := <-db.events:
			batch = append(batch[:0], req)
		case <-db.closed:
			for {
				select {
				case req := <-db.events:
					req.done <- applyResult{err: ErrClosed}
				default:
					return
				}
			}
		}
	gather:
		for len(batch) < maxEventBatch {
			select {
			case req := <-db.events:
				batch = append(batch, req)
			default:
				break gather
			}
		}
		db.applyBatch(batch)
	}
}

func (db *DB) applyBatch(batch []applyRequest) {
	ctx := context.Background()
	results := make([]applyResult, len(batch))
	err := db.inTx(ctx, func(tx *wtx) error {
		for i, req := range batch {
			if _, err := tx.tx.ExecContext(ctx, "SAVEPOINT event"); err != nil {
				return err
			}
			res, err := db.applyOne(ctx, tx, req.ev)
			if err != nil {
				if _, rerr := tx.tx.ExecContext(ctx, "ROLLBACK TO event"); rerr != nil {
					return rerr
				}
				results[i].err = err
			} else {
				results[i].res = res
			}
			if _, err := tx.tx.ExecContext(ctx, "RELEASE event"); err != nil {
				return err
			}
		}
		return nil
	})
	for i, req := range batch {
		if err != nil {
			results[i] = applyResult{err: err}
		}
		req.done <- results[i]
	}
}

// applyOne stores one event and applies its effect inside the committer's transaction.
func (db *DB) applyOne(ctx context.Context, tx *wtx, ev Event) (EventResult, error) {
	now := db.now()
	r, err := tx.ExecContext(ctx, `INSERT INTO stripe_events (id, type, api_version, created, object_id, payment_intent, refunded, payload, received_at)
		VALUES (?, ?, ?, ?, ?, nullif(?, ''), ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		ev.ID, ev.Type, ev.APIVersion, ev.Created, ev.Object.ID, ev.Object.PaymentIntent, ev.Object.Refunded, ev.Payload, now)
	if err != nil {
		return EventResult{}, fmt.Errorf("store event: %w", err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return EventResult{Outcome: OutcomeDuplicate}, nil
	}
	res, err := db.apply(ctx, tx, ev)
	if err != nil {
		return EventResult{}, err
	}
	var orderID any
	if res.Order != nil {
		orderID = res.Order.ID
	}
	_, err = tx.ExecContext(ctx, "UPDATE stripe_events SET processed_at = ?, outcome = ?, order_id = coalesce(?, order_id) WHERE id = ?",
		now, string(res.Outcome), orderID, ev.ID)
	if err != nil {
		return EventResult{}, fmt.Errorf("record event outcome: %w", err)
	}
	return res, nil
}

func (db *DB) apply(ctx context.Context, tx *wtx, ev Event) (EventResult, error) {
	obj := ev.Object
	switch ev.Type {
	case "checkout.session.completed":
		to := StatusProcessing
		if obj.PaymentStatus == "paid" || obj.PaymentStatus == "no_payment_required" {
			to = StatusPaid
		}
		return db.settleSession(ctx, tx, ev, to, true)
	case "checkout.session.async_payment_succeeded":
		return db.settleSession(ctx, tx, ev, StatusPaid, true)
	case "checkout.session.async_payment_failed":
		return db.settleSession(ctx, tx, ev, StatusFailed, false)
	case "checkout.session.expired":
		return db.settleSession(ctx, tx, ev, StatusExpired, false)
	case "charge.refunded":
		return db.refund(ctx, tx, ev)
	}
	return EventResult{Outcome: OutcomeRecorded}, nil
}

// settleSession moves the order of a Checkout Session to status to. A confirming event must
// match the order (amount, currency, and the user for a user's order), else the order needs review.
func (db *DB) settleSession(ctx context.Context, tx *wtx, ev Event, to Status, confirms bool) (EventResult, error) {
	obj := ev.Object
	o, err := db.orderWhere(ctx, tx, "checkout_session_id = ?", obj.ID)
	if errors.Is(err, ErrNotFound) && obj.OrderID != "" {
		// The session was created but the shop stopped before saving its id on the order:
		// metadata[order_id] still leads to it, and the payment is not lost.
		o, err = db.orderWhere(ctx, tx, "id = ? AND checkout_session_id IS NULL", obj.OrderID)
		if err == nil {
			if _, err := tx.ExecContext(ctx, "UPDATE orders SET checkout_session_id = ? WHERE id = ?", obj.ID, o.ID); err != nil {
				return EventResult{}, fmt.Errorf("attach session from event: %w", err)
			}
			o.CheckoutSessionID = obj.ID
		}
	}
	if errors.Is(err, ErrNotFound) {
		return EventResult{Outcome: OutcomeUnmatched, Reason: "no order has checkout session " + obj.ID}, nil
	}
	if err != nil {
		return EventResult{}, err
	}
	if confirms {
		if reason := mismatch(o, obj); reason != "" {
			return db.move(ctx, tx, o, StatusNeedsReview, OutcomeNeedsReview, reason, obj)
		}
	}
	return db.move(ctx, tx, o, to, OutcomeApplied, "", obj)
}

// mismatch explains why a confirmation does not belong to the order, or returns "".
func mismatch(o Order, obj EventObject) string {
	if obj.AmountTotal != o.AmountTotal || obj.Currency != o.Currency {
		return fmt.Sprintf("event amount %d %s, order amount %d %s", obj.AmountTotal, obj.Currency, o.AmountTotal, o.Currency)
	}
	if o.UserID != 0 && obj.ClientReferenceID != strconv.FormatInt(o.UserID, 10) {
		return fmt.Sprintf("event client_reference_id %q, order user %d", obj.ClientReferenceID, o.UserID)
	}
	return ""
}

// move changes the order's status if the step is allowed; on paid it records the payment and
// takes what was bought out of the shopper's cart.
func (db *DB) move(ctx context.Context, tx *wtx, o Order, to Status, outcome Outcome, reason string, obj EventObject) (EventResult, error) {
	if !o.Status.CanMoveTo(to) {
		return EventResult{Outcome: OutcomeStale, Reason: fmt.Sprintf("order %d is %s, not moving to %s", o.ID, o.Status, to)}, nil
	}
	now := db.Now()
	from := o.Status
	o.Status, o.UpdatedAt = to, now
	if obj.PaymentIntent != "" && o.PaymentIntent == "" {
		o.PaymentIntent = obj.PaymentIntent
	}
	if obj.CustomerEmail != "" && o.CustomerEmail == "" {
		o.CustomerEmail = obj.CustomerEmail
	}
	var paidAt any
	if to == StatusPaid {
		o.PaidAt = now
		paidAt = formatTime(now)
	}
	_, err := tx.ExecContext(ctx, `UPDATE orders SET status = ?, updated_at = ?, paid_at = coalesce(?, paid_at),
		payment_intent = nullif(?, ''), customer_email = nullif(?, '') WHERE id = ?`,
		to, formatTime(now), paidAt, o.PaymentIntent, o.CustomerEmail, o.ID)
	if err != nil {
		return EventResult{}, fmt.Errorf("update order %d: %w", o.ID, err)
	}
	if to == StatusPaid {
		if err := removeBought(ctx, tx, o); err != nil {
			return EventResult{}, err
		}
		// A refund that arrived before this confirmation was kept aside; apply it now.
		if o.PaymentIntent != "" {
			r, err := tx.ExecContext(ctx, `UPDATE stripe_events SET outcome = 'applied', order_id = ? WHERE outcome = 'unmatched'
				AND payment_intent = ? AND type = 'charge.refunded' AND refunded`,
				o.ID, o.PaymentIntent)
			if err != nil {
				return EventResult{}, fmt.Errorf("look for early refund: %w", err)
			}
			if n, _ := r.RowsAffected(); n > 0 {
				if _, err := tx.ExecContext(ctx, "UPDATE orders SET status = 'refunded' WHERE id = ?", o.ID); err != nil {
					return EventResult{}, fmt.Errorf("apply early refund: %w", err)
				}
				o.Status = StatusRefunded
			}
		}
	}
	return EventResult{Outcome: outcome, Reason: reason, Order: &o, From: from}, nil
}

// removeBought takes the order's items out of the cart it came from, leaving anything added since.
func removeBought(ctx context.Context, tx *wtx, o Order) error {
	if o.CartID == 0 {
		return nil
	}
	for _, it := range o.Items {
		_, err := tx.ExecContext(ctx, "DELETE FROM cart_items WHERE cart_id = ? AND product_id = ? AND quantity <= ?",
			o.CartID, it.ProductID, it.Quantity)
		if err != nil {
			return fmt.Errorf("empty cart: %w", err)
		}
		_, err = tx.ExecContext(ctx, "UPDATE cart_items SET quantity = quantity - ? WHERE cart_id = ? AND product_id = ?",
			it.Quantity, o.CartID, it.ProductID)
		if err != nil {
			return fmt.Errorf("empty cart: %w", err)
		}
	}
	return nil
}

// refund marks the order of a fully refunded charge as refunded. A partial refund is recorded only.
func (db *DB) refund(ctx context.Context, tx *wtx, ev Event) (EventResult, error) {
	obj := ev.Object
	if obj.PaymentIntent == "" {
		return EventResult{Outcome: OutcomeUnmatched, Reason: "charge has no payment_intent"}, nil
	}
	o, err := db.orderWhere(ctx, tx, "payment_intent = ?", obj.PaymentIntent)
	if errors.Is(err, ErrNotFound) {
		return EventResult{Outcome: OutcomeUnmatched, Reason: "no order has payment_intent " + obj.PaymentIntent}, nil
	}
	if err != nil {
		return EventResult{}, err
	}
	if !obj.Refunded {
		return EventResult{Outcome: OutcomeRecorded, Reason: fmt.Sprintf("partial refund of %d", obj.AmountRefunded)}, nil
	}
	return db.move(ctx, tx, o, StatusRefunded, OutcomeApplied, "", obj)
}
