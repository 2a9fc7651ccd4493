package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestShopperPathsInChromium walks the paths a shopper takes around a payment in headless
// Chromium: Back after paying, Back from the payment page, resuming a payment left open, and
// Buy again. It shares the harness of TestEndToEndInChromium (e2e_test.go).
func TestShopperPathsInChromium(t *testing.T) {
	requireChromium(t)
	shop := startShop(t, nil)
	browser := startE2EBrowser(t)

	t.Run("BackAfterPayment", func(t *testing.T) {
		tab := browser.newShopper(t, shop)
		tab.signup("back-after-paying@example.com")
		tab.addFirstProduct()
		tab.navigate(shop.URL + "/cart")
		tab.checkOut()
		tab.payByCard()
		tab.waitFor("the success page turns Paid", e2eLiveTimeout,
			`document.querySelector('#order-status')?.dataset.status === 'paid'`)

		tab.goBack()
		tab.waitFor("back on the payment page", 10*time.Second, fmt.Sprintf(`location.href.startsWith(%q)`, shop.Sim+"/"))
		tab.goBack()
		tab.waitFor("back on the cart, which is empty now that it is paid", 10*time.Second,
			`location.pathname === '/cart' && document.querySelectorAll('.cart-line').length === 0 &&
			 document.querySelector('#cart-link .cart-count')?.textContent.trim() === '0'`)
		tab.saveShots("back-after-payment")
	})

	t.Run("BackFromPaymentPage", func(t *testing.T) {
		tab := browser.newShopper(t, shop)
		tab.addFirstProduct()
		tab.navigate(shop.URL + "/cart")
		tab.checkOut()
		tab.goBack()
		tab.waitFor("back on the cart with Check out ready again", 10*time.Second,
			`location.pathname === '/cart' && document.querySelectorAll('.cart-line').length === 1 &&
			 !document.querySelector('.checkout-form[action="/create-checkout-session/"]').classList.contains('htmx-request') &&
			 !document.querySelector('.checkout-form[action="/create-checkout-session/"] button[type=submit]').disabled &&
			 getComputedStyle(document.querySelector('.checkout-form[action="/create-checkout-session/"] .when-busy')).display === 'none'`)
		// And it still works. (A script click: after a restore from the back/forward cache,
		// chromedp's node lookups for a mouse click do not resolve.)
		tab.eval(`document.querySelector('.checkout-form[action="/create-checkout-session/"] button[type=submit]').click()`)
		tab.waitFor("the simulated payment page", 10*time.Second,
			fmt.Sprintf(`location.href.startsWith(%q) && !!document.querySelector('form.pay-form')`, shop.Sim+"/c/pay/"))
	})

	t.Run("ResumePaymentThenBuyAgain", func(t *testing.T) {
		tab := browser.newShopper(t, shop)
		tab.signup("resumes@example.com")
		name := tab.addFirstProduct()
		tab.navigate(shop.URL + "/cart")
		tab.checkOut()
		tab.click("p.cancel a")
		tab.waitFor("the cancelled page", 10*time.Second, `location.pathname === '/cancelled/'`)

		tab.navigate(shop.URL + "/orders")
		tab.waitFor("the order awaits payment", 5*time.Second,
			`document.querySelector('.order-row')?.dataset.status === 'pending'`)
		id := tab.eval(`document.querySelector('.order-row').dataset.key`)

		// Two more tabs watch the order while it is paid: the orders page and its own page.
		list, detail := tab.openTab(), tab.openTab()
		list.navigate(shop.URL + "/orders")
		list.markPage()
		list.requireStreamSince(0, "orders page")
		detail.navigate(shop.URL + "/orders/" + id)
		detail.markPage()
		detail.requireStreamSince(0, "order page")
		if got := detail.eval(`document.querySelector('.order-detail')?.dataset.status`); got != "pending" {
			t.Fatalf("the order page shows the order as %q, want pending", got)
		}

		tab.click(fmt.Sprintf(`#order-%s form[action="/orders/%s/pay"] button`, id, id))
		tab.waitFor("the payment page again", 10*time.Second, fmt.Sprintf(`location.href.startsWith(%q)`, shop.Sim+"/c/pay/"))
		tab.payByCard()

		list.waitFor("the orders page shows it Paid", e2eLiveTimeout,
			fmt.Sprintf(`document.querySelector('#order-%s')?.dataset.status === 'paid'`, id))
		list.requireSamePage("the live update")
		detail.waitFor("the order page shows it Paid, with Buy again", e2eLiveTimeout,
			`document.querySelector('.order-detail')?.dataset.status === 'paid' && !!document.querySelector('form.buy-again')`)
		detail.requireSamePage("the live update")
		if got := detail.eval(`document.querySelector('.order-items')?.innerText`); !containsAll(got, name) {
			t.Errorf("the order page lists %q, want %s", got, name)
		}
		detail.saveShots("order-detail-paid")
		list.close()

		buyer := detail
		name = buyer.eval(`document.querySelector('.order-items li span')?.textContent.replace(/^\d+ × /, '')`)
		buyer.click("form.buy-again button")
		buyer.waitFor("the cart holds the product again", 10*time.Second,
			`location.pathname === '/cart' && document.querySelectorAll('.cart-line').length === 1 &&
			 document.querySelector('#cart-link .cart-count')?.textContent.trim() === '1'`)
		if got := buyer.eval(`document.querySelector('.flash')?.textContent`); got != "Added to your cart: 1 × "+name+"." {
			t.Errorf("the cart says %q, want it to say what was added (%s)", got, name)
		}
		buyer.saveShots("buy-again")
	})
}

// addFirstProduct adds the catalogue's first product to the cart and returns its name.
func (p *e2eTab) addFirstProduct() string {
	p.t.Helper()
	p.navigate(p.shop.URL + "/")
	name := p.eval(`document.querySelector('.product-card h2')?.textContent.trim()`)
	p.click(".product-card:nth-child(1) form.add-to-cart button[type=submit]")
	p.waitFor("nav badge shows 1", 5*time.Second, `document.querySelector('#cart-link .cart-count')?.textContent.trim() === '1'`)
	return name
}

// goBack presses the browser's Back button. The history step is queued, so the script
// evaluation finishes before the page it runs in is left.
func (p *e2eTab) goBack() {
	p.t.Helper()
	p.eval(`setTimeout(() => history.back(), 0) && ''`)
}

// payByCard pays on the simulator's page with the card that succeeds and waits for the success page.
func (p *e2eTab) payByCard() {
	p.t.Helper()
	p.click("#method-card")
	p.typeInto("#f-card_number", "4242 4242 4242 4242")
	p.typeInto("#f-expiry", "12/"+time.Now().AddDate(2, 0, 0).Format("06"))
	p.typeInto("#f-cvc", "123")
	p.click("button.pay")
	p.waitFor("the success page", 10*time.Second,
		fmt.Sprintf(`location.href.startsWith(%q) && !!document.querySelector('#order-status')`, p.shop.URL+"/success/"))
}

func containsAll(s string, parts ...string) bool {
	for _, part := range parts {
		if !strings.Contains(s, part) {
			return false
		}
	}
	return true
}
