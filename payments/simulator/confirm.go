package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// payment is a validated submission of the hosted payment form.
type payment struct {
	email    string
	method   string
	card     testCard
	expMonth int
	expYear  int
	account  testAccount
}

// confirmResult tells the hosted page how to answer the customer.
type confirmResult struct {
	sess     *session
	declined string // the decline message; "" when the payment went through or is processing
}

// confirm charges the session the way Checkout does, emitting Stripe's events in Stripe's order.
func (s *Simulator) confirm(ctx context.Context, id string, p payment) (confirmResult, error) {
	var res confirmResult
	notOpen := false
	err := s.inTx(ctx, func(t *txn) error {
		sess, err := loadSession(ctx, t, "id", id)
		if err != nil {
			return err
		}
		res.sess = sess
		if sess.Status == statusOpen && !s.now().Before(sess.ExpiresAt) {
			// The expiry worker has not got there yet; expire now and commit that.
			notOpen = true
			return s.expireTx(t, sess, origin{})
		}
		if sess.Status != statusOpen {
			notOpen = true
			return nil
		}
		now := s.now().Unix()
		sess.PaymentMethod = p.method
		if sess.PaymentIntent == "" {
			// Since API 2022-08-01 Checkout creates the payment intent only when the customer pays.
			sess.PaymentIntent = newPIID()
			sess.PIStatus = piRequiresPaymentMethod
			sess.PICreated = now
			if err := s.emit(t, sess, "payment_intent.created", paymentIntentObject(sess)); err != nil {
				return err
			}
		}
		switch {
		case p.method == methodBankTransfer:
			return s.startBankTransfer(t, sess, p, now)
		case p.card.declineCode != "":
			res.declined = p.card.message
			return s.declineCard(t, sess, p, now)
		case sess.Billing != nil:
			return s.startSubscription(t, sess, p, now) // billing.go
		default:
			return s.chargeCard(t, sess, p, now)
		}
	})
	if err == nil && notOpen {
		err = errNotOpen
	}
	return res, err
}

// emit queues one event of sess's, caused by the customer or a timer rather than an API call.
func (s *Simulator) emit(t *txn, sess *session, typ string, obj any) error {
	return s.enqueue(t, sess.ID, typ, obj, nil, origin{})
}

func (s *Simulator) chargeCard(t *txn, sess *session, p payment, now int64) error {
	sess.PMDetails = cardDetails(p)
	sess.PaidEmail = p.email
	sess.ChargeID = newChargeID()
	sess.ChargeCreated = now
	sess.PIStatus = piSucceeded
	sess.PILastError = nil
	if err := s.emit(t, sess, "charge.succeeded", chargeObject(sess)); err != nil {
		return err
	}
	if err := s.emit(t, sess, "payment_intent.succeeded", paymentIntentObject(sess)); err != nil {
		return err
	}
	sess.Status = statusComplete
	sess.PaymentStatus = paymentPaid
	if err := s.emit(t, sess, "checkout.session.completed", s.sessionObject(sess, expansion{})); err != nil {
		return err
	}
	// Stripe attaches the balance transaction a moment later, hence its charge.updated.
	sess.BalanceTxn = newTxnID()
	if err := s.enqueue(t, sess.ID, "charge.updated", chargeObject(sess), map[string]any{"balance_transaction": nil}, origin{}); err != nil {
		return err
	}
	return saveSession(t, sess)
}

func (s *Simulator) declineCard(t *txn, sess *session, p payment, now int64) error {
	// The declined attempt is a charge of its own; the session keeps no trace of it but the error.
	attempt := *sess
	attempt.ChargeID, attempt.ChargeCreated, attempt.PIStatus = newChargeID(), now, piRequiresPaymentMethod
	attempt.PMDetails, attempt.PaidEmail = cardDetails(p), p.email
	failed := chargeObject(&attempt)
	code, msg := "card_declined", p.card.message
	failed.FailureCode, failed.FailureMessage = &code, &msg
	failed.Outcome = &outcomeJSON{NetworkStatus: "declined_by_network", Reason: p.card.declineCode, RiskLevel: "normal",
		SellerMessage: "The bank did not return any further details with this decline.", Type: "issuer_declined"}
	if err := s.emit(t, sess, "charge.failed", failed); err != nil {
		return err
	}
	sess.PIStatus = piRequiresPaymentMethod
	sess.PILastError = &paymentErrorJSON{Type: "card_error", Code: code, DeclineCode: p.card.declineCode, Message: msg}
	if err := s.emit(t, sess, "payment_intent.payment_failed", paymentIntentObject(sess)); err != nil {
		return err
	}
	return saveSession(t, sess)
}

