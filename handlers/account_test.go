package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"storefront/store"
)

func TestAccountPage(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t)
	c := shop.client()

	if res := c.get("/account"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Fatalf("logged out: status %d Location %q, want a login redirect", res.StatusCode, res.Header.Get("Location"))
	}
	c.signup("ann@example.com")
	page := c.get("/account")
	for _, want := range []string{"ann@example.com", `action="/account/password"`, `action="/account/delete"`, `action="/logout"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("account page lacks %s", want)
		}
	}
	res := c.get("/account", "Accept", "application/json")
	var got map[string]any
	if err := json.Unmarshal([]byte(res.body), &got); err != nil {
		t.Fatalf("JSON: %v\n%s", err, res.body)
	}
	if got["email"] != "ann@example.com" || got["admin"] != false || got["subscription"] != nil || len(got) != 3 {
		t.Errorf("account JSON %s", res.body)
	}
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t)
	c, elsewhere := shop.client(), shop.client()
	c.signup("ann@example.com")
	if res := elsewhere.post("/login", url.Values{"email": {"ann@example.com"}, "password": {"correct horse"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("second login: %d", res.StatusCode)
	}

	res := c.post("/account/password", url.Values{"current_password": {"wrong one"}, "new_password": {"battery staple"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.body, "That is not your current password.") {
		t.Errorf("wrong current password: status %d", res.StatusCode)
	}
	res = c.post("/account/password", url.Values{"current_password": {"correct horse"}, "new_password": {"short"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.body, "Use at least 8 characters.") {
		t.Errorf("short new password: status %d", res.StatusCode)
	}
	res = c.post("/account/password", url.Values{"current_password": {"correct horse"}, "new_password": {"battery staple"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account" {
		t.Fatalf("change: status %d Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	if got := flashOf(c.get("/account").body); !strings.Contains(got, "Your password is changed") {
		t.Errorf("no confirmation: %q", got)
	}
	if res := elsewhere.get("/account"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("the other device is still logged in: status %d", res.StatusCode)
	}
	fresh := shop.client()
	if res := fresh.post("/login", url.Values{"email": {"ann@example.com"}, "password": {"correct horse"}}); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("old password still logs in: status %d", res.StatusCode)
	}
	if res := fresh.post("/login", url.Values{"email": {"ann@example.com"}, "password": {"battery staple"}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("new password does not log in: status %d", res.StatusCode)
	}
}

func TestDeleteAccount(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t)
	c := shop.client()
	u := c.signup("ann@example.com")
	c.addToCart("canvas-tote", 1)
	o := c.checkout()
	shop.sendEvent("evt_del_paid", "checkout.session.completed", sessionObject(o, "paid"))

	if res := c.post("/account/delete", url.Values{"password": {"wrong one"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("wrong password: status %d", res.StatusCode)
	}
	if _, err := shop.db.UserByID(context.Background(), u.ID); err != nil {
		t.Fatalf("account gone after a wrong password: %v", err)
	}
	res := c.post("/account/delete", url.Values{"password": {"correct horse"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("delete: status %d Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	home := c.get("/").body
	if !strings.Contains(flashOf(home), "Your account is deleted") || strings.Contains(home, "nav-user") {
		t.Errorf("after deletion the shopper is not told, or still logged in")
	}
	if _, err := shop.db.UserByEmail(context.Background(), "ann@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("account still there: %v", err)
	}
	kept := shop.order(o.ID)
	if kept.Status != store.StatusPaid || kept.UserID != 0 || kept.CustomerEmail != "" {
		t.Errorf("order after deletion: status %s user %d email %q; want kept, paid, anonymised", kept.Status, kept.UserID, kept.CustomerEmail)
	}
	if res := shop.client().post("/login", url.Values{"email": {"ann@example.com"}, "password": {"correct horse"}}); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("deleted account logs in: status %d", res.StatusCode)
	}
	c.signup("ann@example.com") // the address is free again
}
