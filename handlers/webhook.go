package handlers

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"

	"storefront/payments"
	"storefront/store"
)

// maxWebhookBody is the largest event accepted; Stripe's are a few KiB.
const maxWebhookBody = 64 << 10

// seenAPIVersions remembers which Stripe API versions have been logged, to log each once.
var seenAPIVersions sync.Map

// handleWebhook receives Stripe's events: verify the signature, store the event and apply its
// effect in one transaction, and only then answer 200. Duplicates and unknown types get 200 too,
// so Stripe stops resending them; a database failure gets 500, so Stripe retries.
func (s *server) handleWebhook() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.webhookRefused(w, r, http.StatusRequestEntityTooLarge, "payload larger than 64 KiB", err)
			return
		}
		if err != nil {
			s.webhookRefused(w, r, http.StatusBadRequest, "could not read body", err)
			return
		}
		ev, err := payments.ParseWebhook(body, r.Header.Get("Stripe-Signature"), s.WebhookSecrets)
		if errors.Is(err, payments.ErrSignature) {
			s.webhookRefused(w, r, http.StatusBadRequest, "invalid signature", err)
			return
		}
		if err != nil {
			s.webhookRefused(w, r, http.StatusBadRequest, "malformed event", err)
			return
		}
		if _, seen := seenAPIVersions.LoadOrStore(ev.APIVersion, true); !seen {
			level := slog.LevelInfo
			if ev.APIVersion != payments.APIVersion {
				level = slog.LevelWarn
			}
			s.Logger.Log(r.Context(), level, "stripe events arriving with api version", "api_version", ev.APIVersion,
				"library_api_version", payments.APIVersion, "note", "only fields stable across versions are read")
		}

		// The transaction must finish even if Stripe hangs up: once committed, it stays committed.
		ctx := context.WithoutCancel(r.Context())
		res, err := s.Store.ApplyEvent(ctx, storeEvent(ev, body))
		if err != nil {
			s.Logger.Error("webhook not stored; Stripe will retry", "error", err, "event_id", ev.ID, "type", ev.Type)
			s.writeJSON(w, r, http.StatusInternalServerError, map[string]string{"error": "could not record event"})
			return
		}
		s.logOutcome(ev, res)
		if res.Order != nil {
			s.Publisher.PublishOrder(*res.Order)
		}
		s.writeJSON(w, r, http.StatusOK, map[string]string{"received": ev.ID, "outcome": string(res.Outcome)})
	}
}

func (s *server) webhookRefused(w http.ResponseWriter, r *http.Request, status int, reason string, err error) {
	s.Logger.Warn("webhook refused", "reason", reason, "error", err, "status", status)
	s.writeJSON(w, r, status, map[string]string{"error": reason})
}

func (s *server) logOutcome(ev payments.Event, res store.EventResult) {
	attrs := []any{"event_id", ev.ID, "type", ev.Type, "outcome", res.Outcome}
	if res.Order != nil {
		attrs = append(attrs, "order_id", res.Order.ID, "from", res.From, "to", res.Order.Status)
	}
	if res.Reason != "" {
		attrs = append(attrs, "reason", res.Reason)
	}
	switch res.Outcome {
	case store.OutcomeNeedsReview:
		s.Logger.Error("payment does not match its order; order needs review", attrs...)
	case store.OutcomeUnmatched:
		s.Logger.Warn("event matches no order", attrs...)
	default:
		s.Logger.Info("webhook", attrs...)
	}
}

func storeEvent(ev payments.Event, payload []byte) store.Event {
	o := ev.Object
	return store.Event{ID: ev.ID, Type: ev.Type, APIVersion: ev.APIVersion, Created: ev.Created, Payload: payload,
		Object: store.EventObject{ID: o.ID, Status: o.Status, PaymentStatus: o.PaymentStatus, AmountTotal: o.AmountTotal,
			Currency: o.Currency, ClientReferenceID: o.ClientReferenceID, OrderID: o.Metadata["order_id"],
			PaymentIntent: o.PaymentIntent, CustomerEmail: o.CustomerEmail, AmountRefunded: o.AmountRefunded,
			Refunded: o.Refunded}}
}
