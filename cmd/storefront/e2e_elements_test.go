package main

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestPayOnPageInChromium pays on the shop's own page (PaymentIntents and the Payment Element)
// in headless Chromium with the checkout simulator: its Stripe.js stand-in, the element's frame
// and the 3-D Secure challenge, with no Content-Security-Policy violation on any of them.
func TestPayOnPageInChromium(t *testing.T) {
	requireChromium(t)
	shop := startShop(t, nil) // PAYMENT_UI is unset: the simulator offers both ways to pay
	browser := startE2EBrowser(t)

	t.Run("Card", func(t *testing.T) {
		tab := browser.newShopper(t, shop)
		tab.signup("element-buyer@example.com")
		tab.fillCart(1)
		secret := tab.payOnPage()
		// The page may also read its intent, as Stripe.js lets it (the CSP allows the simulator's API).
		status, err := chromedp.Run(tab.ctx, chromedp.Evaluate[string](`Stripe(document.querySelector('#pay-form').dataset.publishableKey)
			.retrievePaymentIntent(document.querySelector('#pay-form').dataset.clientSecret)
			.then(r => r.paymentIntent ? r.paymentIntent.status : JSON.stringify(r.error))`, chromedp.EvalAwaitPromise))
		if err != nil || status != "requires_payment_method" {
			t.Errorf("stripe.retrievePaymentIntent on the payment page: %q %v, want requires_payment_method", status, err)
		}
		element := tab.paymentElement(secret)
		element.typeCard("4242 4242 4242 4242")
		tab.clickPay(element)
		tab.waitPaid(secret, "succeeded")
		tab.saveShots("payment-complete-paid")
	})

	t.Run("DeclinedThenCard", func(t *testing.T) {
		tab := browser.newShopper(t, shop) // a guest
		tab.fillCart(2)
		secret := tab.payOnPage()
		tab.saveShots("pay-page")
		element := tab.paymentElement(secret)
		element.typeCard("4000 0000 0000 0002")
		tab.clickPay(element)
		tab.waitFor("the decline shown on the page", 10*time.Second,
			`!document.querySelector('#pay-error').hidden && document.querySelector('#pay-error').textContent.trim() === 'Your card was declined.'`)
		tab.waitFor("the Pay button usable again", 5*time.Second, `!document.querySelector('#pay-button').disabled`)
		if got := tab.eval(`location.pathname`); !strings.HasPrefix(got, "/pay/") {
			t.Fatalf("a declined card left the payment page for %s", got)
		}
		tab.saveShots("pay-page-declined")
		element.typeCard("4242 4242 4242 4242")
		tab.clickPay(element)
		tab.waitPaid(secret, "succeeded") // the same intent, paid
	})

	t.Run("ThreeDSecure", func(t *testing.T) {
		tab := browser.newShopper(t, shop)
		tab.signup("secure-buyer@example.com")
		tab.fillCart(1)
		secret := tab.payOnPage()
		intent := secret[:strings.Index(secret, "_secret_")]
		element := tab.paymentElement(secret)

		// Failed authentication: the error shows on the page and the intent can be paid again.
		element.typeCard("4000 0027 6000 3184")
		tab.clickPay(element)
		challenge := tab.frame(shop.Sim + "/v3/authenticate/" + intent)
		challenge.waitFor("the challenge", 5*time.Second, `!!document.querySelector('button[value=fail]')`)
		tab.saveShots("three-d-secure")
		challenge.click("button[value=fail]")
		tab.waitFor("the authentication failure shown on the page", 10*time.Second,
			`!document.querySelector('#pay-error').hidden && document.querySelector('#pay-error').textContent.includes('unable to authenticate')`)
		tab.waitFor("the challenge closed", 5*time.Second, `!document.querySelector('iframe[name=stripe-challenge-frame]')`)

		// Completed authentication: paid.
		tab.clickPay(element) // the card is still in the element
		challenge = tab.frame(shop.Sim + "/v3/authenticate/" + intent)
		challenge.click("button[value=complete]")
		tab.waitPaid(secret, "succeeded")
	})
}

// fillCart adds the n-th product of the catalogue to the cart and opens the cart.
func (p *e2eTab) fillCart(n int) {
	p.t.Helper()
	p.navigate(p.shop.URL + "/")
	p.click(fmt.Sprintf(".product-card:nth-child(%d) form.add-to-cart button[type=submit]", n))
	p.waitFor("nav badge shows 1", 5*time.Second, `document.querySelector('#cart-link .cart-count')?.textContent.trim() === '1'`)
	p.navigate(p.shop.URL + "/cart")
}

