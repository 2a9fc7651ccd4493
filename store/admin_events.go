package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// StoredEvent is a payment event as the event log keeps it.
type StoredEvent struct {
	EventRecord
	Effect      Effect
	Outcome     Outcome
	OrderID     int64
	ReceivedAt  time.Time
	ProcessedAt time.Time
}

// EventFilter narrows the event log. Zero values match everything.
type EventFilter struct {
	Type    string
	Outcome Outcome
}

const storedEventColumns = `id, type, api_version, created, object_id, payload, effect, outcome, coalesce(order_id, 0), received_at, processed_at`

func scanStoredEvent(scan func(...any) error) (StoredEvent, error) {
	var e StoredEvent
	var received string
	var processed sql.NullString
	err := scan(&e.ID, &e.Type, &e.APIVersion, &e.Created, &e.ObjectID, &e.Payload, &e.Effect, &e.Outcome, &e.OrderID, &received, &processed)
	e.ReceivedAt, e.ProcessedAt = parseTime(received), parseNullTime(processed)
	return e, err
}

func (db *DB) storedEvents(ctx context.Context, where string, args ...any) ([]StoredEvent, error) {
	rows, err := db.readStmts.QueryContext(ctx, "SELECT "+storedEventColumns+" FROM stripe_events WHERE "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	var out []StoredEvent
	for rows.Next() {
		e, err := scanStoredEvent(rows.Scan)
		if err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Events lists stored events matching f, newest first, skipping offset and returning at most limit.
func (db *DB) Events(ctx context.Context, f EventFilter, limit, offset int) ([]StoredEvent, error) {
	conds, args := []string{"1 = 1"}, []any{}
	if f.Type != "" {
		conds, args = append(conds, "type = ?"), append(args, f.Type)
	}
	if f.Outcome != "" {
		conds, args = append(conds, "outcome = ?"), append(args, string(f.Outcome))
	}
	return db.storedEvents(ctx, strings.Join(conds, " AND ")+" ORDER BY received_at DESC, id DESC LIMIT ? OFFSET ?",
		append(args, limit, offset)...)
}

// EventTypes lists the event types stored so far, for the log's filter.
func (db *DB) EventTypes(ctx context.Context) ([]string, error) {
	rows, err := db.readStmts.QueryContext(ctx, "SELECT DISTINCT type FROM stripe_events ORDER BY type")
	if err != nil {
		return nil, fmt.Errorf("list event types: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("list event types: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// OrderEvents lists every stored event that touched an order, or is about its payment (a
// charge of its PaymentIntent, or the PaymentIntent itself), in the order the provider created
// them.
func (db *DB) OrderEvents(ctx context.Context, o Order) ([]StoredEvent, error) {
	return db.storedEvents(ctx, "order_id = ?1 OR (?2 != '' AND (payment_intent = ?2 OR object_id = ?2)) ORDER BY created, received_at, id",
		o.ID, o.PaymentIntent)
}

// Event returns one stored event.
func (db *DB) Event(ctx context.Context, id string) (StoredEvent, error) {
	events, err := db.storedEvents(ctx, "id = ?", id)
	if err != nil {
		return StoredEvent{}, err
	}
	if len(events) == 0 {
		return StoredEvent{}, ErrNotFound
	}
	return events[0], nil
}

// ReapplyEvent applies again a stored event that matched no order when it came (its order was
// unknown then: made since, or its ids fixed by hand), through the same pipeline as the
// webhook. It stays exactly-once: the new outcome is recorded on the same event, in the same
// transaction that applies it, and an event that did apply is refused.
func (db *DB) ReapplyEvent(ctx context.Context, who Actor, id string) (EventResult, error) {
	var res EventResult
	err := db.inTx(ctx, func(tx *writeTx) error {
		var outcome, encoded string
		var ch Change
		err := tx.QueryRowContext(ctx, "SELECT outcome, change, type, api_version, created, object_id, payload FROM stripe_events WHERE id = ?", id).
			Scan(&outcome, &encoded, &ch.Event.Type, &ch.Event.APIVersion, &ch.Event.Created, &ch.Event.ObjectID, &ch.Event.Payload)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("read event %s: %w", id, err)
		}
		if Outcome(outcome) != OutcomeUnmatched {
			return invalid(fmt.Sprintf("Event %s was %s: only an event that matched no order can be applied again.", id, outcome))
		}
		if err := json.Unmarshal([]byte(encoded), &ch); err != nil {
			return fmt.Errorf("decode event %s: %w", id, err)
		}
		ch.Event.ID = id
		if res, err = db.apply(ctx, tx, ch); err != nil {
			return err
		}
		if err := db.recordOutcome(ctx, tx, id, res); err != nil {
			return err
		}
		return db.recordAudit(ctx, tx, who, "event.reapply", "event "+id, "outcome "+string(res.Outcome)+" "+res.Reason)
	})
	return res, err
}
