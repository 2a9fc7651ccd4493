package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
)

// refundRequest is a validated POST /v1/refunds.
type refundRequest struct {
	paymentIntent string
	charge        string
	amount        int64 // 0 means everything not yet refunded
	reason        *string
	metadata      map[string]string
}

// refund refunds part or all of a session's charge and emits charge.refunded.
func (s *Simulator) refund(ctx context.Context, rr refundRequest, o origin) (refundJSON, error) {
	var out refundJSON
	err := s.inTx(ctx, func(t *txn) error {
		by, key, param, kind := "payment_intent", rr.paymentIntent, "payment_intent", "payment_intent"
		if rr.paymentIntent == "" {
			by, key, param, kind = "charge", rr.charge, "charge", "charge"
		}
		sess, save, err := refundTarget(t, by, key)
		if errors.Is(err, errNoSession) {
			return noSuch(http.StatusBadRequest, kind, key, param)
		}
		if err != nil {
			return err
		}
		if sess.ChargeID == "" || sess.PIStatus != piSucceeded {
			return invalidRequest(http.StatusBadRequest, "charge_not_refundable", param,
				"This PaymentIntent (%s) does not have a successful charge to refund.", sess.PaymentIntent)
		}
		remaining := sess.refundable()
		if remaining <= 0 {
			return invalidRequest(http.StatusBadRequest, "charge_already_refunded", "",
				"Charge %s has already been refunded.", sess.ChargeID)
		}
		amount := rr.amount
		if amount == 0 {
			amount = remaining
		}
		if amount > remaining {
			return invalidRequest(http.StatusBadRequest, "amount_too_large", "amount",
				"Refund amount (%s) is greater than unrefunded amount on charge (%s)",
				formatMoney(amount, sess.Currency), formatMoney(remaining, sess.Currency))
		}
		out = refundJSON{
			ID: newRefundID(), Object: "refund", Amount: amount, Charge: sess.ChargeID,
			Created: s.now().Unix(), Currency: sess.Currency, Metadata: maps.Clone(rr.metadata),
			PaymentIntent: sess.PaymentIntent, Reason: rr.reason, Status: "succeeded",
		}
		out.BalanceTransaction = refundBalanceTxn(out.ID)
		if out.Metadata == nil {
			out.Metadata = map[string]string{}
		}
		meta, err := json.Marshal(out.Metadata)
		if err != nil {
			return fmt.Errorf("encode refund metadata: %w", err)
		}
		if _, err := t.ExecContext(ctx, `INSERT INTO refunds (id, session_id, payment_intent, charge_id, amount,
			currency, reason, metadata, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			out.ID, sess.ID, sess.PaymentIntent, sess.ChargeID, amount, sess.Currency, rr.reason, string(meta), out.Created); err != nil {
			return fmt.Errorf("insert refund: %w", err)
		}
		prev := map[string]any{"amount_refunded": sess.AmountRefunded}
		wasRefunded := chargeObject(sess).Refunded
		sess.AmountRefunded += amount
		if chargeObject(sess).Refunded != wasRefunded {
			prev["refunded"] = wasRefunded
		}
		if err := save(sess); err != nil {
			return err
		}
		return s.enqueue(t, sess.ID, "charge.refunded", chargeObject(sess), prev, o)
	})
	return out, err
}

// refundTarget loads what a refund names, a Checkout Session's payment or an intent of the
// PaymentIntents API (seen as a session), with how to save its refunded amount.
func refundTarget(t *txn, by, key string) (*session, func(*session) error, error) {
	sess, err := loadSession(t.ctx, t, by, key)
	if !errors.Is(err, errNoSession) {
		return sess, func(sess *session) error { return saveSession(t, sess) }, err
	}
	var in *intent
	if by == "charge" {
		in, err = loadIntentByCharge(t.ctx, t, key)
	} else {
		in, err = loadIntent(t.ctx, t, key)
	}
	if errors.Is(err, errNoIntent) {
		return nil, nil, errNoSession
	}
	if err != nil {
		return nil, nil, err
	}
	return in.asSession(), func(sess *session) error {
		in.AmountRefunded = sess.AmountRefunded
		return saveIntent(t, in)
	}, nil
}

// refundColumns are what scanRefund reads.
const refundColumns = `id, amount, charge_id, created, currency, metadata, payment_intent, reason`

// loadRefund reads a refund back for GET /v1/refunds/{id}.
func (s *Simulator) loadRefund(ctx context.Context, id string) (refundJSON, error) {
	return scanRefund(s.db.QueryRowContext(ctx, `SELECT `+refundColumns+` FROM refunds WHERE id = ?`, id))
}

func scanRefund(row rowScanner) (refundJSON, error) {
	var (
		r      refundJSON
		reason *string
		meta   string
	)
	if err := row.Scan(&r.ID, &r.Amount, &r.Charge, &r.Created, &r.Currency, &meta, &r.PaymentIntent, &reason); err != nil {
		return r, err
	}
	r.Object, r.Reason, r.Status = "refund", reason, "succeeded"
	r.BalanceTransaction = refundBalanceTxn(r.ID)
	if err := json.Unmarshal([]byte(meta), &r.Metadata); err != nil {
		return r, fmt.Errorf("decode refund metadata: %w", err)
	}
	return r, nil
}

// refundBalanceTxn names the balance transaction a refund makes; derived, so it needs no column.
func refundBalanceTxn(refundID string) string { return derivedID("txn_", refundID, 24) }
