package handlers

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/a-h/templ"

	"storefront/components"
	"storefront/payments"
	"storefront/store"
)

// adminTopic is the broker topic of every order change, for the console's live order list.
const adminTopic = "admin:orders"

// adminStreamPath is the console's live order list; handleOrderEvents serves it (see adminStream).
const adminStreamPath = "/admin/orders/events"

var orderStatuses = []string{"pending", "processing", "paid", "needs_review", "failed", "expired", "refunded"}

func orderFilterOf(q url.Values) store.OrderFilter {
	f := store.OrderFilter{Email: strings.TrimSpace(q.Get("email"))}
	for _, st := range orderStatuses {
		if q.Get("status") == st {
			f.Status = store.Status(st)
		}
	}
	return f
}

// adminOrderJSON is an order as /admin/orders answers JSON: the shopper's fields plus who bought it.
type adminOrderJSON struct {
	orderJSON
	Email           string `json:"email"`
	PaymentIntentID string `json:"paymentIntentId"`
	ReviewReason    string `json:"reviewReason,omitempty"`
	AmountRefunded  int64  `json:"amountRefunded"`
}

func (s *server) handleAdminOrders() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f, page := orderFilterOf(r.URL.Query()), pageNumber(r)
		orders, total, err := s.Store.AdminOrders(r.Context(), f, adminPageSize, (page-1)*adminPageSize)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		w.Header().Add("Vary", "Accept")
		if wantsJSON(r) {
			out := struct {
				Orders []adminOrderJSON `json:"orders"`
			}{Orders: make([]adminOrderJSON, 0, len(orders))}
			for _, o := range orders {
				out.Orders = append(out.Orders, adminOrderJSON{orderJSON: orderJSONOf(o.Order), Email: o.Email(),
					PaymentIntentID: o.PaymentIntent, ReviewReason: o.ReviewReason, AmountRefunded: o.AmountRefunded})
			}
			s.writeJSON(w, r, http.StatusOK, out)
			return
		}
		list := components.AdminOrderList{Status: string(f.Status), Email: f.Email, Page: page, Total: total,
			Pages: max(1, (total+adminPageSize-1)/adminPageSize), Statuses: orderStatuses}
		for _, o := range orders {
			list.Orders = append(list.Orders, s.adminOrderView(r.Context(), o))
		}
		if page == 1 {
			list.StreamURL = adminStreamPath
			if q := r.URL.Query(); f.Status != "" || f.Email != "" {
				list.StreamURL += "?" + url.Values{"status": {q.Get("status")}, "email": {f.Email}}.Encode()
			}
		}
		title := "Orders"
		if f.Status == store.StatusNeedsReview {
			title = "Review queue"
		}
		s.render(w, r, http.StatusOK, components.AdminOrdersPage(s.page(r.Context(), s.visitorOf(r), title), list))
	}
}

// adminStream is the console's live order list: every order change that matches the page's
// filter arrives as a re-rendered row. It starts with the first page, like the page itself.
func (s *server) adminStream(r *http.Request) *orderStream {
	f := orderFilterOf(r.URL.Query())
	return &orderStream{
		topics: []string{adminTopic},
		snapshot: func(ctx context.Context) ([]store.Order, error) {
			orders, _, err := s.Store.AdminOrders(ctx, f, adminPageSize, 0)
			out := make([]store.Order, len(orders))
			for i := range orders {
				out[len(orders)-1-i] = orders[i].Order // oldest first: each row sorts itself in
			}
			return out, err
		},
		render: func(o store.Order) templ.Component {
			return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
				match := f
				match.OrderID = o.ID
				found, _, err := s.Store.AdminOrders(ctx, match, 1, 0)
				if err != nil || len(found) == 0 {
					return err // the order is not in this list
				}
				return components.AdminOrderRow(s.adminOrderView(ctx, found[0])).Render(ctx, w)
			})
		},
	}
}

func (s *server) adminOrderView(ctx context.Context, o store.AdminOrder) components.AdminOrder {
	view := components.AdminOrder{Order: orderView(o.Order), ReviewReason: o.ReviewReason, PaymentIntent: o.PaymentIntent,
		AmountRefunded: o.AmountRefunded, RefundedInFull: o.RefundedInFull, StockState: string(o.StockState)}
	view.Email = o.Email()
	if o.Status == store.StatusPaid || o.Status == store.StatusNeedsReview {
		pending, err := s.Store.RefundPending(ctx, o.Order)
		if err != nil {
			s.Logger.Error("sum refund requests", "error", err, "order_id", o.ID)
		}
		view.RefundPending = pending
	}
	return view
}

func (s *server) handleAdminOrder() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := s.pathID(w, r)
		if !ok {
			return
		}
		notice := ""
		switch r.URL.Query().Get("done") {
		case "refund":
			notice = "Refund asked of Stripe. The order changes when Stripe confirms it."
		case "accept":
			notice = "Order accepted as paid."
		}
		s.renderAdminOrder(w, r, http.StatusOK, id, notice, components.RefundForm{}, components.AcceptForm{})
	}
}

