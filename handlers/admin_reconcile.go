package handlers

import (
	"errors"
	"net/http"
	"net/url"

	"storefront/reconcile"
)

// handleAdminReconcile is the console's "Reconcile now": the same run as the periodic one and
// `storefront reconcile`, recorded in the audit log, its summary shown on the event log.
func (s *server) handleAdminReconcile() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.Reconcile == nil {
			s.renderEvents(w, r, http.StatusServiceUnavailable, "", "Reconcile is not available: the shop has no payment provider to ask.")
			return
		}
		res, err := s.reconcileNow(r.Context())
		switch {
		case errors.Is(err, reconcile.ErrRunning):
			s.renderEvents(w, r, http.StatusConflict, "", "A reconcile is already running; its result will be in the log when it ends.")
			return
		case err != nil:
			s.renderEvents(w, r, http.StatusBadGateway, "", "Reconcile failed: "+err.Error())
			return
		}
		if err := s.Store.RecordAudit(r.Context(), s.actor(r), "reconcile", "payment events", res.String()); err != nil {
			s.Logger.Error("record reconcile in the audit log", "error", err)
		}
		redirect(w, r, "/admin/events?"+url.Values{"reconciled": {res.String()}}.Encode())
	}
}
