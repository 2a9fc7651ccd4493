package payments

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"storefront/store"
)

// SignatureTolerance is how old a webhook signature may be before it is refused as a replay.
const SignatureTolerance = 300 * time.Second

// APIVersion is the Stripe API version stripe-go v76 speaks. Events of newer versions are
// accepted: only fields stable across versions are read.
const APIVersion = stripe.APIVersion

// ErrSignature means the webhook was not signed by Stripe with one of our secrets, or too long ago.
var ErrSignature = errors.New("webhook signature invalid")

// ParseWebhook verifies the Stripe-Signature header against each secret (any one may match,
// which allows rotation) and reads the event as a change for the shop. A bad signature gives
// ErrSignature; a body that is not an event gives another error.
func ParseWebhook(payload []byte, sigHeader string, secrets []string) (store.Change, error) {
	err := ErrSignature
	for _, secret := range secrets {
		if err = webhook.ValidatePayloadWithTolerance(payload, sigHeader, secret, SignatureTolerance); err == nil {
			break
		}
	}
	if err != nil {
		return store.Change{}, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	return ParseEvent(payload)
}

// envelope is an event with only the fields changeOf reads, decoded in one pass.
// (stripe.Event would also decode data.object into a map, which cost a fifth of the server's
// time under a flood of webhooks.)
type envelope struct {
	ID         string           `json:"id"`
	Type       stripe.EventType `json:"type"`
	APIVersion string           `json:"api_version"`
	Created    int64            `json:"created"`
	Data       struct {
		Object *stableObject `json:"object"`
	} `json:"data"`
}

// ParseEvent reads an event whose origin is already established: a verified webhook, or an event
// from Stripe's API (GET /v1/events), where the API call itself was authenticated.
func ParseEvent(payload []byte) (store.Change, error) {
	var ev envelope
	if err := json.Unmarshal(payload, &ev); err != nil {
		return store.Change{}, fmt.Errorf("decode event: %w", err)
	}
	return changeOf(ev, payload)
}

// idOf reads an expandable field: a JSON string id, or an object with an "id".
func idOf(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return ""
	}
	var id string
	if json.Unmarshal(raw, &id) == nil {
		return id
	}
	var obj struct {
		ID string `json:"id"`
	}
	json.Unmarshal(raw, &obj)
	return obj.ID
}
