package handlers

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"storefront/payments"
	"storefront/store"
)

// maxWebhookBody is the largest event accepted; Stripe's are a few KiB.
const maxWebhookBody = 64 << 10

// handleWebhook receives Stripe's events: verify the signature, let payments read what the
// event means for the shop, record and apply that change in one transaction, and only then
// answer 200. Duplicates and unknown types get 200 too, so Stripe stops resending them; a
// database failure gets 500, so Stripe retries.
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
		ch, err := payments.ParseWebhook(body, r.Header.Get("Stripe-Signature"), s.WebhookSecrets)
		if errors.Is(err, payments.ErrSignature) {
			s.webhookRefused(w, r, http.StatusBadRequest, "invalid signature", err)
			return
		}
		if err != nil {
			s.webhookRefused(w, r, http.StatusBadRequest, "malformed event", err)
			return
		}
		s.noteAPIVersion(r.Context(), ch.Event.APIVersion)

		// The transaction must finish even if Stripe hangs up: once committed, it stays committed.
		ctx := context.WithoutCancel(r.Context())
		res, err := s.Store.ApplyChange(ctx, ch)
		if err != nil {
			s.Logger.Error("webhook not stored; Stripe will retry", "error", err, "event_id", ch.Event.ID, "type", ch.Event.Type)
			s.writeJSON(w, r, http.StatusInternalServerError, map[string]string{"error": "could not record event"})
			return
		}
		s.logOutcome(ch.Event, res)
		if res.Order != nil {
			s.publishOrder(*res.Order)
		}
		if res.Membership != nil {
			s.publishMembership(*res.Membership)
		}
		s.writeJSON(w, r, http.StatusOK, map[string]string{"received": ch.Event.ID, "outcome": string(res.Outcome)})
	}
}

// noteAPIVersion logs each Stripe API version the first time an event arrives in it: a version
// newer than stripe-go's is read through the fields that are stable across versions.
func (s *server) noteAPIVersion(ctx context.Context, version string) {
	if _, seen := s.apiVersions.LoadOrStore(version, true); seen {
		return
	}
	level := slog.LevelInfo
	if version != payments.APIVersion {
		level = slog.LevelWarn
	}
	s.Logger.Log(ctx, level, "stripe events arriving with api version", "api_version", version,
		"library_api_version", payments.APIVersion, "note", "only fields stable across versions are read")
}

func (s *server) webhookRefused(w http.ResponseWriter, r *http.Request, status int, reason string, err error) {
	s.Logger.Warn("webhook refused", "reason", reason, "error", err, "status", status)
	s.writeJSON(w, r, status, map[string]string{"error": reason})
}

func (s *server) logOutcome(ev store.EventRecord, res store.EventResult) {
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
