package handlers

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"storefront/store"
)

// productNames lists the product names a catalogue page shows, in order.
func productNames(body string) []string {
	var names []string
	for _, m := range regexp.MustCompile(`<h2><a href="/products/[^"]+">([^<]+)</a></h2>`).FindAllStringSubmatch(body, -1) {
		names = append(names, m[1])
	}
	return names
}

func TestCatalogueSearchSortAndPaging(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t)
	c := shop.client()

	all := productNames(c.get("/").body)
	if len(all) < 3 {
		t.Fatalf("the catalogue shows %d products", len(all))
	}
	res := c.get("/?q=MUG")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.body, `value="MUG"`) {
		t.Fatalf("search: %d", res.StatusCode)
	}
	if got := productNames(res.body); len(got) != 1 || got[0] != "Stoneware Mug" {
		t.Errorf("?q=MUG found %v, want the Stoneware Mug", got)
	}
	// Every word must match, in the name or the description.
	if got := productNames(c.get("/?q=cotton+canvas").body); len(got) != 1 || got[0] != "Canvas Tote Bag" {
		t.Errorf("?q=cotton canvas found %v", got)
	}
	if res := c.get("/?q=zzzz"); len(productNames(res.body)) != 0 || !strings.Contains(res.body, "Nothing matches") {
		t.Errorf("a search that matches nothing does not say so")
	}

	prices := func(body string) []string {
		var out []string
		for _, m := range regexp.MustCompile(`<p class="price">\$([0-9.,]+)</p>`).FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	asc, desc := prices(c.get("/?sort=price_asc").body), prices(c.get("/?sort=price_desc").body)
	if len(asc) == 0 || asc[0] == asc[len(asc)-1] || asc[0] != desc[len(desc)-1] || asc[len(asc)-1] != desc[0] {
		t.Errorf("price sorts disagree: asc %v, desc %v", asc, desc)
	}
	byName := productNames(c.get("/?sort=name").body)
	for i := 1; i < len(byName); i++ {
		if strings.ToLower(byName[i-1]) > strings.ToLower(byName[i]) {
			t.Errorf("?sort=name is out of order: %v", byName)
			break
		}
	}

	// htmx asks for just the results, which the page swaps in as the shopper types.
	frag := c.get("/?q=mug", "HX-Request", "true")
	if strings.Contains(frag.body, "<html") || !strings.HasPrefix(strings.TrimSpace(frag.body), `<section id="catalogue-results"`) {
		t.Errorf("htmx search answered a whole page or no results section:\n%.300s", frag.body)
	}
	// A page past the end shows the last one; the home page has the search form too.
	if res := c.get("/?page=99"); res.StatusCode != http.StatusOK || len(productNames(res.body)) == 0 {
		t.Errorf("?page=99: %d with %d products", res.StatusCode, len(productNames(res.body)))
	}
	if home := c.get("/"); !strings.Contains(home.body, `role="search"`) {
		t.Errorf("the home page has no search form")
	}

	// Enough lamps for two pages: 12 on the first, the rest on the second, linked both ways.
	for i := range searchPageSize + 3 {
		_, err := shop.db.CreateProduct(context.Background(), store.Actor{Email: "test"}, store.ProductInput{
			Slug: fmt.Sprintf("lamp-%02d", i), Name: fmt.Sprintf("Desk Lamp %02d", i), Description: "A lamp.",
			Price: int64(1000 + i), Active: true})
		if err != nil {
			t.Fatal(err)
		}
	}
	first := c.get("/?q=lamp")
	if got := productNames(first.body); len(got) != searchPageSize || !strings.Contains(first.body, `href="/?page=2&amp;q=lamp"`) {
		t.Errorf("first page of 15 lamps: %d products, next link present %v", len(got), strings.Contains(first.body, "page=2"))
	}
	second := c.get("/?q=lamp&page=2")
	if got := productNames(second.body); len(got) != 3 || !strings.Contains(second.body, `rel="prev"`) || strings.Contains(second.body, `rel="next"`) {
		t.Errorf("second page: %d products", len(got))
	}
}
