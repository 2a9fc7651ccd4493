// Package reconcile brings the shop back in step with the payment provider when webhooks were
// missed (the endpoint was down, a secret was rotated wrong, retries ran out): it lists the
// provider's recent events and applies each through the same exactly-once pipeline as the
// webhook, then asks about checkouts still pending. An event already stored changes nothing, so
// running it again, or next to the webhook, is safe.
package reconcile

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"storefront/store"
)

// Source is the payment provider as reconcile needs it (payments.Gateway).
type Source interface {
	// ListEvents hands each event created since since to each, as a change.
	ListEvents(ctx context.Context, since time.Time, each func(store.Change) error) error
	// SessionChange says what a checkout's current state means for its order; ok is false
	// while it is still open.
	SessionChange(ctx context.Context, sessionID string) (ch store.Change, ok bool, err error)
}

// Settings.
const (
	DefaultSince = 72 * time.Hour   // Stripe retries a webhook for up to three days
	PendingAfter = 10 * time.Minute // a checkout pending longer is asked about directly
	lockName     = "reconcile"
	lockTTL      = 30 * time.Minute
	pendingBatch = 1000
)

// ErrRunning means another reconcile holds the lock.
var ErrRunning = errors.New("another reconcile is running; try again when it has finished")

// Result is what one run did.
type Result struct {
	Seen    int // events listed by the provider
	Applied int // of those, new to the shop
	Known   int // of those, already stored (by the webhook or an earlier run)
	Checked int // pending checkouts asked about
	Settled int // of those, whose state changed the order
}

// String is the one summary line.
func (r Result) String() string {
	return fmt.Sprintf("reconcile: %d events seen, %d applied, %d already known; %d pending checkouts checked, %d settled",
		r.Seen, r.Applied, r.Known, r.Checked, r.Settled)
}

// Run reconciles events created in the last since. publish is told of every order a change
// moved (nil: nobody to tell). Only one run at a time, across processes: a second gets
// ErrRunning.
func Run(ctx context.Context, src Source, db *store.DB, since time.Duration, publish func(store.Order)) (Result, error) {
	holder := randomHolder()
	got, err := db.TryLock(ctx, lockName, holder, lockTTL)
	if err != nil {
		return Result{}, err
	}
	if !got {
		return Result{}, ErrRunning
	}
	defer db.Unlock(context.WithoutCancel(ctx), lockName, holder)

	var r Result
	apply := func(ch store.Change) (store.EventResult, error) {
		res, err := db.ApplyChange(ctx, ch)
		if err != nil {
			return res, fmt.Errorf("apply %s: %w", ch.Event.ID, err)
		}
		if res.Order != nil && res.Outcome != store.OutcomeDuplicate && publish != nil {
			publish(*res.Order)
		}
		return res, nil
	}
	err = src.ListEvents(ctx, db.Now().Add(-since), func(ch store.Change) error {
		r.Seen++
		res, err := apply(ch)
		if err != nil {
			return err
		}
		if res.Outcome == store.OutcomeDuplicate {
			r.Known++
		} else {
			r.Applied++
		}
		return nil
	})
	if err != nil {
		return r, err
	}

	pending, err := db.StalePendingOrders(ctx, db.Now().Add(-PendingAfter), pendingBatch)
	if err != nil {
		return r, err
	}
	for _, o := range pending {
		if o.CheckoutSessionID == "" {
			continue // never reached the provider: housekeeping closes it
		}
		r.Checked++
		ch, ok, err := src.SessionChange(ctx, o.CheckoutSessionID)
		if err != nil {
			return r, err
		}
		if !ok {
			continue
		}
		res, err := apply(ch)
		if err != nil {
			return r, err
		}
		if res.Outcome == store.OutcomeApplied || res.Outcome == store.OutcomeNeedsReview {
			r.Settled++
		}
	}
	return r, nil
}

func randomHolder() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
