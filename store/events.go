package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

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
	// Membership is the member's membership after a membership change, when it names a user.
	Membership *Membership
}

// maxEventBatch bounds how many events share one commit.
const maxEventBatch = 256

// ErrClosed means the database was closed.
var ErrClosed = errors.New("database closed")

type applyRequest struct {
	ch   Change
	done chan applyResult
}

type applyResult struct {
	res EventResult
	err error
}

// ApplyChange records a payment event and applies its change exactly once: an event id seen
// before changes nothing and reports OutcomeDuplicate. It returns only after the effect is
// committed and synced to disk.
//
// Events are committed in groups: one goroutine takes every event waiting, applies each in its
// own savepoint (so one failing event does not take the others with it) within a single
// BEGIN IMMEDIATE transaction, and commits once. Under load this shares one disk sync among
// many webhooks; alone, an event commits at once.
func (db *DB) ApplyChange(ctx context.Context, ch Change) (EventResult, error) {
	id := ch.Event.ID
	req := applyRequest{ch: ch, done: make(chan applyResult, 1)}
	select {
	case <-db.closed:
		return EventResult{}, fmt.Errorf("apply event %s: %w", id, ErrClosed)
	default:
	}
	select {
	case db.events <- req:
	case <-db.closed:
		return EventResult{}, fmt.Errorf("apply event %s: %w", id, ErrClosed)
	case <-ctx.Done():
		return EventResult{}, fmt.Errorf("apply event %s: %w", id, ctx.Err())
	}
	result := func(r applyResult) (EventResult, error) {
		if r.err != nil {
			return EventResult{}, fmt.Errorf("apply event %s: %w", id, r.err)
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
			return EventResult{}, fmt.Errorf("apply event %s: %w", id, ErrClosed)
		}
	case <-ctx.Done():
		// The event may still commit; Stripe's retry will then find it a duplicate.
		return EventResult{}, fmt.Errorf("apply event %s: %w", id, ctx.Err())
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
	err := db.inTx(ctx, func(tx *writeTx) error {
		for i, req := range batch {
			if _, err := tx.ExecContext(ctx, "SAVEPOINT event"); err != nil {
				return err
			}
			res, err := db.applyOne(ctx, tx, req.ch)
			if err != nil {
				if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO event"); rerr != nil {
					return rerr
				}
				results[i].err = err
			} else {
				results[i].res = res
			}
			if _, err := tx.ExecContext(ctx, "RELEASE event"); err != nil {
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

// applyOne records one event and applies its change inside the committer's transaction. The
// event is looked up first and stored after its change, with the outcome, in one write.
func (db *DB) applyOne(ctx context.Context, tx *writeTx, ch Change) (EventResult, error) {
	ev := ch.Event
	if ev.ID == "" {
		return EventResult{}, errors.New("event has no id")
	}
	var seen int
	switch err := tx.QueryRowContext(ctx, "SELECT 1 FROM stripe_events WHERE id = ?", ev.ID).Scan(&seen); {
	case err == nil:
		return EventResult{Outcome: OutcomeDuplicate}, nil
	case !errors.Is(err, sql.ErrNoRows):
		return EventResult{}, fmt.Errorf("look up event: %w", err)
	}
	res, err := db.apply(ctx, tx, ch)
	if err != nil {
		return EventResult{}, err
	}
	encoded, err := json.Marshal(ch)
	if err != nil {
		return EventResult{}, fmt.Errorf("encode change: %w", err)
	}
	var orderID any
	if res.Order != nil {
		orderID = res.Order.ID
	}
	now := db.now()
	_, err = tx.ExecContext(ctx, `INSERT INTO stripe_events (id, type, api_version, created, object_id, payment_intent, refunded,
		effect, change, payload, received_at, processed_at, outcome, order_id)
		VALUES (?, ?, ?, ?, ?, nullif(?, ''), ?, ?, ?, ?, ?, ?, ?, ?)`,
		ev.ID, ev.Type, ev.APIVersion, ev.Created, ev.ObjectID, ch.Order.PaymentIntent, ch.Refund.Full,
		string(ch.Effect), encoded, ev.Payload, now, now, string(res.Outcome), orderID)
	if err != nil {
		return EventResult{}, fmt.Errorf("store event: %w", err)
	}
	return res, nil
}

// recordOutcome notes on the stored event what applying it did.
func (db *DB) recordOutcome(ctx context.Context, tx *writeTx, eventID string, res EventResult) error {
	var orderID any
	if res.Order != nil {
		orderID = res.Order.ID
	}
	_, err := tx.ExecContext(ctx, "UPDATE stripe_events SET processed_at = ?, outcome = ?, order_id = coalesce(?, order_id) WHERE id = ?",
		db.now(), string(res.Outcome), orderID, eventID)
	if err != nil {
		return fmt.Errorf("record event outcome: %w", err)
	}
	return nil
}

func (db *DB) apply(ctx context.Context, tx *writeTx, ch Change) (EventResult, error) {
	switch ch.Effect {
	case EffectRecord:
		return EventResult{Outcome: OutcomeRecorded}, nil
	case EffectSettle:
		return db.settle(ctx, tx, ch)
	case EffectRefund:
		return db.refund(ctx, tx, ch)
	case EffectPaymentError:
		return db.paymentError(ctx, tx, ch)
	case EffectDispute:
		return db.dispute(ctx, tx, ch)
	case EffectMembership:
		return db.applyMembership(ctx, tx, ch)
	}
	return EventResult{}, fmt.Errorf("unknown effect %q", ch.Effect)
}

// findOrder finds the order a change names. An order found only through OrderRef.OrderID must
// have no payment ids yet; the change's session id is then saved on it, so the payment is not
// lost when the shop stopped before saving the session.
func (db *DB) findOrder(ctx context.Context, tx *writeTx, ref OrderRef) (Order, error) {
	var o Order
	err := ErrNotFound
	switch {
	case ref.SessionID != "":
		o, err = db.orderWhere(ctx, tx, "checkout_session_id = ?", ref.SessionID)
	case ref.PaymentIntent != "":
		o, err = db.orderWhere(ctx, tx, "payment_intent = ?", ref.PaymentIntent)
	}
	if !errors.Is(err, ErrNotFound) || ref.OrderID == 0 {
		return o, err
	}
	o, err = db.orderWhere(ctx, tx, "id = ? AND checkout_session_id IS NULL AND payment_intent IS NULL", ref.OrderID)
	if err != nil || ref.SessionID == "" {
		return o, err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE orders SET checkout_session_id = ? WHERE id = ?", ref.SessionID, o.ID); err != nil {
		return Order{}, fmt.Errorf("attach session from event: %w", err)
	}
	o.CheckoutSessionID = ref.SessionID
	return o, nil
}

// unmatched is the result for a change whose order the shop does not know.
func unmatched(ref OrderRef) EventResult {
	var names []string
	if ref.SessionID != "" {
		names = append(names, "checkout session "+ref.SessionID)
	}
	if ref.PaymentIntent != "" {
		names = append(names, "payment intent "+ref.PaymentIntent)
	}
	if ref.OrderID != 0 {
		names = append(names, "order id "+strconv.FormatInt(ref.OrderID, 10))
	}
	if len(names) == 0 {
		return EventResult{Outcome: OutcomeUnmatched, Reason: "the event names no order"}
	}
	return EventResult{Outcome: OutcomeUnmatched, Reason: "no order has " + strings.Join(names, " or ")}
}

// settle moves an order to the change's status. A confirmation must match the order (amount,
// currency, and the user for a user's order), else the order needs review.
func (db *DB) settle(ctx context.Context, tx *writeTx, ch Change) (EventResult, error) {
	o, err := db.findOrder(ctx, tx, ch.Order)
	if errors.Is(err, ErrNotFound) {
		return unmatched(ch.Order), nil
	}
	if err != nil {
		return EventResult{}, err
	}
	if ch.Payment != nil {
		reason := mismatch(o, *ch.Payment)
		if ch.Order.OrderID != 0 && ch.Order.OrderID != o.ID {
			reason = fmt.Sprintf("the payment names order %d, but its payment ids are order %d's", ch.Order.OrderID, o.ID)
		}
		if reason != "" {
			return db.transition(ctx, tx, o, StatusNeedsReview, OutcomeNeedsReview, reason, ch)
		}
	}
	return db.transition(ctx, tx, o, ch.To, OutcomeApplied, "", ch)
}

// mismatch explains why a confirmation does not belong to the order, or returns "".
func mismatch(o Order, p Payment) string {
	if p.Amount != o.AmountTotal || p.Currency != o.Currency {
		return fmt.Sprintf("amount mismatch: paid %d %s, order amount %d %s", p.Amount, p.Currency, o.AmountTotal, o.Currency)
	}
	if o.UserID != 0 && p.ClientReference != strconv.FormatInt(o.UserID, 10) {
		return fmt.Sprintf("customer mismatch: paid by client reference %q, order of user %d", p.ClientReference, o.UserID)
	}
	return ""
}

// transition changes the order's status if the move is allowed; on paid it records the payment
// and takes what was bought out of the shopper's cart. When the order is paid or first learns its
// payment intent, changes kept waiting for that payment are applied, and a full refund already
// known moves the order on to refunded.
func (db *DB) transition(ctx context.Context, tx *writeTx, o Order, to Status, outcome Outcome, reason string, ch Change) (EventResult, error) {
	if !o.Status.CanMoveTo(to) {
		return EventResult{Outcome: OutcomeStale, Reason: fmt.Sprintf("order %d is %s, not moving to %s", o.ID, o.Status, to)}, nil
	}
	if to == StatusPaid && o.Disputed {
		to, outcome, reason = StatusNeedsReview, OutcomeNeedsReview, ReasonDisputed
	}
	short, err := moveStock(ctx, tx, &o, to)
	if err != nil {
		return EventResult{}, err
	}
	if short != "" {
		// The hold was released (the checkout expired) and someone else bought the stock since.
		to, outcome, reason = StatusNeedsReview, OutcomeNeedsReview, ReasonOversold+": "+short
	}
	if to == StatusNeedsReview {
		o.ReviewReason = reason
	}
	now := db.Now()
	from := o.Status
	o.Status, o.UpdatedAt = to, now
	learnedPayment := ch.Order.PaymentIntent != "" && o.PaymentIntent == ""
	if learnedPayment {
		o.PaymentIntent = ch.Order.PaymentIntent
	}
	if ch.CustomerEmail != "" && o.CustomerEmail == "" {
		o.CustomerEmail = ch.CustomerEmail
	}
	var paidAt any
	if to == StatusPaid {
		o.PaidAt = now
		paidAt = formatTime(now)
	}
	o.PaymentError = "" // an attempt's error is old news once the order has moved on
	_, err = tx.ExecContext(ctx, `UPDATE orders SET status = ?, updated_at = ?, paid_at = coalesce(?, paid_at),
		payment_intent = nullif(?, ''), customer_email = nullif(?, ''), review_reason = ?, payment_error = NULL, stock_state = ?
		WHERE id = ?`,
		to, formatTime(now), paidAt, o.PaymentIntent, o.CustomerEmail, o.ReviewReason, o.StockState, o.ID)
	if err != nil {
		return EventResult{}, fmt.Errorf("update order %d: %w", o.ID, err)
	}
	// Mail (store/outbox.go): the receipt or notice this status calls for, in this same transaction.
	if err := db.queueOrderMail(ctx, tx, o, ch); err != nil {
		return EventResult{}, err
	}
	if to == StatusPaid {
		if err := removeBought(ctx, tx, o); err != nil {
			return EventResult{}, err
		}
	}
	if to == StatusPaid || learnedPayment {
		if o, err = db.applyKept(ctx, tx, o); err != nil {
			return EventResult{}, err
		}
	}
	if o.RefundedInFull && o.Status.CanMoveTo(StatusRefunded) {
		// The payment was refunded before its confirmation arrived: end where the natural order ends.
		res, err := db.transition(ctx, tx, o, StatusRefunded, outcome, reason, ch)
		res.From = from
		return res, err
	}
	return EventResult{Outcome: outcome, Reason: reason, Order: &o, From: from}, nil
}

// applyKept applies the changes that arrived before the order could be found by its payment
// intent (a refund delivered before the payment's confirmation, say), now that it can.
func (db *DB) applyKept(ctx context.Context, tx *writeTx, o Order) (Order, error) {
	if o.PaymentIntent == "" {
		return o, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, change FROM stripe_events WHERE outcome = 'unmatched' AND payment_intent = ?
		ORDER BY created, received_at, id`, o.PaymentIntent)
	if err != nil {
		return o, fmt.Errorf("look for kept events: %w", err)
	}
	type kept struct {
		id string
		ch Change
	}
	var waiting []kept
	for rows.Next() {
		var k kept
		var encoded string
		if err := rows.Scan(&k.id, &encoded); err != nil {
			rows.Close()
			return o, fmt.Errorf("look for kept events: %w", err)
		}
		if err := json.Unmarshal([]byte(encoded), &k.ch); err != nil {
			rows.Close()
			return o, fmt.Errorf("decode kept event %s: %w", k.id, err)
		}
		waiting = append(waiting, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return o, fmt.Errorf("look for kept events: %w", err)
	}
	for _, k := range waiting {
		res, err := db.apply(ctx, tx, k.ch)
		if err != nil {
			return o, fmt.Errorf("apply kept event %s: %w", k.id, err)
		}
		if res.Order == nil {
			res.Order = &o // the event now belongs to this order, even if it changed nothing
		} else {
			o = *res.Order
		}
		if err := db.recordOutcome(ctx, tx, k.id, res); err != nil {
			return o, err
		}
	}
	return o, nil
}

// removeBought takes the order's items out of the cart it came from, leaving anything added
// since: two statements whatever the number of items.
func removeBought(ctx context.Context, tx *writeTx, o Order) error {
	if o.CartID == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM cart_items WHERE cart_id = ? AND quantity <= (SELECT oi.quantity FROM order_items oi
		WHERE oi.order_id = ? AND oi.product_id = cart_items.product_id)`, o.CartID, o.ID)
	if err != nil {
		return fmt.Errorf("empty cart: %w", err)
	}
	_, err = tx.ExecContext(ctx, `UPDATE cart_items SET quantity = quantity - (SELECT oi.quantity FROM order_items oi
		WHERE oi.order_id = ?1 AND oi.product_id = cart_items.product_id)
		WHERE cart_id = ?2 AND product_id IN (SELECT product_id FROM order_items WHERE order_id = ?1)`, o.ID, o.CartID)
	if err != nil {
		return fmt.Errorf("empty cart: %w", err)
	}
	return nil
}

// refund records what has been refunded of the order's payment (a running total, so a late
// event carrying an older total changes nothing) and moves a paid order refunded in full to
// refunded. A full refund reported before the payment's confirmation waits on the order and is
// applied when the payment lands (see transition), so the end state does not depend on which
// event came first.
func (db *DB) refund(ctx context.Context, tx *writeTx, ch Change) (EventResult, error) {
	if ch.Order.PaymentIntent == "" {
		return EventResult{Outcome: OutcomeUnmatched, Reason: "the refund names no payment"}, nil
	}
	o, err := db.findOrder(ctx, tx, OrderRef{PaymentIntent: ch.Order.PaymentIntent})
	if errors.Is(err, ErrNotFound) {
		return unmatched(ch.Order), nil
	}
	if err != nil {
		return EventResult{}, err
	}
	amount, full := max(o.AmountRefunded, ch.Refund.Amount), o.RefundedInFull || ch.Refund.Full
	if full && amount < o.AmountTotal {
		amount = o.AmountTotal
	}
	if amount != o.AmountRefunded || full != o.RefundedInFull {
		if _, err := tx.ExecContext(ctx, "UPDATE orders SET amount_refunded = ?, refunded_in_full = ?, updated_at = ? WHERE id = ?",
			amount, full, db.now(), o.ID); err != nil {
			return EventResult{}, fmt.Errorf("record refund on order %d: %w", o.ID, err)
		}
		o.AmountRefunded, o.RefundedInFull = amount, full
	}
	switch {
	case full && o.Status.CanMoveTo(StatusRefunded):
		return db.transition(ctx, tx, o, StatusRefunded, OutcomeApplied, "", ch)
	case full && o.Status == StatusRefunded:
		return EventResult{Outcome: OutcomeStale, Reason: fmt.Sprintf("order %d is already refunded", o.ID), Order: &o, From: o.Status}, nil
	case full:
		return EventResult{Outcome: OutcomeRecorded, Reason: fmt.Sprintf("full refund kept until order %d (%s) is paid", o.ID, o.Status), Order: &o, From: o.Status}, nil
	}
	return EventResult{Outcome: OutcomeRecorded, Reason: fmt.Sprintf("refunded %d of %d so far", amount, o.AmountTotal), Order: &o, From: o.Status}, nil
}
