package simulator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// threeDSCard is Stripe's test card that always asks for 3-D Secure authentication. Only
// PaymentIntents confirmed through the Payment Element or the API take it; the hosted Checkout
// page lists the cards it accepts without it.
var threeDSCard = testCard{number: "4000002760003184", brand: "visa", threeDS: true,
	label: "Requires authentication (3-D Secure)"}

// elementCards are the cards the Payment Element stand-in accepts.
var elementCards = append(slices.Clone(testCards), threeDSCard)

// Why an authentication failed, in Stripe's words.
const (
	authFailureCode    = "payment_intent_authentication_failure"
	authFailureMessage = "We are unable to authenticate your payment method. Please choose a different payment method and try again."
)

// errUnexpectedState is a confirm, authentication or cancel the intent's status does not allow.
type errUnexpectedState struct {
	action string
	in     *intent
}

func (e *errUnexpectedState) Error() string {
	return fmt.Sprintf("You cannot %s this PaymentIntent because it has a status of %s.", e.action, e.in.Status)
}

// stripeError is how the API answers an unexpected state.
func (e *errUnexpectedState) stripeError() *stripeError {
	msg := e.Error()
	switch e.action {
	case "confirm":
		msg = fmt.Sprintf("This PaymentIntent's status is %s, and it can no longer be confirmed. Create a new PaymentIntent to take another payment.", e.in.Status)
		if e.in.Status == piRequiresAction {
			msg = "This PaymentIntent is awaiting the customer's authentication (status requires_action): complete or fail it before confirming again."
		}
	case "cancel":
		msg += " Only a PaymentIntent with one of the following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, requires_action."
	}
	return invalidRequest(http.StatusBadRequest, "payment_intent_unexpected_state", "", "%s", msg)
}

// intentTx loads intent id in a write transaction, runs fn on it and saves it.
func (s *Simulator) intentTx(ctx context.Context, id string, fn func(t *txn, in *intent) error) (*intent, error) {
	var out *intent
	err := s.inTx(ctx, func(t *txn) error {
		in, err := loadIntent(ctx, t, id)
		if err != nil {
			return err
		}
		out = in
		if err := fn(t, in); err != nil {
			return err
		}
		return saveIntent(t, in)
	})
	return out, err
}

// emitIntent queues one of the intent's events; an intent's events share one delivery queue.
func (s *Simulator) emitIntent(t *txn, in *intent, typ string, obj any, o origin) error {
	return s.enqueue(t, in.ID, typ, obj, nil, o)
}

// confirmIntent tries payment p on the intent, as a confirm does: a card pays, is declined
// (the intent goes back to requires_payment_method with last_payment_error) or asks for 3-D
// Secure (requires_action); a bank debit is processing until a job settles it.
func (s *Simulator) confirmIntent(ctx context.Context, id string, p payment, returnURL string, o origin) (*intent, error) {
	return s.intentTx(ctx, id, func(t *txn, in *intent) error {
		if in.Status != piRequiresPaymentMethod {
			return &errUnexpectedState{action: "confirm", in: in}
		}
		now := s.now().Unix()
		in.Method, in.ReturnURL, in.PendingCard = p.method, returnURL, ""
		if p.email != "" {
			in.ReceiptEmail = p.email
		}
		switch {
		case p.method == methodBankTransfer:
			return s.startIntentBankDebit(t, in, p, now, o)
		case p.card.threeDS:
			in.Status, in.PendingCard = piRequiresAction, p.card.number
			in.PMDetails, in.LastError = cardDetails(p), nil
			return s.emitIntent(t, in, "payment_intent.requires_action", s.intentObject(in), o)
		case p.card.declineCode != "":
			return s.declineIntentCard(t, in, p, now, o)
		default:
			in.PMDetails = cardDetails(p)
			return s.chargeIntent(t, in, now, o)
		}
	})
}

// chargeIntent charges the intent's card successfully: charge.succeeded, payment_intent.succeeded,
// then charge.updated once the balance transaction exists, as Stripe sends them.
func (s *Simulator) chargeIntent(t *txn, in *intent, now int64, o origin) error {
	in.ChargeID, in.ChargeCreated = newChargeID(), now
	in.Status, in.LastError, in.PendingCard = piSucceeded, nil, ""
	if err := s.emitIntent(t, in, "charge.succeeded", chargeObject(in.asSession()), o); err != nil {
		return err
	}
	if err := s.emitIntent(t, in, "payment_intent.succeeded", s.intentObject(in), o); err != nil {
		return err
	}
	in.BalanceTxn = newTxnID()
	return s.enqueue(t, in.ID, "charge.updated", chargeObject(in.asSession()), map[string]any{"balance_transaction": nil}, o)
}

