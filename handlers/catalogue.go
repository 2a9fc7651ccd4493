package handlers

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/a-h/templ"

	"storefront/components"
	"storefront/store"
)

// gridCache holds the product grid rendered for one catalogue version, once per money locale:
// the grid is the same for every visitor reading prices the same way, and rendering it is most
// of the home page's cost.
type gridCache struct {
	mu      sync.Mutex
	version int64
	html    map[string]templ.Component // by locale tag
}

func (s *server) handleCatalogue() http.HandlerFunc {
	var cache gridCache
	var pages cataloguePages // the whole page, for anonymous visitors with no cart
	return func(w http.ResponseWriter, r *http.Request) {
		products, version, err := s.Store.Catalogue(r.Context())
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if q, ok := catalogueQuery(r); ok {
			q.StockStream = components.CatalogueStockStream(version)
			s.serveSearch(w, r, q, products)
			return
		}
		v := s.visitorOf(r)
		shared := cacheable(r, v)
		locale := components.LocaleOf(r.Context()).Tag
		if p := pages.get(version, locale); shared && p != nil {
			p.serve(w, r)
			return
		}
		cache.mu.Lock()
		if cache.version != version {
			cache.version, cache.html = version, make(map[string]templ.Component)
		}
		grid := cache.html[locale]
		if grid == nil {
			views := make([]components.Product, len(products))
			for i, p := range products {
				views[i] = productView(p)
			}
			var b strings.Builder
			if err := components.ProductGrid(views).Render(r.Context(), &b); err != nil {
				cache.mu.Unlock()
				s.serverError(w, r, err)
				return
			}
			grid = templ.Raw(b.String())
			cache.html[locale] = grid
		}
		cache.mu.Unlock()
		page := components.Catalogue(s.page(r.Context(), v, ""), components.CatalogueStockStream(version), grid)
		if shared {
			var b bytes.Buffer
			if err := page.Render(r.Context(), &b); err != nil {
				s.serverError(w, r, err)
				return
			}
			pages.put(version, locale, b.Bytes()).serve(w, r)
			return
		}
		s.render(w, r, http.StatusOK, page)
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
		form := components.AddForm{ProductID: p.ID, Quantity: "1", SoldOut: p.Available() == 0}
		s.render(w, r, http.StatusOK, components.ProductPage(s.page(r.Context(), s.visitorOf(r), p.Name), productView(p), form))
	}
}
