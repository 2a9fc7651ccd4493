package simulator

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"strings"
)

// Payment intent states the PaymentIntents API adds to Checkout's.
const (
	piRequiresAction = "requires_action"
	piCanceled       = "canceled"
)

// intent is a PaymentIntent created through POST /v1/payment_intents, which a shop confirms with
// the Payment Element (or a server-side confirm) instead of through a Checkout Session.
type intent struct {
	ID                 string            `json:"id"`
	Created            int64             `json:"created"`
	Amount             int64             `json:"amount"`
	Currency           string            `json:"currency"`
	Status             string            `json:"status"`
	ClientSecret       string            `json:"client_secret"`
	Metadata           map[string]string `json:"metadata"`
	Description        string            `json:"description,omitempty"`
	ReceiptEmail       string            `json:"receipt_email,omitempty"`
	Automatic          bool              `json:"automatic"`      // automatic_payment_methods[enabled]
	MethodTypes        []string          `json:"method_types"`   // payment_method_types
	Method             string            `json:"method"`         // methodCard or methodBankTransfer, once one was tried
	PMDetails          json.RawMessage   `json:"pm_details"`     // payment_method_details of the latest charge
	PendingCard        string            `json:"pending_card"`   // the card awaiting 3-D Secure
	ReturnURL          string            `json:"return_url"`     // where a redirect-based next action returns
	ChargeID           string            `json:"charge_id"`      // the latest charge
	ChargeCreated      int64             `json:"charge_created"` //
	BalanceTxn         string            `json:"balance_txn"`
	AmountRefunded     int64             `json:"amount_refunded"`
	LastError          *paymentErrorJSON `json:"last_error"`
	CanceledAt         int64             `json:"canceled_at,omitempty"`
	CancellationReason string            `json:"cancellation_reason,omitempty"`
}

var errNoIntent = errors.New("no such payment intent")

// intentIDFromSecret is the intent a client secret (pi_…_secret_…) belongs to.
func intentIDFromSecret(secret string) string {
	id, _, ok := strings.Cut(secret, "_secret_")
	if !ok || !strings.HasPrefix(id, "pi_") {
		return ""
	}
	return id
}

// secretMatches compares a client secret in constant time: it is the browser's only credential.
func (in *intent) secretMatches(secret string) bool {
	return subtle.ConstantTimeCompare([]byte(in.ClientSecret), []byte(secret)) == 1
}

func loadIntent(ctx context.Context, q querier, id string) (*intent, error) {
	var data string
	err := q.QueryRowContext(ctx, `SELECT data FROM payment_intents WHERE id = ?`, id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoIntent
	}
	if err != nil {
		return nil, fmt.Errorf("load payment intent %s: %w", id, err)
	}
	in := &intent{}
	if err := json.Unmarshal([]byte(data), in); err != nil {
		return nil, fmt.Errorf("decode payment intent %s: %w", id, err)
	}
	return in, nil
}

// loadIntentByCharge finds the intent whose latest charge is chargeID.
func loadIntentByCharge(ctx context.Context, q querier, chargeID string) (*intent, error) {
	var id string
	err := q.QueryRowContext(ctx, `SELECT id FROM payment_intents WHERE charge_id = ?`, chargeID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoIntent
	}
	if err != nil {
		return nil, fmt.Errorf("find payment intent of charge %s: %w", chargeID, err)
	}
	return loadIntent(ctx, q, id)
}

// saveIntent inserts or replaces the intent.
func saveIntent(t *txn, in *intent) error {
	data, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode payment intent %s: %w", in.ID, err)
	}
	_, err = t.ExecContext(t.ctx, `INSERT INTO payment_intents (id, created, charge_id, data) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET charge_id = excluded.charge_id, data = excluded.data`,
		in.ID, in.Created, in.ChargeID, string(data))
	if err != nil {
		return fmt.Errorf("save payment intent %s: %w", in.ID, err)
	}
	return nil
}

// asSession views the intent as the session-shaped record the shared renderers of payment
// intents and charges read.
func (in *intent) asSession() *session {
	return &session{
		ID: in.ID, Currency: in.Currency, AmountTotal: in.Amount, PaymentIntent: in.ID,
		PIStatus: in.Status, PICreated: in.Created, PaymentMethod: in.Method, PMDetails: in.PMDetails,
		ChargeID: in.ChargeID, ChargeCreated: in.ChargeCreated, BalanceTxn: in.BalanceTxn,
		AmountRefunded: in.AmountRefunded, PaidEmail: in.ReceiptEmail, PILastError: in.LastError,
	}
}

// nextActionJSON is what a requires_action intent asks the client to do: authenticate the card.
type nextActionJSON struct {
	Type          string         `json:"type"`
	RedirectToURL map[string]any `json:"redirect_to_url,omitempty"`
	UseStripeSDK  map[string]any `json:"use_stripe_sdk,omitempty"`
}

// object renders the intent as API version 2023-10-16 does.
func (s *Simulator) intentObject(in *intent) paymentIntentJSON {
	out := paymentIntentObject(in.asSession())
	out.ClientSecret = in.ClientSecret
	out.Metadata = maps.Clone(in.Metadata)
	if out.Metadata == nil {
		out.Metadata = map[string]string{}
	}
	out.Description = nullString(in.Description)
	out.ReceiptEmail = optional(in.ReceiptEmail)
	out.PaymentMethodTypes = in.MethodTypes
	if in.Automatic {
		out.AutomaticPaymentMethods = map[string]any{"allow_redirects": "always", "enabled": true}
	}
	if in.Method == "" || in.Status == piRequiresPaymentMethod {
		out.PaymentMethod = nil
	}
	if in.Status == piCanceled {
		out.CanceledAt = in.CanceledAt
		out.CancellationReason = nullString(in.CancellationReason)
	}
	if in.Status == piRequiresAction {
		out.NextAction = s.nextAction(in)
	}
	return out
}

// nextAction is a redirect to the authentication page when the confirm named a return_url, and
// otherwise the step Stripe.js (here: the simulator's stand-in) takes in a frame.
func (s *Simulator) nextAction(in *intent) nextActionJSON {
	page := s.baseURL + "/v3/authenticate/" + in.ID + "?client_secret=" + url.QueryEscape(in.ClientSecret)
	if in.ReturnURL != "" {
		return nextActionJSON{Type: "redirect_to_url", RedirectToURL: map[string]any{"url": page, "return_url": in.ReturnURL}}
	}
	return nextActionJSON{Type: "use_stripe_sdk", UseStripeSDK: map[string]any{"type": "three_d_secure_redirect", "stripe_js": page}}
}

// nullString renders "" as null, as Stripe does for unset strings.
func nullString(v string) any {
	if v == "" {
		return nil
	}
	return v
}
