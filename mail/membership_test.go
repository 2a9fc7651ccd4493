package mail

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"storefront/store"
)

func TestRenderRenewalFailed(t *testing.T) {
	base, _ := url.Parse("https://shop.example")
	r := Renderer{From: "Shop <shop@example.com>", BaseURL: base}
	m := store.OutboxMail{ID: 7, Kind: store.MailRenewalFailed, To: "member@example.com", CreatedAt: time.Now(),
		Data: store.MailData{Invoice: &store.Invoice{ID: "in_1", Amount: 500, Currency: "usd"}}}
	msg, err := r.Render(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Subject != "Your membership renewal did not go through" {
		t.Errorf("subject %q", msg.Subject)
	}
	for _, part := range []string{msg.Text, msg.HTML} {
		if !strings.Contains(part, "$5.00") || !strings.Contains(part, "https://shop.example/account#membership") {
			t.Errorf("the message does not name the amount and link to the account:\n%s", part)
		}
	}
	m.Data.Invoice = nil
	if _, err := r.Render(context.Background(), m); err == nil {
		t.Error("a renewal notice queued without its invoice rendered")
	}
}
