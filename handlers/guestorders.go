package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"storefront/components"
	"storefront/store"
)

// orderLookup is the form that mails a guest links to their orders.
func (s *server) orderLookup() emailRequest {
	return emailRequest{name: "lookup", title: "Find your order", page: components.OrderLookupPage,
		form: components.OrderLookupForm, request: s.Store.RequestOrderLookup}
}

// handleGuestOrder shows a guest's order through a signed link from a mail; the status updates
// live. A link that is forged, altered or expired, or names an account's order, finds nothing.
func (s *server) handleGuestOrder() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Cache-Control", "no-store")
		q := r.URL.Query()
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil || !s.GuestLinks.valid(id, q.Get("expires"), q.Get("sig")) {
			s.errorPage(w, r, http.StatusNotFound, "Link expired",
				"This order link has expired or is not valid. Ask for a new one at /orders/lookup.")
			return
		}
		o, err := s.Store.Order(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) || (err == nil && o.UserID != 0) {
			s.notFound(w, r)
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		stream := ""
		if o.CheckoutSessionID != "" {
			stream = "/orders/events?session_id=" + url.QueryEscape(o.CheckoutSessionID)
		}
		title := "Order #" + strconv.FormatInt(o.ID, 10)
		s.render(w, r, http.StatusOK, components.GuestOrderPage(s.page(r.Context(), s.visitorOf(r), title), orderView(o), stream))
	}
}
