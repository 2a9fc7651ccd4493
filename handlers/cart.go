package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"storefront/components"
	"storefront/store"
)

// cartUpdated tells htmx to fire cart-updated on <body>, where the nav badge listens. The event
// must not fire on the submitting form: an outerHTML swap has already taken it out of the page.
const cartUpdated = `{"cart-updated":{"target":"body"}}`

func (s *server) handleCart() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := s.visitorOf(r)
		c, err := s.Store.Cart(r.Context(), v.cartRef())
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		s.render(w, r, http.StatusOK, components.CartPage(s.page(r.Context(), v, "Cart"), s.cartView(r.Context(), c, v)))
	}
}

func (s *server) handleCartBadge() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n, err := s.Store.CartCount(r.Context(), s.visitorOf(r).cartRef())
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		s.render(w, r, http.StatusOK, components.CartBadge(n))
	}
}

// parseQuantity reads a quantity field: a whole number in [lo, store.MaxQuantity].
func parseQuantity(raw string, lo int) (int, string) {
	q, err := strconv.Atoi(strings.TrimSpace(raw))
	if err != nil || q < lo || q > store.MaxQuantity {
		return 0, fmt.Sprintf("Quantity must be a whole number from %d to %d.", lo, store.MaxQuantity)
	}
	return q, ""
}

func (s *server) handleAddToCart() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := s.visitorOf(r)
		productID, err := strconv.ParseInt(r.PostFormValue("product_id"), 10, 64)
		if err != nil || productID <= 0 {
			s.errorPage(w, r, http.StatusBadRequest, "Product not available", "That product is not available.")
			return
		}
		form := components.AddForm{ProductID: productID, Quantity: r.PostFormValue("quantity")}
		qty, msg := parseQuantity(form.Quantity, 1)
		if msg == "" && !s.newCartAllowed(w, r, v) {
			return
		}
		if msg == "" {
			if err := s.ensureCartToken(w, r, v); err != nil {
				s.serverError(w, r, err)
				return
			}
			err = s.Store.AddToCart(r.Context(), v.cartRef(), productID, qty)
			var inv *store.InvalidError
			switch {
			case errors.As(err, &inv):
				msg = inv.Message
			case err != nil:
				s.serverError(w, r, err)
				return
			}
		}
		if msg != "" {
			form.Error = msg
			s.addToCartRefused(w, r, v, form)
			return
		}
		if !isHTMX(r) {
			http.Redirect(w, r, "/cart", http.StatusSeeOther)
			return
		}
		w.Header().Set("HX-Trigger", cartUpdated)
		s.render(w, r, http.StatusOK, components.AddToCart(components.AddForm{ProductID: productID, Quantity: "1", Added: qty}))
	}
}

// addToCartRefused shows why an item was not added: beside the form for htmx, or on the
// product's page for a plain form.
func (s *server) addToCartRefused(w http.ResponseWriter, r *http.Request, v *visitor, form components.AddForm) {
	if isHTMX(r) {
		s.render(w, r, http.StatusBadRequest, components.AddToCart(form))
		return
	}
	p, err := s.Store.ProductByID(r.Context(), form.ProductID)
	if err == nil {
		s.render(w, r, http.StatusBadRequest, components.ProductPage(s.page(r.Context(), v, p.Name), productView(p), form))
		return
	}
	if !errors.Is(err, store.ErrNotFound) {
		s.serverError(w, r, err)
		return
	}
	s.errorPage(w, r, http.StatusBadRequest, "Product not available", form.Error)
}

func (s *server) handleSetCartQuantity() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := s.visitorOf(r)
		productID, err := strconv.ParseInt(r.PathValue("product_id"), 10, 64)
		if err != nil {
			s.notFound(w, r)
			return
		}
		qty, msg := parseQuantity(r.PostFormValue("quantity"), 0)
		if msg == "" {
			err = s.Store.SetCartQuantity(r.Context(), v.cartRef(), productID, qty)
			if errors.Is(err, store.ErrNotFound) {
				msg = "That item is no longer in your cart."
			} else if err != nil {
				s.serverError(w, r, err)
				return
			}
		}
		if msg == "" && !isHTMX(r) {
			http.Redirect(w, r, "/cart", http.StatusSeeOther)
			return
		}
		c, err := s.Store.Cart(r.Context(), v.cartRef())
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		view := s.cartView(r.Context(), c, v)
		status := http.StatusOK
		if msg != "" {
			status = http.StatusBadRequest
			view.Error = msg
			for i := range view.Lines {
				if view.Lines[i].Product.ID == productID {
					view.Lines[i].Error, view.Error = msg, ""
				}
			}
		}
		w.Header().Set("HX-Trigger", cartUpdated)
		if isHTMX(r) {
			s.render(w, r, status, components.CartSection(view))
			return
		}
		s.render(w, r, status, components.CartPage(s.page(r.Context(), v, "Cart"), view))
	}
}

// newCartAllowed reports whether the visitor may put something in their cart: always with a
// cart or an account, within the limit of new anonymous carts per address otherwise. When not,
// it answers 429 itself.
func (s *server) newCartAllowed(w http.ResponseWriter, r *http.Request, v *visitor) bool {
	if v.user != nil || v.cartToken != "" {
		return true
	}
	if ok, wait := s.limiter.take(r.Context(), "cart:"+clientAddr(r), cartsPerAddr, cartWindow); !ok {
		retryAfter(w, wait)
		s.Logger.Warn("new cart rate limited", "addr", clientAddr(r))
		s.errorPage(w, r, http.StatusTooManyRequests, "Too many new carts",
			"Too many new carts were started from your network. Please try again later, or log in.")
		return false
	}
	return true
}