// declineIntentCard records a declined charge and leaves the intent payable with the error.
func (s *Simulator) declineIntentCard(t *txn, in *intent, p payment, now int64, o origin) error {
	in.ChargeID, in.ChargeCreated, in.PMDetails = newChargeID(), now, cardDetails(p)
	attempt := in.asSession()
	attempt.PIStatus = piRequiresPaymentMethod
	failed := chargeObject(attempt)
	code, msg := "card_declined", p.card.message
	failed.FailureCode, failed.FailureMessage = &code, &msg
	failed.Outcome = &outcomeJSON{NetworkStatus: "declined_by_network", Reason: p.card.declineCode, RiskLevel: "normal",
		SellerMessage: "The bank did not return any further details with this decline.", Type: "issuer_declined"}
	if err := s.emitIntent(t, in, "charge.failed", failed, o); err != nil {
		return err
	}
	in.Status = piRequiresPaymentMethod
	in.LastError = &paymentErrorJSON{Type: "card_error", Code: code, DeclineCode: p.card.declineCode, Message: msg}
	return s.emitIntent(t, in, "payment_intent.payment_failed", s.intentObject(in), o)
}

// startIntentBankDebit starts a delayed bank debit: processing now, settled by a job later.
func (s *Simulator) startIntentBankDebit(t *txn, in *intent, p payment, now int64, o origin) error {
	details, err := bankDetails(in.Currency, p.account)
	if err != nil {
		return err
	}
	in.PMDetails, in.LastError = details, nil
	in.Status, in.ChargeID, in.ChargeCreated = piProcessing, newChargeID(), now
	if err := s.emitIntent(t, in, "payment_intent.processing", s.intentObject(in), o); err != nil {
		return err
	}
	if err := s.emitIntent(t, in, "charge.pending", chargeObject(in.asSession()), o); err != nil {
		return err
	}
	job := jobAsyncSucceed
	if !p.account.succeeds {
		job = jobAsyncFail
	}
	return s.scheduleJob(t, in.ID, job)
}

// scheduleJob runs kind for id (a session or an intent) after AsyncDelay.
func (s *Simulator) scheduleJob(t *txn, id, kind string) error {
	due := time.Now().Add(s.cfg.AsyncDelay).UnixMilli()
	if _, err := t.ExecContext(t.ctx, `INSERT INTO jobs (session_id, kind, due_ms) VALUES (?, ?, ?)`, id, kind, due); err != nil {
		return fmt.Errorf("schedule async result for %s: %w", id, err)
	}
	t.queuedJobs = true
	return nil
}

// settleIntentBankDebit is the job that ends an intent's bank debit.
func (s *Simulator) settleIntentBankDebit(t *txn, id, kind string) error {
	in, err := loadIntent(t.ctx, t, id)
	if errors.Is(err, errNoIntent) {
		return nil
	}
	if err != nil {
		return err
	}
	if in.Status != piProcessing {
		return nil
	}
	if kind == jobAsyncSucceed {
		in.BalanceTxn, in.Status = newTxnID(), piSucceeded
		if err := s.emitIntent(t, in, "charge.succeeded", chargeObject(in.asSession()), origin{}); err != nil {
			return err
		}
		if err := s.emitIntent(t, in, "payment_intent.succeeded", s.intentObject(in), origin{}); err != nil {
			return err
		}
		return saveIntent(t, in)
	}
	in.Status = piRequiresPaymentMethod
	in.LastError = &paymentErrorJSON{Type: "invalid_request_error", Code: "payment_method_provider_decline",
		Message: "The customer's bank refused the transfer (simulated with test account 000111111116)."}
	if err := s.emitIntent(t, in, "charge.failed", chargeObject(in.asSession()), origin{}); err != nil {
		return err
	}
	if err := s.emitIntent(t, in, "payment_intent.payment_failed", s.intentObject(in), origin{}); err != nil {
		return err
	}
	return saveIntent(t, in)
}

// authenticateIntent ends a 3-D Secure step: completed, the card is charged; failed, the intent
// goes back to requires_payment_method with Stripe's authentication error.
func (s *Simulator) authenticateIntent(ctx context.Context, id string, completed bool) (*intent, error) {
	return s.intentTx(ctx, id, func(t *txn, in *intent) error {
		if in.Status != piRequiresAction {
			return &errUnexpectedState{action: "authenticate", in: in}
		}
		if completed {
			return s.chargeIntent(t, in, s.now().Unix(), origin{})
		}
		in.Status, in.PendingCard = piRequiresPaymentMethod, ""
		in.LastError = &paymentErrorJSON{Type: "invalid_request_error", Code: authFailureCode, Message: authFailureMessage}
		return s.emitIntent(t, in, "payment_intent.payment_failed", s.intentObject(in), origin{})
	})
}

// cancelIntent cancels an intent that has not been paid and is not being paid.
func (s *Simulator) cancelIntent(ctx context.Context, id, reason string, o origin) (*intent, error) {
	return s.intentTx(ctx, id, func(t *txn, in *intent) error {
		switch in.Status {
		case piRequiresPaymentMethod, piRequiresAction:
		default:
			return &errUnexpectedState{action: "cancel", in: in}
		}
		in.Status, in.PendingCard = piCanceled, ""
		in.CanceledAt, in.CancellationReason = s.now().Unix(), reason
		return s.emitIntent(t, in, "payment_intent.canceled", s.intentObject(in), o)
	})
}