// payOnPage presses "Pay on this page" in the cart, waits until the Payment Element is ready on
// the shop's payment page and returns the intent's client secret.
func (p *e2eTab) payOnPage() string {
	p.t.Helper()
	p.click(`.checkout-form[action="/create-payment-intent/"] button[type=submit]`)
	p.waitFor("the payment page with the element ready", 10*time.Second,
		`location.pathname.startsWith('/pay/') && !!document.querySelector('#payment-element iframe') && !document.querySelector('#pay-button').disabled`)
	secret := p.eval(`document.querySelector('#pay-form').dataset.clientSecret`)
	if !strings.HasPrefix(secret, "pi_") || !strings.Contains(secret, "_secret_") {
		p.t.Fatalf("payment page has client secret %q", secret)
	}
	return secret
}

// paymentElement is the Payment Element's frame of the intent.
func (p *e2eTab) paymentElement(secret string) *e2eTab {
	p.t.Helper()
	return p.frame(p.shop.Sim + "/v3/elements/payment?client_secret=" + url.QueryEscape(secret))
}

// typeCard fills the element's card fields, replacing what they held. (chromedp.Clear does not
// reach into a frame of another site, so the fields are emptied by script.)
func (p *e2eTab) typeCard(number string) {
	p.t.Helper()
	p.eval(`document.querySelectorAll('.card-fields input').forEach(i => { i.value = '' })`)
	for sel, text := range map[string]string{"#f-card_number": number, "#f-cvc": "123",
		"#f-expiry": "12/" + time.Now().AddDate(2, 0, 0).Format("06")} {
		p.do("type into "+sel, 5*time.Second, chromedp.SendKeys(chromedp.CSS(sel), text))
	}
	if got := p.eval(`document.querySelector('#f-card_number').value`); got != number {
		p.t.Fatalf("%s: the card number field holds %q, want %q", p.name, got, number)
	}
}

// clickPay presses the page's Pay button once the element's frame has its final height: the
// frame resizes itself by message after any change of the viewport (a screenshot's phone
// size), which moves the button under a click already aimed.
func (p *e2eTab) clickPay(element *e2eTab) {
	p.t.Helper()
	height := element.eval(`Math.ceil(document.body.getBoundingClientRect().height)`)
	p.waitFor("the payment element at its height", 5*time.Second,
		fmt.Sprintf(`document.querySelector('#payment-element iframe').style.height === '%spx'`, height))
	p.click("#pay-button")
}

// waitPaid waits for the return page of the intent to show redirectStatus in its address and
// the order turning Paid.
func (p *e2eTab) waitPaid(secret, redirectStatus string) {
	p.t.Helper()
	intent := secret[:strings.Index(secret, "_secret_")]
	p.waitFor("the return page", 15*time.Second, fmt.Sprintf(
		`location.pathname === '/payment-complete/' && new URL(location.href).searchParams.get('payment_intent') === %q && !!document.querySelector('#order-status')`, intent))
	if got := p.eval(`new URL(location.href).searchParams.get('redirect_status')`); got != redirectStatus {
		p.t.Errorf("returned with redirect_status %q, want %q", got, redirectStatus)
	}
	p.markPage()
	p.waitFor("the order turns Paid", e2eLiveTimeout, `document.querySelector('#order-status')?.dataset.status === 'paid'`)
	p.requireSamePage("the live status update")
}

// frame attaches to a frame from the simulator's origin on the tab's page, whose address starts
// with prefix. Chromium runs such a frame (another site) as a target of its own; its console is
// watched with the tab's, so a CSP violation in it fails the test too.
func (p *e2eTab) frame(prefix string) *e2eTab {
	p.t.Helper()
	var found *e2eTab
	deadline := time.Now().Add(10 * time.Second)
	for found == nil {
		infos, err := chromedp.Targets(p.ctx)
		if err != nil {
			p.t.Fatalf("%s: list targets: %v", p.name, err)
		}
		for _, info := range infos {
			if info.Type != "iframe" || !strings.HasPrefix(info.URL, prefix) {
				continue
			}
			ctx, cancel := chromedp.NewContext(p.ctx, chromedp.WithTargetID(info.TargetID))
			p.t.Cleanup(cancel)
			if err := e2eWithin(10*time.Second, func() error { return chromedp.Do(ctx) }); err != nil {
				p.t.Fatalf("%s: attach to the frame %s: %v", p.name, info.URL, err)
			}
			found = &e2eTab{t: p.t, ctx: ctx, shop: p.shop, name: p.name + "-frame", updated: make(chan struct{})}
			go p.record(chromedp.Console(ctx))
			break
		}
		if found == nil {
			if time.Now().After(deadline) {
				p.t.Fatalf("%s: no frame at %s within 10s\npage: %s", p.name, prefix, p.pageSummary())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	found.waitParsed("using the frame")
	return found
}
