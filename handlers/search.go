package handlers

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"storefront/components"
	"storefront/store"
)

// searchPageSize is how many products a page of search results shows.
const searchPageSize = 12

// catalogueSorts are the orders a shopper may ask for (?sort=).
var catalogueSorts = map[string]func(a, b store.Product) int{
	"price_asc":  func(a, b store.Product) int { return cmp.Or(cmp.Compare(a.Price, b.Price), cmp.Compare(a.ID, b.ID)) },
	"price_desc": func(a, b store.Product) int { return cmp.Or(cmp.Compare(b.Price, a.Price), cmp.Compare(a.ID, b.ID)) },
	"name": func(a, b store.Product) int {
		return cmp.Or(strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.ID, b.ID))
	},
}

// catalogueQuery reads ?q=&sort=&page= leniently: an unknown sort is the shop's own order, a
// page out of range the nearest one. It reports false for the plain home page.
func catalogueQuery(r *http.Request) (components.CatalogueQuery, bool) {
	v := r.URL.Query()
	q := components.CatalogueQuery{Q: strings.TrimSpace(v.Get("q")), Sort: v.Get("sort"), Page: 1}
	if len(q.Q) > 100 {
		q.Q = q.Q[:100]
	}
	if _, ok := catalogueSorts[q.Sort]; !ok {
		q.Sort = ""
	}
	if n, err := strconv.Atoi(v.Get("page")); err == nil && n > 1 {
		q.Page = n
	}
	return q, q.Q != "" || q.Sort != "" || q.Page > 1
}

// serveSearch answers a catalogue search, sort or page: the whole page, or for htmx (the
// search box filtering as the shopper types) just the results.
func (s *server) serveSearch(w http.ResponseWriter, r *http.Request, q components.CatalogueQuery, products []store.Product) {
	words := strings.Fields(strings.ToLower(q.Q))
	var found []store.Product
	for _, p := range products {
		text := strings.ToLower(p.Name + " " + p.Description)
		if !slices.ContainsFunc(words, func(w string) bool { return !strings.Contains(text, w) }) {
			found = append(found, p)
		}
	}
	if by := catalogueSorts[q.Sort]; by != nil {
		found = slices.Clone(found)
		slices.SortStableFunc(found, by)
	}
	q.Total = len(found)
	q.Pages = max(1, (len(found)+searchPageSize-1)/searchPageSize)
	q.Page = min(q.Page, q.Pages)
	page := found[(q.Page-1)*searchPageSize : min(len(found), q.Page*searchPageSize)]
	if q.Page > 1 {
		q.PrevURL = searchURL(q, q.Page-1)
	}
	if q.Page < q.Pages {
		q.NextURL = searchURL(q, q.Page+1)
	}
	views := make([]components.Product, len(page))
	for i, p := range page {
		views[i] = productView(p)
	}
	grid := components.ProductGrid(views)
	if isHTMX(r) {
		s.render(w, r, http.StatusOK, components.CatalogueResults(q, grid))
		return
	}
	p := s.page(r.Context(), s.visitorOf(r), "Search")
	s.render(w, r, http.StatusOK, components.CataloguePage(p, q, grid))
}

func searchURL(q components.CatalogueQuery, page int) string {
	v := url.Values{}
	if q.Q != "" {
		v.Set("q", q.Q)
	}
	if q.Sort != "" {
		v.Set("sort", q.Sort)
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	return "/?" + v.Encode()
}
