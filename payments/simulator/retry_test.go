package simulator_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestFailedPaymentsRedirectBackToThePage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.create(t)

	resp, _ := pay(t, s.URL, cardForm("4000 0000 0000 0002"))
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/c/pay/"+s.ID+"?attempt=") {
		t.Fatalf("decline answered %d %q, want 303 back to the page", resp.StatusCode, loc)
	}
	for range 2 { // a reload shows the same thing: the GET is safe to repeat
		resp, body := getPage(t, h.sim.URL()+loc)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("page after decline: %d", resp.StatusCode)
		}
		if n := strings.Count(body, "Your card was declined."); n != 1 {
			t.Errorf("decline message shown %d times, want once", n)
		}
		contains(t, body, `role="alert"`, `value="4000 0000 0000 0002"`, `value="payer@example.com"`)
		if strings.Contains(body, `value="123"`) {
			t.Error("the CVC was echoed back into the page")
		}
	}
	// An attempt belongs to its session; an unknown or foreign token shows a fresh form.
	other := h.create(t)
	token := strings.TrimPrefix(loc, "/c/pay/"+s.ID)
	for _, u := range []string{other.URL + token, s.URL + "?attempt=nope"} {
		_, body := getPage(t, u)
		if strings.Contains(body, "declined") {
			t.Errorf("%s shows another attempt's decline", u)
		}
	}

	body := payAndRetry(t, s.URL, map[string][]string{"email": {"nope"}, "method": {"card"}, "card_number": {"4242424242424242"}, "expiry": {"12/34"}, "cvc": {"123"}})
	if n := strings.Count(body, "Enter a valid email address"); n != 1 {
		t.Errorf("email error shown %d times, want once", n)
	}
	contains(t, body, `value="nope"`, `aria-invalid="true"`, `aria-describedby="f-email-error"`)
}

func TestPaymentPageHintsAndBusyButton(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.create(t)
	_, body := getPage(t, s.URL)
	// Placeholders that look like typed-in numbers made people think the form was filled in.
	if strings.Contains(body, "placeholder=") {
		t.Error("the payment page still uses placeholders")
	}
	contains(t, body, `aria-describedby="f-card_number-hint"`, "Month and year, MM/YY.",
		`<span class="idle-label">Pay $48.00</span>`, `<span class="busy-label" aria-hidden="true">Processing…</span>`)

	resp, js := getPage(t, h.sim.URL()+"/static/checkout.js")
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "javascript") {
		t.Fatalf("checkout.js: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	contains(t, js, `"aria-busy"`, "pageshow", "event.persisted", "preventDefault")
	_, css := getPage(t, h.sim.URL()+"/static/checkout.css")
	contains(t, css, `.pay-form[aria-busy="true"] button.pay .busy-label { display: inline; }`, "button.pay .busy-label { display: none; }")
}
