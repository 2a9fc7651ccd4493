package payments

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/stripe/stripe-go/v76"

	"storefront/store"
)

// ListEvents lists the events Stripe created since since, of the types that change orders, page
// by page (newest first, as Stripe lists them), and hands each to each as a change, stopping at
// its first error.
func (g *Gateway) ListEvents(ctx context.Context, since time.Time, each func(store.Change) error) error {
	p := &stripe.EventListParams{CreatedRange: &stripe.RangeQueryParams{GreaterThanOrEqual: since.Unix()}}
	p.Context = ctx
	p.Limit = stripe.Int64(100)
	for _, t := range HandledEventTypes {
		p.Types = append(p.Types, stripe.String(string(t)))
	}
	it := g.events.List(p)
	for it.Next() {
		ev := it.Event()
		ch, err := ParseEvent(eventPayload(ev.ID, string(ev.Type), ev.APIVersion, ev.Created, ev.Data.Raw))
		if err != nil {
			return fmt.Errorf("event %s: %w", ev.ID, err)
		}
		if err := each(ch); err != nil {
			return err
		}
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("list events: %w", err)
	}
	return nil
}

// SessionChange asks Stripe about one Checkout Session and says what its state means for the
// order, as the event that reported it would have: complete (paid or not yet) or expired. An
// open session changes nothing (ok is false). The change carries an event id made of the
// session and its state, so asking twice applies it once.
func (g *Gateway) SessionChange(ctx context.Context, sessionID string) (ch store.Change, ok bool, err error) {
	p := &stripe.CheckoutSessionParams{}
	p.Context = ctx
	s, err := g.sessions.Get(sessionID, p)
	if err != nil {
		return store.Change{}, false, fmt.Errorf("get checkout session %s: %w", sessionID, err)
	}
	var typ stripe.EventType
	switch s.Status {
	case stripe.CheckoutSessionStatusComplete:
		typ = stripe.EventTypeCheckoutSessionCompleted
	case stripe.CheckoutSessionStatusExpired:
		typ = stripe.EventTypeCheckoutSessionExpired
	default:
		return store.Change{}, false, nil
	}
	if s.LastResponse == nil || len(s.LastResponse.RawJSON) == 0 {
		return store.Change{}, false, fmt.Errorf("get checkout session %s: no body", sessionID)
	}
	id := fmt.Sprintf("reconcile_%s_%s_%s", sessionID, s.Status, s.PaymentStatus)
	ch, err = ParseEvent(eventPayload(id, string(typ), APIVersion, time.Now().Unix(), s.LastResponse.RawJSON))
	return ch, err == nil, err
}

// eventPayload is the JSON of an event around object, as the shop stores events.
func eventPayload(id, typ, apiVersion string, created int64, object json.RawMessage) []byte {
	b, _ := json.Marshal(map[string]any{"id": id, "object": "event", "type": typ, "api_version": apiVersion,
		"created": created, "data": map[string]any{"object": object}})
	return b
}
