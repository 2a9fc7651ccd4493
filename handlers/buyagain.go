package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"storefront/store"
)

// orderDetailStream watches one of the visitor's orders, for its own page: each message is the
// order's whole detail. It returns nil when there is no such order of theirs.
func (s *server) orderDetailStream(ctx context.Context, v *visitor, id string) *orderStream {
	orderID, err := strconv.ParseInt(id, 10, 64)
	if err != nil || v.user == nil {
		return nil
	}
	o, err := s.Store.Order(ctx, orderID)
	if err != nil || o.UserID != v.user.ID {
		return nil
	}
	return &orderStream{
		topics: []string{userTopic(v.user.ID)},
		snapshot: func(ctx context.Context) ([]store.Order, error) {
			o, err := s.Store.Order(ctx, orderID)
			return []store.Order{o}, err
		},
		keep: func(o *store.Order) bool { return o.ID == orderID },
		view: viewOrderDetail,
	}
}

// handleBuyAgain puts an order's products back in the visitor's cart, in the order's quantities
// and at today's prices, as far as they are still sold and in stock, and says what could not be
// added and what costs something else now. It then shows the cart, or the order again when
// nothing could be added.
func (s *server) handleBuyAgain() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := s.visitorOf(r)
		if o, ok := s.ownOrder(w, r, v, r.PathValue("id")); ok {
			s.buyAgain(w, r, v, o, "/orders/"+strconv.FormatInt(o.ID, 10))
		}
	}
}

// handleGuestBuyAgain is Buy again from a guest's signed order link, which is the permission;
// the products go into the cart of the browser that follows it.
func (s *server) handleGuestBuyAgain() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		o, ok := s.guestOrder(w, r)
		if !ok {
			return
		}
		v := s.visitorOf(r)
		if !s.newCartAllowed(w, r, v) {
			return
		}
		if err := s.ensureCartToken(w, r, v); err != nil {
			s.serverError(w, r, err)
			return
		}
		page := strings.TrimSuffix(r.URL.Path, "/buy-again") + "?" + r.URL.RawQuery
		s.buyAgain(w, r, v, o, page)
	}
}

// buyAgain adds order o's products to v's cart and tells the shopper what it did: on the cart,
// or on orderPage when nothing could be added.
func (s *server) buyAgain(w http.ResponseWriter, r *http.Request, v *visitor, o store.Order, orderPage string) {
	if o.Status == store.StatusPending {
		s.errorPage(w, r, http.StatusConflict, "Still awaiting payment",
			fmt.Sprintf("Order #%d is still awaiting payment: resume or cancel it from your orders instead.", o.ID))
		return
	}
	ctx := r.Context()
	cart, err := s.Store.Cart(ctx, v.cartRef())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	inCart := make(map[int64]int64, len(cart.Lines))
	for _, l := range cart.Lines {
		inCart[l.Product.ID] = int64(l.Quantity)
	}
	var added, missed, notes []string
	for _, it := range o.Items {
		p, err := s.Store.ProductByID(ctx, it.ProductID)
		if errors.Is(err, store.ErrNotFound) {
			missed = append(missed, it.Name+" (no longer sold)")
			continue
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		qty := int64(it.Quantity)
		if left := p.Available(); left >= 0 {
			qty = min(qty, left-inCart[p.ID])
		}
		if qty <= 0 {
			missed = append(missed, p.Name+" (sold out)")
			continue
		}
		err = s.Store.AddToCart(ctx, v.cartRef(), p.ID, int(qty))
		var inv *store.InvalidError
		if errors.As(err, &inv) {
			missed = append(missed, fmt.Sprintf("%s (%s)", p.Name, strings.TrimSuffix(inv.Message, ".")))
			continue
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		added = append(added, fmt.Sprintf("%d × %s", qty, p.Name))
		if qty < int64(it.Quantity) {
			notes = append(notes, fmt.Sprintf("Only %d %s could be added: that is all that is left.", qty, p.Name))
		}
		if p.Price != it.UnitAmount || !strings.EqualFold(p.Currency, o.Currency) {
			notes = append(notes, fmt.Sprintf("%s now costs %s (you paid %s).", p.Name,
				s.money(r, p.Price, p.Currency), s.money(r, it.UnitAmount, o.Currency)))
		}
	}
	s.setFlash(w, r, v, buyAgainMessage(added, missed, notes))
	if len(added) == 0 {
		redirect(w, r, orderPage)
		return
	}
	s.Logger.Info("bought again", "order_id", o.ID, "added", len(added), "missed", len(missed))
	redirect(w, r, "/cart")
}

// buyAgainMessage tells the shopper what Buy again did, in a sentence or a few.
func buyAgainMessage(added, missed, notes []string) string {
	var b strings.Builder
	if len(added) == 0 {
		b.WriteString("Nothing could be added to your cart")
	} else {
		b.WriteString("Added to your cart: " + strings.Join(added, ", ") + ".")
	}
	if len(missed) > 0 {
		if len(added) == 0 {
			b.WriteString(": " + strings.Join(missed, "; ") + ".")
		} else {
			b.WriteString(" Could not add " + strings.Join(missed, "; ") + ".")
		}
	} else if len(added) == 0 {
		b.WriteString(".")
	}
	for _, n := range notes {
		b.WriteString(" " + n)
	}
	return b.String()
}
