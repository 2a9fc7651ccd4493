package simulator

import (
	"encoding/json"
	"fmt"
	"time"
)

// apiVersion is the version stripe-go v76 pins; webhook.ConstructEvent refuses events of any other.
const apiVersion = "2023-10-16"

type eventJSON struct {
	ID              string           `json:"id"`
	Object          string           `json:"object"`
	APIVersion      string           `json:"api_version"`
	Created         int64            `json:"created"`
	Data            eventDataJSON    `json:"data"`
	Livemode        bool             `json:"livemode"`
	PendingWebhooks int              `json:"pending_webhooks"`
	Request         eventRequestJSON `json:"request"`
	Type            string           `json:"type"`
}

type eventDataJSON struct {
	Object             any            `json:"object"`
	PreviousAttributes map[string]any `json:"previous_attributes,omitempty"`
}

type eventRequestJSON struct {
	ID             *string `json:"id"`
	IdempotencyKey *string `json:"idempotency_key"`
}

// origin is the API request that caused an event; the zero value means the customer or a timer did.
type origin struct {
	requestID      string
	idempotencyKey string
}

func (o origin) json() eventRequestJSON {
	return eventRequestJSON{ID: optional(o.requestID), IdempotencyKey: optional(o.idempotencyKey)}
}

// enqueue snapshots obj into a new event and queues it for delivery once t commits.
// Events of one session share a queue so they are delivered in the order they happened.
func (s *Simulator) enqueue(t *txn, sessionID, typ string, obj any, prev map[string]any, o origin) error {
	ev := eventJSON{
		ID:              newEventID(),
		Object:          "event",
		APIVersion:      apiVersion,
		Created:         s.now().Unix(),
		Data:            eventDataJSON{Object: obj, PreviousAttributes: prev},
		PendingWebhooks: 1,
		Request:         o.json(),
		Type:            typ,
	}
	payload, err := json.MarshalIndent(ev, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s event: %w", typ, err)
	}
	nowMS := time.Now().UnixMilli()
	_, err = t.ExecContext(t.ctx, `INSERT INTO events (id, session_id, type, payload, enqueued_ms, next_attempt_ms, created)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, ev.ID, sessionID, typ, payload, nowMS, nowMS+s.cfg.WebhookDelay.Milliseconds(), ev.Created)
	if err != nil {
		return fmt.Errorf("queue %s event: %w", typ, err)
	}
	t.queuedEvents = true
	return nil
}
