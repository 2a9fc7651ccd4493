package simulator_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stripe/stripe-go/v76"
)

func TestHostedPageShowsTheOrder(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.create(t)
	resp, body := getPage(t, s.URL)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	contains(t, body,
		"Test mode: simulated checkout, no real money moves",
		"Canvas Tote", "$24.00", "$48.00",
		`value="shopper@example.com"`,
		`action="/c/pay/`+s.ID+`"`,
		`href="http://localhost:8000/cancelled/"`, "Cancel and return to the shop",
		"Bank transfer (delayed)", "4242 4242 4242 4242", "4000 0000 0000 0002", "000123456789", "000111111116",
		`href="/static/checkout.css"`,
	)
	for _, name := range []string{"email", "card_number", "expiry", "cvc", "account_number"} {
		contains(t, body, `<label for="f-`+name+`"`, `id="f-`+name+`" name="`+name+`"`)
	}
	contains(t, body, `<label for="method-card">Card</label>`, `<label for="method-bank_transfer">`)
	// One external script enhances the form; nothing inline, which the CSP forbids anyway.
	contains(t, body, `<script src="/static/checkout.js" defer></script>`)
	if strings.Count(body, "<script") != 1 {
		t.Errorf("page has %d script elements, want only checkout.js", strings.Count(body, "<script"))
	}
	for _, banned := range []string{"<style", " style=", "onclick", "javascript:"} {
		if strings.Contains(strings.ToLower(body), banned) {
			t.Errorf("page contains %q, which the CSP forbids or needs JavaScript", banned)
		}
	}

	resp, css := getPage(t, h.sim.URL()+"/static/checkout.css")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") || !strings.Contains(css, ".pay-form") {
		t.Errorf("stylesheet: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func TestHostedPageStates(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	resp, body := getPage(t, h.sim.URL()+"/c/pay/cs_test_unknown")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown session page: %d, want 404", resp.StatusCode)
	}
	contains(t, body, "Checkout session not found")

	s := h.create(t)
	resp, body = pay(t, s.URL, cardForm("4242424242424242"))
	wantSuccessRedirect(t, resp, body, s.ID)
	resp, body = getPage(t, s.URL)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("completed session page: %d", resp.StatusCode)
	}
	contains(t, body, "already complete", `href="http://localhost:8000/success/?session_id=`+s.ID+`"`)

	// The hosted page needs no cancel link when the shop gave no cancel_url.
	p := toteParams()
	p.CancelURL = nil
	p.CustomerEmail = nil
	s2, err := h.sessions.New(p)
	if err != nil {
		t.Fatal(err)
	}
	_, body = getPage(t, s2.URL)
	if strings.Contains(body, "Cancel and return") || !strings.Contains(body, `name="email" type="email" value=""`) {
		t.Errorf("page without cancel_url or customer_email rendered wrongly")
	}
}

func TestHostedPageRefusesCrossSitePosts(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.create(t)
	req, _ := http.NewRequest("POST", s.URL, strings.NewReader(cardForm("4242424242424242").Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site form post answered %d, want 403", resp.StatusCode)
	}
	if got := h.get(t, s.ID); got.Status != stripe.CheckoutSessionStatusOpen {
		t.Errorf("cross-site post changed the session to %s", got.Status)
	}
}

func TestDevPageRefundAndExpire(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	paid := h.create(t)
	resp, body := pay(t, paid.URL, cardForm("4242424242424242"))
	wantSuccessRedirect(t, resp, body, paid.ID)
	open := h.create(t)

	resp, body = getPage(t, h.sim.URL()+"/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("dev page: %d", resp.StatusCode)
	}
	contains(t, body, paid.ID, open.ID, "$48.00", "complete", "paid", "open", ">7<",
		`action="/dev/refund/`+paid.ID+`"`, `action="/dev/expire/`+open.ID+`"`,
		"curl -X POST "+h.sim.URL()+"/v1/refunds -u sk_test_x: -d payment_intent=pi_")
	if strings.Contains(body, `action="/dev/refund/`+open.ID+`"`) || strings.Contains(body, `action="/dev/expire/`+paid.ID+`"`) {
		t.Error("dev page offers refund for an unpaid session or expiry for a paid one")
	}

	resp, _ = pay(t, h.sim.URL()+"/dev/refund/"+paid.ID, url.Values{})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("dev refund: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	h.rc.waitForType(t, "charge.refunded")
	ev, _ := h.rc.event("charge.refunded")
	var ch stripe.Charge
	object(t, ev, &ch)
	if !ch.Refunded || ch.AmountRefunded != 4800 {
		t.Errorf("dev refund charge: refunded %v amount_refunded %d", ch.Refunded, ch.AmountRefunded)
	}
	_, body = getPage(t, h.sim.URL()+"/")
	contains(t, body, "refunded $48.00")

	resp, body = pay(t, h.sim.URL()+"/dev/refund/"+paid.ID, url.Values{})
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("second dev refund: %d, want 400", resp.StatusCode)
	}
	contains(t, body, "already been refunded")

	resp, _ = pay(t, h.sim.URL()+"/dev/expire/"+open.ID, url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("dev expire: %d", resp.StatusCode)
	}
	h.rc.waitForType(t, "checkout.session.expired")
	if got := h.get(t, open.ID); got.Status != stripe.CheckoutSessionStatusExpired {
		t.Errorf("after dev expire: %s", got.Status)
	}
}
