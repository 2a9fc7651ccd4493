package handlers

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestAdminSeesFailedMail: a receipt the outbox gave up on is listed for admins, with the
// address Stripe collected, the order and the last error; shoppers get the shop's 404.
func TestAdminSeesFailedMail(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t)
	c := shop.client()
	c.signup("unreachable@example.com")
	c.addToCart("canvas-tote", 1)
	o := c.checkout()
	shop.sendEvent("evt_paid_failed_mail", "checkout.session.completed", sessionObject(o, "paid"))

	ctx := context.Background()
	m, ok, err := shop.db.ClaimMail(ctx, time.Now(), time.Minute)
	if err != nil || !ok {
		t.Fatalf("no receipt queued for the paid order: %v", err)
	}
	if err := shop.db.FailMail(ctx, m.ID, "550 mailbox unavailable"); err != nil {
		t.Fatal(err)
	}
	if res := c.get("/admin/mail"); res.StatusCode != http.StatusNotFound {
		t.Errorf("a shopper opening /admin/mail: %d, want 404", res.StatusCode)
	}
	page := shop.admin("owner@example.com").get("/admin/mail")
	for _, want := range []string{"buyer@example.com", "550 mailbox unavailable", `href="/admin/orders/`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the failed-mail page lacks %q:\n%s", want, page.body)
		}
	}
}
