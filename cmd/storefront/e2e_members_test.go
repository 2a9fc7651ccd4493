package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestMembershipEndToEndInChromium joins, renews with a failing card and recovers, all through
// the program and the checkout simulator in headless Chromium: the membership, its badge and
// its discount show up live, past_due shows live after the simulator's test clock bills a
// renewal the card cannot pay, and a new card in the billing portal makes it active again.
func TestMembershipEndToEndInChromium(t *testing.T) {
	requireChromium(t)
	email := "member-e2e@example.com"
	shop := startShop(t, map[string]string{"ADMIN_EMAIL": email})
	browser := startE2EBrowser(t)
	tab := browser.newShopper(t, shop)
	tab.signup(email)

	// Something in the cart at full price first.
	tab.navigate(shop.URL + "/")
	tab.click(".product-card:nth-child(1) form.add-to-cart button[type=submit]")
	tab.waitFor("nav badge shows 1", 5*time.Second, `document.querySelector('#cart-link .cart-count')?.textContent.trim() === '1'`)
	tab.navigate(shop.URL + "/cart")
	full := tab.eval(`document.querySelector('.cart-total strong')?.textContent.trim()`)
	if tab.eval(`!!document.querySelector('.cart-discount')`) != "false" {
		t.Fatalf("a non-member's cart shows a member discount")
	}
	// The cart stays open in another tab while the shopper joins.
	cart := tab.openTab()
	cart.navigate(shop.URL + "/cart")
	cart.markPage()

	// Join: the plans page, then the simulator's hosted page in subscription mode.
	tab.navigate(shop.URL + "/membership")
	tab.saveShots("membership-plans")
	tab.click("#plan-monthly button[type=submit]")
	tab.waitFor("the simulator's subscribe page", 10*time.Second, fmt.Sprintf(
		`location.href.startsWith(%q) && document.querySelector('button.pay .idle-label')?.textContent.trim() === 'Subscribe'`, shop.Sim+"/c/pay/"))
	if got := tab.eval(`document.querySelector('table.items')?.innerText`); !strings.Contains(got, "Membership, monthly") || !strings.Contains(got, "per month") {
		t.Errorf("the subscribe page does not show the monthly plan:\n%s", got)
	}
	if got := tab.eval(`document.querySelector('#f-email')?.value`); got != email {
		t.Errorf("the subscribe page's email %q, want the customer's %q", got, email)
	}
	tab.saveShots("simulator-subscribe")
	payWithCard(tab, "4242 4242 4242 4242", "button.pay")
	tab.waitFor("back on the account page", 10*time.Second,
		fmt.Sprintf(`location.href.startsWith(%q) && !!document.querySelector('#membership')`, shop.URL+"/account"))
	tab.markPage()
	tab.waitFor("the membership turns active, with the badge, without a reload", e2eLiveTimeout,
		`document.querySelector('.membership-status')?.dataset.status === 'active' && !!document.querySelector('#member-badge .member-badge')`)
	tab.requireSamePage("the live membership update")
	tab.saveShots("account-active")

	cart.waitFor("the open cart shows the member discount, without a reload", e2eLiveTimeout,
		`!!document.querySelector('.cart-discount') && !!document.querySelector('#member-badge .member-badge')`)
	cart.requireSamePage("the live discount")
	discount := cart.eval(`document.querySelector('.cart-discount')?.textContent.trim()`)
	total := cart.eval(`document.querySelector('.cart-total strong')?.textContent.trim()`)
	if !strings.HasPrefix(discount, "Member discount (10%)") || total == full {
		t.Errorf("the member's cart shows discount %q and total %q (full price %s)", discount, total, full)
	}
	cart.saveShots("cart-member")
	cart.close()

	// A card that saves but cannot be charged, through the billing portal.
	tab.navigate(shop.URL + "/account")
	tab.click(`#membership form[action="/membership/portal"] button`)
	tab.waitFor("the billing portal", 10*time.Second, fmt.Sprintf(`location.href.startsWith(%q)`, shop.Sim+"/p/session/"))
	portal := tab.eval(`location.href`)
	tab.click(".portal-card summary")
	payWithCard(tab, "4000 0000 0000 0341", ".portal-card button.pay")
	tab.waitFor("the card is saved", 10*time.Second, `document.querySelector('.notice')?.textContent.includes('card is updated') && document.querySelector('.portal-card')?.innerText.includes('0341')`)
	tab.saveShots("portal")

	// The account page watches while the simulator's test clock bills the renewal.
	account := tab.openTab()
	account.navigate(shop.URL + "/account")
	account.markPage()
	clock := tab.openTab()
	clock.navigate(shop.Sim + "/")
	clock.click(`table.subscriptions tbody tr:first-child form button[type=submit]`)
	clock.waitFor("the renewal is billed", 10*time.Second, `document.querySelector('table.subscriptions tbody tr:first-child .sub-status')?.textContent.trim() === 'past_due'`)
	clock.saveShots("simulator-clock")
	account.waitFor("past due shows live", e2eLiveTimeout, `document.querySelector('.membership-status')?.dataset.status === 'past_due'`)
	account.requireSamePage("the live past-due update")
	if got := account.eval(`document.querySelector('#membership')?.innerText`); !strings.Contains(got, "Update card") || !strings.Contains(got, "Failed") {
		t.Errorf("the past-due membership offers no card update or lists no failed invoice:\n%s", got)
	}
	account.saveShots("account-past-due")

	// Fix the card in the portal: the open invoice is paid at once.
	tab.navigate(portal)
	if tab.eval(`document.querySelector('.portal-card details')?.open`) != "true" {
		t.Errorf("the portal of a past-due subscription does not open the card form")
	}
	payWithCard(tab, "4242 4242 4242 4242", ".portal-card button.pay")
	tab.waitFor("the card is saved", 10*time.Second, `document.querySelector('.notice')?.textContent.includes('card is updated')`)
	account.waitFor("active again, live", e2eLiveTimeout, `document.querySelector('.membership-status')?.dataset.status === 'active' && !!document.querySelector('#member-badge .member-badge')`)
	account.requireSamePage("the live recovery")

	// The operator edits the plans in the console.
	tab.navigate(shop.URL + "/admin/plans")
	tab.typeInto("#price-yearly", "45.00")
	tab.click("#plan-yearly button[type=submit]")
	tab.waitFor("the yearly plan saved", 10*time.Second, `document.querySelector('#plan-yearly .form-status')?.textContent.trim() === 'Saved.' && document.querySelector('#price-yearly').value === '45.00'`)
	tab.saveShots("admin-plans")
}

// payWithCard fills in a card form (the hosted page or the portal) and submits it with button.
func payWithCard(tab *e2eTab, number, button string) {
	tab.t.Helper()
	tab.typeInto("#f-card_number", number)
	tab.typeInto("#f-expiry", "12/"+time.Now().AddDate(2, 0, 0).Format("06"))
	tab.typeInto("#f-cvc", "123")
	tab.click(button)
}
