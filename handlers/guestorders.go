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
		o, ok := s.guestOrder(w, r)
		if !ok {
			return
		}
		stream := ""
		if o.CheckoutSessionID != "" {
			stream = "/orders/events?session_id=" + url.QueryEscape(o.CheckoutSessionID)
		}
		buyAgain := ""
		if o.Status != store.StatusPending {
			buyAgain = r.URL.Path + "/buy-again?" + r.URL.RawQuery
		}
		title := "Order #" + strconv.FormatInt(o.ID, 10)
		s.render(w, r, http.StatusOK, components.GuestOrderPage(s.page(r.Context(), s.visitorOf(r), title), orderView(o), stream, buyAgain))
	}
}

// guestOrder loads the guest's order a signed link names, or answers itself (404) when the link
// is forged, altered or expired, or names an account's order.
func (s *server) guestOrder(w http.ResponseWriter, r *http.Request) (store.Order, bool) {
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-store")
	q := r.URL.Query()
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || !s.GuestLinks.valid(id, q.Get("expires"), q.Get("sig")) {
		s.errorPage(w, r, http.StatusNotFound, "Link expired",
			"This order link has expired or is not valid. Ask for a new one at /orders/lookup.")
		return store.Order{}, false
	}
	o, err := s.Store.Order(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && o.UserID != 0) {
		s.notFound(w, r)
		return store.Order{}, false
	}
	if err != nil {
		s.serverError(w, r, err)
		return store.Order{}, false
	}
	return o, true
}