// Kinds of scheduled work; the names are stored in the jobs table.
const (
	jobAsyncSucceed = "async_payment_succeed"
	jobAsyncFail    = "async_payment_fail"
)

// startBankTransfer starts a delayed bank debit: the charge is pending and the session completes
// unpaid at once, as Checkout does; a job settles it after AsyncDelay.
func (s *Simulator) startBankTransfer(t *txn, sess *session, p payment, now int64) error {
	details, err := bankDetails(sess.Currency, p.account)
	if err != nil {
		return err
	}
	sess.PMDetails = details
	sess.PaidEmail = p.email
	sess.PIStatus = piProcessing
	sess.PILastError = nil
	sess.ChargeID = newChargeID()
	sess.ChargeCreated = now
	if err := s.emit(t, sess, "payment_intent.processing", paymentIntentObject(sess)); err != nil {
		return err
	}
	if err := s.emit(t, sess, "charge.pending", chargeObject(sess)); err != nil {
		return err
	}
	sess.Status = statusComplete
	sess.PaymentStatus = paymentUnpaid
	if err := s.emit(t, sess, "checkout.session.completed", s.sessionObject(sess, expansion{})); err != nil {
		return err
	}
	job := jobAsyncSucceed
	if !p.account.succeeds {
		job = jobAsyncFail
	}
	if err := s.scheduleJob(t, sess.ID, job); err != nil {
		return err
	}
	return saveSession(t, sess)
}

// bankDetails is the payment_method_details of a debit from a test account in cur's bank method.
func bankDetails(cur string, account testAccount) ([]byte, error) {
	kind := bankMethods[cur].Type
	details, err := json.Marshal(map[string]any{
		"type": kind,
		kind:   map[string]any{"last4": account.number[len(account.number)-4:], "bank_name": "STRIPE TEST BANK"},
	})
	if err != nil {
		return nil, fmt.Errorf("encode bank details: %w", err)
	}
	return details, nil
}

// runJob settles a bank transfer; the job is marked done in the same transaction so it runs once.
func (s *Simulator) runJob(ctx context.Context, jobID int64, sessionID, kind string) error {
	return s.inTx(ctx, func(t *txn) error {
		if _, err := t.ExecContext(ctx, `UPDATE jobs SET done_ms = ? WHERE id = ?`, time.Now().UnixMilli(), jobID); err != nil {
			return fmt.Errorf("mark job %d done: %w", jobID, err)
		}
		if strings.HasPrefix(sessionID, "pi_") {
			return s.settleIntentBankDebit(t, sessionID, kind)
		}
		sess, err := loadSession(ctx, t, "id", sessionID)
		if errors.Is(err, errNoSession) {
			return nil
		}
		if err != nil {
			return err
		}
		if sess.PIStatus != piProcessing {
			return nil
		}
		switch kind {
		case jobAsyncSucceed:
			err = s.settleBankTransfer(t, sess)
		case jobAsyncFail:
			err = s.failBankTransfer(t, sess)
		default:
			err = fmt.Errorf("job %d has unknown kind %q", jobID, kind)
		}
		if err != nil {
			return err
		}
		return saveSession(t, sess)
	})
}

func (s *Simulator) settleBankTransfer(t *txn, sess *session) error {
	sess.BalanceTxn = newTxnID()
	sess.PIStatus = piSucceeded
	if err := s.emit(t, sess, "charge.succeeded", chargeObject(sess)); err != nil {
		return err
	}
	if err := s.emit(t, sess, "payment_intent.succeeded", paymentIntentObject(sess)); err != nil {
		return err
	}
	sess.PaymentStatus = paymentPaid
	return s.emit(t, sess, "checkout.session.async_payment_succeeded", s.sessionObject(sess, expansion{}))
}

func (s *Simulator) failBankTransfer(t *txn, sess *session) error {
	sess.PIStatus = piRequiresPaymentMethod
	sess.PILastError = &paymentErrorJSON{Type: "invalid_request_error", Code: "payment_method_provider_decline",
		Message: "The customer's bank refused the transfer (simulated with test account 000111111116)."}
	if err := s.emit(t, sess, "charge.failed", chargeObject(sess)); err != nil {
		return err
	}
	if err := s.emit(t, sess, "payment_intent.payment_failed", paymentIntentObject(sess)); err != nil {
		return err
	}
	return s.emit(t, sess, "checkout.session.async_payment_failed", s.sessionObject(sess, expansion{}))
}

func cardDetails(p payment) json.RawMessage {
	b, _ := json.Marshal(map[string]any{
		"type": "card",
		"card": map[string]any{
			"brand": p.card.brand, "last4": p.card.number[len(p.card.number)-4:],
			"exp_month": p.expMonth, "exp_year": p.expYear, "funding": "credit", "country": "US",
		},
	})
	return b
}
