package main

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestAdminEndToEndInChromium runs the shop's owner side in headless Chromium, through the
// whole program with the checkout simulator: the owner (ADMIN_EMAIL) adds a product with one
// in stock and a photo; a shopper buys it while another shopper's pages turn "Sold out" by
// themselves; the owner watches the order turn paid in the console without a reload, refunds
// part of it, and finds both actions in the audit log. No page may break the
// Content-Security-Policy (every tab fails the test at cleanup if one does).
func TestAdminEndToEndInChromium(t *testing.T) {
	requireChromium(t)
	const ownerEmail, buyerEmail = "owner@example.com", "buyer@example.com"
	shop := startShop(t, map[string]string{"ADMIN_EMAIL": ownerEmail})
	browser := startE2EBrowser(t)
	const name, slug = "Brass Desk Lamp", "brass-desk-lamp"

	owner := browser.newShopper(t, shop)
	owner.signup(ownerEmail)

	// The owner creates the product, one in stock, with a photo.
	photo := filepath.Join(t.TempDir(), "lamp.png")
	writeTestPNG(t, photo)
	owner.navigate(shop.URL + "/admin/products/new")
	owner.typeInto("#name", name)
	owner.typeInto("#slug", slug)
	owner.do("type the description", 5*time.Second, // an empty textarea cannot be cleared first
		chromedp.SendKeys(chromedp.CSS("#description"), "Solid brass, warm light, one of a kind."))
	owner.typeInto("#price", "48.00")
	owner.typeInto("#stock", "1")
	owner.do("choose the photo", 5*time.Second, chromedp.SetUploadFiles(chromedp.CSS("#image"), []string{photo}))
	owner.click(".product-form button[type=submit]")
	owner.waitFor("the saved product's form", 10*time.Second,
		`/^\/admin\/products\/\d+$/.test(location.pathname) && new URLSearchParams(location.search).get('saved') === '1'`)
	productID := owner.eval(`location.pathname.split('/').pop()`)
	owner.saveShots("admin-product-saved")
	owner.navigate(shop.URL + "/admin/products")
	if text := owner.eval(`document.querySelector('main')?.innerText`); !strings.Contains(text, name) {
		t.Fatalf("the product list lacks %q:\n%s", name, text)
	}
	owner.saveShots("admin-products")

	// The owner keeps the order list open from here on: orders must appear and change live.
	orders := owner.openTab()
	orders.navigate(shop.URL + "/admin/orders")
	orders.markPage()
	orders.requireStreamSince(0, "console's order list")

	note := func(p *e2eTab) string {
		return p.eval(`document.querySelector('#stock-` + productID + `')?.textContent.trim()`)
	}
	soldOut := `document.querySelector('#stock-` + productID + `')?.textContent.trim() === 'Sold out' && document.querySelector('#add-` + productID + `')?.disabled === true`

	// It is in the catalogue at once, with its photo and the last one for sale.
	buyer := browser.newShopper(t, shop)
	buyer.signup(buyerEmail)
	buyer.navigate(shop.URL + "/")
	if got := note(buyer); got != "Only 1 left" {
		t.Fatalf("the new product's card says %q, want Only 1 left\npage: %s", got, buyer.pageSummary())
	}
	img := `document.querySelector('#stock-` + productID + `').closest('.product-card').querySelector('img')`
	buyer.waitFor("the card shows the uploaded photo", 5*time.Second, img+`.src.includes('/product-images/') && `+img+`.naturalWidth === 40`)
	buyer.saveShots("catalogue-only-1-left")

	// Another shopper looks at the product page, and at the catalogue in a second tab.
	other := browser.newShopper(t, shop)
	other.navigate(shop.URL + "/products/" + slug)
	other.markPage()
	if got := note(other); got != "Only 1 left" {
		t.Errorf("the product page says %q, want Only 1 left", got)
	}
	browsing := other.openTab()
	browsing.navigate(shop.URL + "/")
	browsing.markPage()

	// The buyer takes the last one to checkout: the other pages turn Sold out by themselves.
	buyer.click("#add-" + productID)
	buyer.waitFor("nav badge shows 1", 5*time.Second, `document.querySelector('#cart-link .cart-count')?.textContent.trim() === '1'`)
	buyer.navigate(shop.URL + "/cart")
	sessionID := buyer.checkOut()
	for _, p := range []*e2eTab{other, browsing} {
		p.waitFor("the page turns Sold out with its button disabled", e2eLiveTimeout, soldOut)
		p.requireSamePage("the live stock update")
	}
	other.saveShots("product-sold-out")

	// The order is in the console before it is paid, and turns paid there without a reload.
	row := `document.querySelector('#admin-orders tr[data-key]')`
	orders.waitFor("the new order appears in the console", e2eLiveTimeout, row+`?.innerText.includes('`+buyerEmail+`')`)
	orderID := orders.eval(row + `.dataset.key`)
	if got := orders.eval(`getComputedStyle(document.querySelector('.admin-orders-empty')).display`); got != "none" {
		t.Errorf("the console still says no orders match (display %q) with an order listed", got)
	}
	rowSel := `document.querySelector('#admin-order-` + orderID + `')`
	recordRow(orders, "#admin-order-"+orderID)

	buyer.click("#method-card")
	buyer.typeInto("#f-card_number", "4242 4242 4242 4242")
	buyer.typeInto("#f-expiry", "12/"+time.Now().AddDate(2, 0, 0).Format("06"))
	buyer.typeInto("#f-cvc", "123")
	buyer.click("button.pay")
	buyer.waitFor("the success page turns Paid", e2eLiveTimeout, `document.querySelector('#order-status')?.dataset.status === 'paid'`)
	orders.waitFor("the console shows the order paid", e2eLiveTimeout, rowSel+`?.dataset.status === 'paid'`)
	orders.requireSamePage("the live order list")
	orders.saveShots("admin-orders-paid")
	if got := note(other); got != "Sold out" {
		t.Errorf("after the sale the product page says %q, want Sold out", got)
	}

	// The buyer keeps their order's page open: the refund shows there without a reload too.
	opened := buyer.streamsOpened()
	buyer.navigate(shop.URL + "/orders/" + orderID)
	buyer.markPage()
	buyer.requireStreamSince(opened, "the buyer's order page")

	// The owner refunds part of it from the order page.
	owner.navigate(shop.URL + "/admin/orders/" + orderID)
	if text := owner.eval(`document.querySelector('main').innerText`); !strings.Contains(text, sessionID) || !strings.Contains(text, buyerEmail) {
		t.Errorf("the order page lacks the session id %s or the customer:\n%s", sessionID, text)
	}
	owner.typeInto("#amount", "10.00")
	owner.click(`form[action="/admin/orders/` + orderID + `/refund"] button[type=submit]`)
	owner.waitFor("the order page after the refund", 10*time.Second, `new URLSearchParams(location.search).get('done') === 'refund'`)
	owner.saveShots("admin-order-refund-requested")
	orders.waitFor("the console shows $10.00 refunded", e2eLiveTimeout, rowSel+`?.innerText.includes('$10.00 refunded')`)
	orders.requireSamePage("the live refund")
	buyer.waitFor("the buyer's order page shows the $10.00 refunded", e2eLiveTimeout,
		`document.querySelector('main')?.innerText.includes('−$10.00')`)
	buyer.requireSamePage("the live refund on the buyer's order page")
	history := orders.evalStrings(`window.__e2eRow`)
	requested := slices.IndexFunc(history, func(s string) bool { return strings.Contains(s, "Refund of $10.00 requested") })
	refunded := slices.IndexFunc(history, func(s string) bool { return strings.Contains(s, "$10.00 refunded") })
	if requested < 0 || refunded < requested {
		t.Errorf("the console's row went through %q, want \"Refund of $10.00 requested\" then \"$10.00 refunded\"", history)
	}
	owner.navigate(shop.URL + "/admin/orders/" + orderID)
	text := owner.eval(`document.querySelector('main').innerText`)
	if !strings.Contains(text, "$10.00") || !strings.Contains(text, "charge.refunded") {
		t.Errorf("the order page after charge.refunded lacks the $10.00 refunded or the event:\n%s", text)
	}
	if !strings.Contains(owner.eval(`document.querySelector('#amount')?.placeholder`), "38.00") {
		t.Errorf("the refund form does not offer the $38.00 left:\n%s", text)
	}
	owner.saveShots("admin-order-refunded")

	// The audit log shows both actions, by the owner.
	owner.navigate(shop.URL + "/admin/audit")
	audit := owner.evalStrings(`[...document.querySelectorAll('main tbody tr')].map(r => r.innerText)`)
	for _, want := range []string{"product.create", "order.refund"} {
		if !slices.ContainsFunc(audit, func(r string) bool { return strings.Contains(r, want) && strings.Contains(r, ownerEmail) }) {
			t.Errorf("the audit log has no %s by %s: %q", want, ownerEmail, audit)
		}
	}
	owner.saveShots("admin-audit")

	// A shopper cannot see any of it: the console is the shop's ordinary "not found".
	buyer.navigate(shop.URL + "/admin/orders")
	if got := buyer.eval(`!document.querySelector('#admin-orders') && document.querySelector('main').innerText.includes('404')`); got != "true" {
		t.Errorf("a shopper's /admin/orders is not the shop's 404:\n%s", buyer.pageSummary())
	}
}

// recordRow records every text the element sel shows from now on in window.__e2eRow, so that
// a test can tell which states a live row went through without a reload.
func recordRow(p *e2eTab, sel string) {
	p.t.Helper()
	p.do("watch "+sel, 5*time.Second, chromedp.Evaluate[chromedp.Void](`(() => {
		const seen = window.__e2eRow = [];
		const record = () => {
			const text = document.querySelector(`+"`"+sel+"`"+`)?.innerText.trim();
			if (text && seen[seen.length - 1] !== text) seen.push(text);
		};
		record();
		new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
	})()`))
}

// writeTestPNG writes a small 40×30 PNG, the product photo the owner uploads.
func writeTestPNG(t *testing.T, path string) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for x := range 40 {
		for y := range 30 {
			img.Set(x, y, color.RGBA{R: 181, G: 140, B: uint8(40 + x), A: 255})
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}
