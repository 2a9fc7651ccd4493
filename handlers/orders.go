package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"storefront/components"
	"storefront/store"
)

// ordersPerPage is how many orders a page of the history (and the first page's live stream)
// carries, newest first.
const ordersPerPage = 20

// ordersPerJSONPage is how many a JSON answer carries: as many as the history gave before it was
// paged, so that a client reading one answer still gets a long history whole; Link headers
// name the next page.
const ordersPerJSONPage = 100

// orderJSON is an order as clients asking with `Accept: application/json` read it; its field names are a contract.
type orderJSON struct {
	ID                int64           `json:"id"`
	Status            string          `json:"status"`
	AmountTotal       int64           `json:"amountTotal"`
	Currency          string          `json:"currency"`
	CheckoutSessionID string          `json:"checkoutSessionId"`
	PaymentIntentID   string          `json:"paymentIntentId"`
	Kind              string          `json:"kind"` // checkout or payment_intent
	CreatedAt         time.Time       `json:"createdAt"`
	Items             []orderItemJSON `json:"items"`
}

type orderItemJSON struct {
	ProductID  int64  `json:"productId"`
	Name       string `json:"name"`
	Quantity   int    `json:"quantity"`
	UnitAmount int64  `json:"unitAmount"`
}

// requireUser returns the logged-in user, or answers itself: a login redirect that comes back
// here for pages, 401 for JSON, and reports false.
func (s *server) requireUser(w http.ResponseWriter, r *http.Request) (*visitor, bool) {
	v := s.visitorOf(r)
	if v.user != nil {
		return v, true
	}
	if wantsJSON(r) {
		s.writeJSON(w, r, http.StatusUnauthorized, map[string]string{"error": "log in to see your orders"})
		return v, false
	}
	next := "/login?next=" + url.QueryEscape(r.URL.RequestURI())
	redirect(w, r, next)
	return v, false
}

func (s *server) handleOrders() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, ok := s.requireUser(w, r)
		if !ok {
			return
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("page")) // a missing or bad page is the first
		per := ordersPerPage
		if wantsJSON(r) {
			per = ordersPerJSONPage
		}
		list, err := s.Store.OrdersPageForUser(r.Context(), v.user.ID, page, per)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Add("Vary", "Accept")
		view := components.OrderList{Page: list.Page, Pages: list.Pages}
		if list.Page > 1 {
			view.PrevURL = ordersPageURL(list.Page - 1)
			w.Header().Add("Link", "<"+view.PrevURL+`>; rel="prev"`)
		}
		if list.Page < list.Pages {
			view.NextURL = ordersPageURL(list.Page + 1)
			w.Header().Add("Link", "<"+view.NextURL+`>; rel="next"`)
		}
		if wantsJSON(r) {
			out := struct {
				Orders []orderJSON `json:"orders"`
			}{Orders: make([]orderJSON, 0, len(list.Orders))}
			for _, o := range list.Orders {
				out.Orders = append(out.Orders, orderJSONOf(o))
			}
			s.writeJSON(w, r, http.StatusOK, out)
			return
		}
		view.Orders = make([]components.Order, len(list.Orders))
		for i, o := range list.Orders {
			view.Orders[i] = orderView(o)
		}
		title := "Orders"
		if list.Page > 1 {
			title = "Orders, page " + strconv.Itoa(list.Page)
		}
		s.render(w, r, http.StatusOK, components.OrdersPage(s.page(r.Context(), v, title), view))
	}
}

// ordersPageURL is the address of a page of the order history; the first has no parameter.
func ordersPageURL(page int) string {
	if page <= 1 {
		return "/orders"
	}
	return "/orders?page=" + strconv.Itoa(page)
}

func (s *server) handleOrder() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, ok := s.requireUser(w, r)
		if !ok {
			return
		}
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			s.notFound(w, r)
			return
		}
		o, err := s.Store.Order(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) || (err == nil && o.UserID != v.user.ID) {
			s.notFound(w, r)
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		s.render(w, r, http.StatusOK, components.OrderPage(s.page(r.Context(), v, "Order #"+strconv.FormatInt(o.ID, 10)), orderView(o)))
	}
}

// orderJSONOf is an order in the JSON shape clients read.
func orderJSONOf(o store.Order) orderJSON {
	j := orderJSON{ID: o.ID, Status: string(o.Status), AmountTotal: o.AmountTotal, Currency: o.Currency,
		CheckoutSessionID: o.CheckoutSessionID, PaymentIntentID: o.PaymentIntent, Kind: string(o.Kind),
		CreatedAt: o.CreatedAt.UTC(), Items: []orderItemJSON{}}
	for _, it := range o.Items {
		j.Items = append(j.Items, orderItemJSON{ProductID: it.ProductID, Name: it.Name, Quantity: it.Quantity, UnitAmount: it.UnitAmount})
	}
	return j
}

// ownOrder loads the order named by id if the visitor may see it: its user, or for a guest's
// order the holder of the cart it came from. Otherwise it answers 404 itself.
func (s *server) ownOrder(w http.ResponseWriter, r *http.Request, v *visitor, id string) (store.Order, bool) {
	orderID, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		s.notFound(w, r)
		return store.Order{}, false
	}
	o, err := s.Store.Order(r.Context(), orderID)
	if errors.Is(err, store.ErrNotFound) {
		s.notFound(w, r)
		return store.Order{}, false
	}
	if err != nil {
		s.serverError(w, r, err)
		return store.Order{}, false
	}
	mine := o.UserID != 0 && v.user != nil && o.UserID == v.user.ID
	if o.UserID == 0 && v.user == nil && v.cartToken != "" && o.CartID != 0 {
		cart, err := s.Store.Cart(r.Context(), v.cartRef())
		if err != nil {
			s.serverError(w, r, err)
			return store.Order{}, false
		}
		mine = cart.ID == o.CartID
	}
	if !mine {
		s.notFound(w, r)
		return store.Order{}, false
	}
	return o, true
}
