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
	var (
		ev  stripe.Event
		err error = ErrSignature
	)
	for _, secret := range secrets {
		ev, err = webhook.ConstructEventWithOptions(payload, sigHeader, secret, webhook.ConstructEventOptions{
			Tolerance:                SignatureTolerance,
			IgnoreAPIVersionMismatch: true,
		})
		if err == nil || !isSignatureError(err) {
			break
		}
	}
	if err != nil {
		if isSignatureError(err) {
			return store.Change{}, fmt.Errorf("%w: %v", ErrSignature, err)
		}
		return store.Change{}, fmt.Errorf("decode event: %w", err)
	}
	return changeOf(ev, payload)
}

// ParseEvent reads an event that came from Stripe's API (GET /v1/events) rather than a signed
// webhook: the API call itself was authenticated.
func ParseEvent(payload []byte) (store.Change, error) {
	var ev stripe.Event
	if err := json.Unmarshal(payload, &ev); err != nil {
		return store.Change{}, fmt.Errorf("decode event: %w", err)
	}
	return changeOf(ev, payload)
}

func isSignatureError(err error) bool {
	return errors.Is(err, webhook.ErrNotSigned) || errors.Is(err, webhook.ErrInvalidHeader) ||
		errors.Is(err, webhook.ErrNoValidSignature) || errors.Is(err, webhook.ErrTooOld)
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
