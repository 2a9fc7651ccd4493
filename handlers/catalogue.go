package handlers

import (
	"errors"
	"net/http"

	"storefront/components"
	"storefront/store"
)

func (s *server) handleCatalogue() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		products, err := s.Store.Products(r.Context())
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		views := make([]components.Product, len(products))
		for i, p := range products {
			views[i] = productView(p)
		}
		s.render(w, r, http.StatusOK, components.Catalogue(s.page(r.Context(), s.visit(r), ""), views))
	}
}

func (s *server) handleProduct() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := s.Store.ProductBySlug(r.Context(), r.PathValue("slug"))
		if errors.Is(err, store.ErrNotFound) {
			s.errorPage(w, r, http.StatusNotFound, "Product not found", "We do not sell anything by that name. Have a look at the rest of the shop.")
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		form := components.AddForm{ProductID: p.ID, Quantity: "1"}
		s.render(w, r, http.StatusOK, components.ProductPage(s.page(r.Context(), s.visit(r), p.Name), productView(p), form))
	}
}
