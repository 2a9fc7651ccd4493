package payments

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"
)

// SignatureTolerance is how old a webhook signature may be before it is refused as a replay.
const SignatureTolerance = 300 * time.Second

// APIVersion is the Stripe API version stripe-go v76 speaks. Events of newer versions are
// accepted: only fields stable across versions are read.
const APIVersion = stripe.APIVersion

// ErrSignature means the webhook was not signed by Stripe with one of our secrets, or too long ago.
var ErrSignature = errors.New("webhook signature invalid")

// Event is a verified Stripe event with the stable fields of its data.object.
type Event struct {
	ID         string
	Type       string
	APIVersion string
	Created    int64
	Object     EventObject
}

// EventObject holds the data.object fields the shop reads, for Checkout Sessions and charges.
type EventObject struct {
	ID                string
	Status            string
	PaymentStatus     string
	AmountTotal       int64
	Currency          string
	ClientReferenceID string
	Metadata          map[string]string
	PaymentIntent     string
	CustomerEmail     string
	AmountRefunded    int64
	Refunded          bool
}

// stableObject decodes data.object leniently: payment_intent may be an id or an expanded object.
type stableObject struct {
	ID                string            `json:"id"`
	Status            string            `json:"status"`
	PaymentStatus     string            `json:"payment_status"`
	AmountTotal       int64             `json:"amount_total"`
	Currency          string            `json:"currency"`
	ClientReferenceID string            `json:"client_reference_id"`
	Metadata          map[string]string `json:"metadata"`
	PaymentIntent     json.RawMessage   `json:"payment_intent"`
	CustomerDetails   *struct {
		Email string `json:"email"`
	} `json:"customer_details"`
	CustomerEmail  string `json:"customer_email"`
	AmountRefunded int64  `json:"amount_refunded"`
	Refunded       bool   `json:"refunded"`
}

// ParseWebhook verifies the Stripe-Signature header against each secret (any one may match,
// which allows rotation) and decodes the event. A bad signature gives ErrSignature; a body that is
// not an event gives another error.
func ParseWebhook(payload []byte, sigHeader string, secrets []string) (Event, error) {
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
			return Event{}, fmt.Errorf("%w: %v", ErrSignature, err)
		}
		return Event{}, fmt.Errorf("decode event: %w", err)
	}
	if ev.ID == "" || ev.Type == "" || ev.Data == nil || len(ev.Data.Raw) == 0 {
		return Event{}, errors.New("decode event: id, type or data.object missing")
	}
	var obj stableObject
	if err := json.Unmarshal(ev.Data.Raw, &obj); err != nil {
		return Event{}, fmt.Errorf("decode event data.object: %w", err)
	}
	out := Event{ID: ev.ID, Type: string(ev.Type), APIVersion: ev.APIVersion, Created: ev.Created,
		Object: EventObject{
			ID: obj.ID, Status: obj.Status, PaymentStatus: obj.PaymentStatus, AmountTotal: obj.AmountTotal,
			Currency: obj.Currency, ClientReferenceID: obj.ClientReferenceID, Metadata: obj.Metadata,
			PaymentIntent: idOf(obj.PaymentIntent), CustomerEmail: obj.CustomerEmail,
			AmountRefunded: obj.AmountRefunded, Refunded: obj.Refunded,
		}}
	if obj.CustomerDetails != nil && obj.CustomerDetails.Email != "" {
		out.Object.CustomerEmail = obj.CustomerDetails.Email
	}
	return out, nil
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