// renderAdminOrder shows the order page with the given forms (typed values and errors).
func (s *server) renderAdminOrder(w http.ResponseWriter, r *http.Request, status int, id int64, notice string, refund components.RefundForm, accept components.AcceptForm) {
	ctx := r.Context()
	o, err := s.Store.AdminOrder(ctx, id)
	if err != nil {
		s.storeError(w, r, err)
		return
	}
	events, err := s.Store.OrderEvents(ctx, o.Order)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	refunds, err := s.Store.RefundRequests(ctx, id)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d := components.AdminOrderDetail{Order: s.adminOrderView(ctx, o), Refund: refund, Accept: accept, Notice: notice}
	d.Refund.Left = max(o.AmountTotal-max(o.AmountRefunded, o.AmountRefunded+d.Order.RefundPending), 0)
	if o.RefundedInFull {
		d.Refund.Left = 0
	}
	for _, e := range events {
		d.Events = append(d.Events, eventView(e))
	}
	for _, rf := range refunds {
		d.Refunds = append(d.Refunds, components.AdminRefund{Amount: rf.Amount, Status: rf.Status, Error: rf.Error,
			RequestedBy: rf.RequestedBy, CreatedAt: rf.CreatedAt})
	}
	s.render(w, r, status, components.AdminOrderPage(s.page(ctx, s.visitorOf(r), "Order #"+itoa(id)), d))
}

// handleAdminRefund refunds an order in full or in part through the payment provider. The
// amount is checked against what is left before the provider is asked; the order itself changes
// only when the provider's charge.refunded event arrives.
func (s *server) handleAdminRefund() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := s.pathID(w, r)
		if !ok {
			return
		}
		ctx := r.Context()
		form := components.RefundForm{Amount: strings.TrimSpace(r.PostFormValue("amount"))}
		var amount int64 // 0: all that is left
		if form.Amount != "" {
			var err error
			if amount, err = parseMoney(form.Amount); err != nil {
				form.Error = err.Error()
				s.renderAdminOrder(w, r, http.StatusUnprocessableEntity, id, "", form, components.AcceptForm{})
				return
			}
		}
		refunder, ok := s.Payments.(Refunder)
		if !ok {
			s.errorPage(w, r, http.StatusNotImplemented, "Refunds unavailable", "This payment provider cannot refund from the shop.")
			return
		}
		req, o, err := s.Store.RequestRefund(ctx, s.actor(r), id, amount)
		var inv *store.InvalidError
		if errors.As(err, &inv) {
			form.Error = inv.Message
			s.renderAdminOrder(w, r, http.StatusUnprocessableEntity, id, "", form, components.AcceptForm{})
			return
		}
		if err != nil {
			s.storeError(w, r, err)
			return
		}
		err = refunder.RefundPayment(context.WithoutCancel(ctx), payments.RefundRequest{PaymentIntent: o.PaymentIntent,
			Amount: req.Amount, IdempotencyKey: req.IdempotencyKey()})
		if err != nil {
			s.Logger.Error("refund refused by the payment provider", "error", err, "order_id", id, "stripe_request_id", payments.RequestID(err))
			if ferr := s.Store.RefundFailed(context.WithoutCancel(ctx), req.ID, "Stripe refused the refund: "+stripeMessage(err)); ferr != nil {
				s.Logger.Error("record refund failure", "error", ferr, "order_id", id)
			}
			form.Error = "Stripe did not accept the refund, so nothing was refunded: " + stripeMessage(err)
			s.renderAdminOrder(w, r, http.StatusBadGateway, id, "", form, components.AcceptForm{})
			return
		}
		if err := s.Store.RefundSent(context.WithoutCancel(ctx), req.ID); err != nil {
			s.Logger.Error("record refund sent", "error", err, "order_id", id)
		}
		s.Logger.Info("refund requested", "order_id", id, "amount", req.Amount)
		after, err := s.Store.Order(ctx, id)
		if err == nil {
			s.publishOrder(after) // the list shows "refund requested"
		}
		redirect(w, r, "/admin/orders/"+itoa(id)+"?done=refund")
	}
}

// stripeMessage is the provider's own explanation of a refused call, or a plain one.
func stripeMessage(err error) string {
	if m := payments.ErrorMessage(err); m != "" {
		return m
	}
	return "it could not be reached."
}

// handleAdminAccept settles an order under review as paid, with a required note.
func (s *server) handleAdminAccept() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := s.pathID(w, r)
		if !ok {
			return
		}
		form := components.AcceptForm{Note: strings.TrimSpace(r.PostFormValue("note"))}
		o, err := s.Store.AcceptAsPaid(r.Context(), s.actor(r), id, form.Note)
		var inv *store.InvalidError
		if errors.As(err, &inv) {
			form.Error = inv.Message
			s.renderAdminOrder(w, r, http.StatusUnprocessableEntity, id, "", components.RefundForm{}, form)
			return
		}
		if err != nil {
			s.storeError(w, r, err)
			return
		}
		s.publishOrder(o)
		redirect(w, r, "/admin/orders/"+itoa(id)+"?done=accept")
	}
}
