package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"storefront/store"
)

func TestForgotPasswordSameAnswer(t *testing.T) {
	shop := newMailedShop(t)
	shop.client().signup("owner@example.com")

	if res := shop.client().get("/password/forgot"); res.StatusCode != http.StatusOK || !strings.Contains(res.body, `action="/password/forgot"`) {
		t.Fatalf("GET /password/forgot: %d", res.StatusCode)
	}
	answer := func(email string) (int, string) {
		res := shop.client().post("/password/forgot", url.Values{"email": {email}})
		return res.StatusCode, strings.ReplaceAll(res.body, email, "EMAIL")
	}
	ownerStatus, ownerBody := answer("owner@example.com")
	strangerStatus, strangerBody := answer("stranger@example.com")
	if ownerStatus != http.StatusOK || ownerStatus != strangerStatus || ownerBody != strangerBody {
		t.Fatalf("answers differ: %d vs %d\n%s\n---\n%s", ownerStatus, strangerStatus, ownerBody, strangerBody)
	}
	for _, hx := range []bool{false, true} {
		headers := []string{}
		if hx {
			headers = []string{"HX-Request", "true"}
		}
		a := shop.client().post("/password/forgot", url.Values{"email": {"owner@example.com"}}, headers...)
		b := shop.client().post("/password/forgot", url.Values{"email": {"stranger@example.com"}}, headers...)
		if a.StatusCode != b.StatusCode || strings.ReplaceAll(a.body, "owner@example.com", "E") != strings.ReplaceAll(b.body, "stranger@example.com", "E") {
			t.Errorf("htmx=%v: answers differ", hx)
		}
	}
	got := shop.settled()
	if len(got) != 3 {
		t.Fatalf("%d messages sent, want 3, all to the owner", len(got))
	}
	for _, r := range got {
		if r.To[0] != "owner@example.com" || strings.Contains(r.Body("text/plain"), "correct horse") {
			t.Errorf("message to %v: %s", r.To, r.Body("text/plain"))
		}
	}
}

func TestForgotPasswordLimits(t *testing.T) {
	shop := newTestShop(t)
	c := shop.client()
	if res := c.post("/password/forgot", url.Values{"email": {"not an address"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("bad address: %d", res.StatusCode)
	}
	for i := range mailRequestsPerAddress {
		if res := c.post("/password/forgot", url.Values{"email": {"someone@example.com"}}); res.StatusCode != http.StatusOK {
			t.Fatalf("request %d: %d", i+1, res.StatusCode)
		}
	}
	res := c.post("/password/forgot", url.Values{"email": {"someone@example.com"}})
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Fatalf("over the limit: %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if res := c.post("/password/forgot", url.Values{"email": {"other@example.com"}}); res.StatusCode != http.StatusOK {
		t.Fatalf("another address is limited too: %d", res.StatusCode)
	}
}

func TestPasswordReset(t *testing.T) {
	shop := newMailedShop(t)
	elsewhere := shop.client()
	elsewhere.signup("owner@example.com")
	if res := elsewhere.get("/orders"); res.StatusCode != http.StatusOK {
		t.Fatalf("logged in elsewhere: %d", res.StatusCode)
	}

	browser := shop.client()
	browser.post("/password/forgot", url.Values{"email": {"owner@example.com"}})
	link := linkIn(t, shop.smtp.WaitFor(1)[0], "/password/reset?token=")
	form := browser.get(pathOf(t, link))
	if form.StatusCode != http.StatusOK || form.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("reset form: %d, Referrer-Policy %q", form.StatusCode, form.Header.Get("Referrer-Policy"))
	}
	token, _ := url.ParseQuery(strings.SplitN(link, "?", 2)[1])
	fields := url.Values{"token": {token.Get("token")}, "password": {"short"}}
	if res := browser.post("/password/reset", fields); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("short password: %d", res.StatusCode)
	}
	fields.Set("password", "a brand new password")
	if res := browser.post("/password/reset", fields); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: %d\n%s", res.StatusCode, res.body)
	}
	if res := browser.get("/orders"); res.StatusCode != http.StatusOK {
		t.Errorf("the resetting browser is not logged in: %d", res.StatusCode)
	}
	if res := elsewhere.get("/orders"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("the other session survived the reset: %d", res.StatusCode)
	}

	t.Run("token used once", func(t *testing.T) {
		fields.Set("password", "yet another password")
		if res := shop.client().post("/password/reset", fields); res.StatusCode != http.StatusBadRequest {
			t.Fatalf("reused token: %d", res.StatusCode)
		}
		if res := shop.client().get(pathOf(t, link)); res.StatusCode != http.StatusBadRequest {
			t.Fatalf("used link: %d", res.StatusCode)
		}
	})
	t.Run("new password logs in, old does not", func(t *testing.T) {
		login := func(pw string) int {
			return shop.client().post("/login", url.Values{"email": {"owner@example.com"}, "password": {pw}}).StatusCode
		}
		if got := login("correct horse"); got != http.StatusUnauthorized {
			t.Errorf("old password: %d", got)
		}
		if got := login("a brand new password"); got != http.StatusSeeOther {
			t.Errorf("new password: %d", got)
		}
	})
}

func TestPasswordResetExpires(t *testing.T) {
	shop := newMailedShop(t)
	shop.client().signup("owner@example.com")
	shop.client().post("/password/forgot", url.Values{"email": {"owner@example.com"}})
	link := linkIn(t, shop.smtp.WaitFor(1)[0], "/password/reset?token=")
	token, _ := url.ParseQuery(strings.SplitN(link, "?", 2)[1])

	shop.clock.Advance(store.PasswordResetLifetime + time.Second)
	if res := shop.client().get(pathOf(t, link)); res.StatusCode != http.StatusBadRequest || !strings.Contains(res.body, "/password/forgot") {
		t.Fatalf("expired link: %d", res.StatusCode)
	}
	res := shop.client().post("/password/reset", url.Values{"token": {token.Get("token")}, "password": {"a brand new password"}})
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("expired token: %d", res.StatusCode)
	}
}

func TestLoginPageLinksToReset(t *testing.T) {
	shop := newTestShop(t)
	if res := shop.client().get("/login"); !strings.Contains(res.body, `href="/password/forgot"`) {
		t.Fatal("the login page has no forgot-password link")
	}
}
