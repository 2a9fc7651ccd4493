package components

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// benchProducts is the starter catalogue as the seed migration has it: eight products.
var benchProducts = []Product{
	{ID: 1, Slug: "canvas-tote", Name: "Canvas Tote Bag", Price: 2400, Currency: "usd", Image: "canvas-tote.svg",
		Description: "Heavy 16 oz natural cotton canvas with long handles that sit comfortably on the shoulder. Holds a week of groceries or a laptop and a lunch."},
	{ID: 2, Slug: "stoneware-mug", Name: "Stoneware Mug", Price: 1800, Currency: "usd", Image: "stoneware-mug.svg",
		Description: "Wheel-thrown stoneware with a speckled glaze, 350 ml. Dishwasher and microwave safe; every one is slightly different."},
	{ID: 3, Slug: "field-notebook", Name: "Field Notebooks, 3-pack", Price: 1250, Currency: "usd", Image: "field-notebook.svg",
		Description: "Three pocket notebooks with kraft covers and 48 pages of dot-grid paper each. Sized for a back pocket, sturdy enough for the trail."},
	{ID: 4, Slug: "merino-beanie", Name: "Merino Beanie", Price: 3200, Currency: "usd", Image: "merino-beanie.svg",
		Description: "A ribbed beanie knitted from soft, itch-free merino wool, with a folded brim that keeps your ears warm. One size."},
	{ID: 5, Slug: "desk-succulent", Name: "Desk Succulent", Price: 1500, Currency: "usd", Image: "desk-succulent.svg",
		Description: "A hardy echeveria in a 9 cm terracotta pot. Needs a sunny spot and water about once every two weeks."},
	{ID: 6, Slug: "pour-over-kettle", Name: "Pour-over Kettle", Price: 5800, Currency: "usd", Image: "pour-over-kettle.svg",
		Description: "A 1 litre stainless-steel gooseneck kettle for a slow, steady pour. Works on gas, electric and induction hobs."},
	{ID: 7, Slug: "wool-socks", Name: "Wool Hiking Socks", Price: 2100, Currency: "usd", Image: "wool-socks.svg",
		Description: "Cushioned merino-blend socks with a reinforced heel and toe. Warm when wet, and they do not smell after a long day."},
	{ID: 8, Slug: "enamel-pin-set", Name: "Enamel Pin Set", Price: 900, Currency: "usd", Image: "enamel-pin-set.svg",
		Description: "Three hard-enamel pins (a mountain, a leaf and a star) with rubber backs, on a recycled card. Good on a jacket or a bag."},
}

// benchOrder is a paid order of two products, as the orders stream sends it.
var benchOrder = Order{ID: 4217, Status: "paid", Total: 6600, Currency: "usd",
	CreatedAt: time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC), PaidAt: time.Date(2025, 3, 14, 9, 27, 5, 0, time.UTC),
	Email: "buyer@example.com", SessionID: "cs_test_a1b2c3d4e5f6",
	Items: []OrderItem{{Name: "Canvas Tote Bag", Quantity: 2, UnitAmount: 2400}, {Name: "Stoneware Mug", Quantity: 1, UnitAmount: 1800}}}

// BenchmarkCatalogue renders the home page an anonymous visitor gets.
func BenchmarkCatalogue(b *testing.B) {
	benchRender(b, func(buf *bytes.Buffer) error {
		return Catalogue(Page{}, CatalogueStockStream(1), ProductGrid(benchProducts)).Render(context.Background(), buf)
	}, "Enamel Pin Set")
}

// BenchmarkOrderRow renders one order row, the message an SSE stream sends when an order changes.
func BenchmarkOrderRow(b *testing.B) {
	benchRender(b, func(buf *bytes.Buffer) error {
		return OrderRow(benchOrder).Render(context.Background(), buf)
	}, `id="order-4217"`)
}

// benchRender renders into a reused buffer, as the handlers do, after checking the output once.
func benchRender(b *testing.B, render func(*bytes.Buffer) error, want string) {
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		b.Fatal(err)
	}
	if !strings.Contains(buf.String(), want) {
		b.Fatalf("rendered output lacks %q:\n%s", want, buf.String())
	}
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := render(&buf); err != nil {
			b.Fatal(err)
		}
	}
}
