package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"time"

	"storefront/components"
	"storefront/store"
)

var eventOutcomes = []string{string(store.OutcomeApplied), string(store.OutcomeStale), string(store.OutcomeNeedsReview),
	string(store.OutcomeUnmatched), string(store.OutcomeRecorded)}

func eventView(e store.StoredEvent) components.AdminEvent {
	var pretty bytes.Buffer
	if json.Indent(&pretty, e.Payload, "", "  ") != nil {
		pretty.Reset()
		pretty.Write(e.Payload)
	}
	return components.AdminEvent{ID: e.ID, Type: e.Type, Outcome: string(e.Outcome), OrderID: e.OrderID,
		Created: time.Unix(e.Created, 0), ReceivedAt: e.ReceivedAt, Payload: pretty.String(),
		CanReapply: e.Outcome == store.OutcomeUnmatched}
}

func (s *server) handleAdminEvents() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		notice := ""
		if id := q.Get("reapplied"); id != "" {
			notice = "Event " + id + " applied again: " + q.Get("result") + "."
		}
		if summary := q.Get("reconciled"); summary != "" {
			notice = "Reconciled with the payment provider. " + summary + "."
		}
		s.renderEvents(w, r, http.StatusOK, notice, "")
	}
}

func (s *server) renderEvents(w http.ResponseWriter, r *http.Request, status int, notice, problem string) {
	ctx := r.Context()
	q := r.URL.Query()
	l := components.AdminEventList{Type: q.Get("type"), Page: pageNumber(r), Outcomes: eventOutcomes, Notice: notice, Error: problem}
	for _, o := range eventOutcomes {
		if q.Get("outcome") == o {
			l.Outcome = o
		}
	}
	types, err := s.Store.EventTypes(ctx)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	l.Types = types
	events, err := s.Store.Events(ctx, store.EventFilter{Type: l.Type, Outcome: store.Outcome(l.Outcome)}, adminPageSize+1, (l.Page-1)*adminPageSize)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	l.HasNext = len(events) > adminPageSize
	for i, e := range events {
		if i < adminPageSize {
			l.Events = append(l.Events, eventView(e))
		}
	}
	s.render(w, r, status, components.AdminEventsPage(s.page(ctx, s.visitorOf(r), "Payment events"), l))
}

// handleAdminReapply applies again an event that matched no order, through the same
// exactly-once pipeline as the webhook, and publishes the order it moved.
func (s *server) handleAdminReapply() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		res, err := s.Store.ReapplyEvent(r.Context(), s.actor(r), id)
		var inv *store.InvalidError
		switch {
		case errors.As(err, &inv):
			s.renderEvents(w, r, http.StatusConflict, "", inv.Message)
			return
		case err != nil:
			s.storeError(w, r, err)
			return
		}
		s.Logger.Info("event re-applied", "event_id", id, "outcome", res.Outcome, "reason", res.Reason)
		if res.Order != nil {
			s.publishOrder(*res.Order)
		}
		if res.Membership != nil {
			s.publishMembership(*res.Membership)
		}
		result := string(res.Outcome)
		if res.Reason != "" {
			result += " (" + res.Reason + ")"
		}
		redirect(w, r, "/admin/events?"+url.Values{"reapplied": {id}, "result": {result}}.Encode())
	}
}
