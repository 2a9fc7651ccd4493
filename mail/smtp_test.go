package mail_test

import (
	"context"
	"net/mail"
	"strings"
	"testing"
	"time"

	smail "storefront/mail"
	"storefront/mail/mailtest"
	"storefront/store"
)

func TestParseSMTPURL(t *testing.T) {
	good := []struct {
		raw  string
		want smail.SMTPConfig
	}{
		{"smtp://mail.example.com", smail.SMTPConfig{Host: "mail.example.com", Port: 25}},
		{"smtp://user:p%40ss@mail.example.com:587", smail.SMTPConfig{Host: "mail.example.com", Port: 587, Username: "user", Password: "p@ss"}},
		{"smtps://user:pw@mail.example.com", smail.SMTPConfig{Host: "mail.example.com", Port: 465, Username: "user", Password: "pw", ImplicitTLS: true}},
	}
	for _, tc := range good {
		got, err := smail.ParseSMTPURL(tc.raw)
		if err != nil || got.Host != tc.want.Host || got.Port != tc.want.Port || got.Username != tc.want.Username ||
			got.Password != tc.want.Password || got.ImplicitTLS != tc.want.ImplicitTLS {
			t.Errorf("ParseSMTPURL(%q) = %+v, %v; want %+v", tc.raw, got, err, tc.want)
		}
	}
	for _, raw := range []string{"mail.example.com", "http://mail.example.com", "smtp://", "smtp://h:99999", "smtp://h:25/path", "smtp://h?x=1", "smtp://u:secret@h:x"} {
		_, err := smail.ParseSMTPURL(raw)
		if err == nil {
			t.Errorf("ParseSMTPURL(%q) accepted", raw)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("ParseSMTPURL(%q) error repeats the password: %v", raw, err)
		}
	}
	cfg, _ := smail.ParseSMTPURL("smtps://user:secret@h:2465")
	if got := cfg.Redacted(); got != "smtps://user@h:2465" {
		t.Errorf("Redacted() = %q", got)
	}
}

// receipt renders the receipt of a paid two-line order.
func receipt(t *testing.T) *smail.Message {
	t.Helper()
	o := store.Order{ID: 7, Status: store.StatusPaid, AmountTotal: 4250, Currency: "usd", PaidAt: time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC),
		Items: []store.OrderItem{{Name: "Stoneware mug", UnitAmount: 1800, Quantity: 2}, {Name: "Field <notebook>", UnitAmount: 650, Quantity: 1}}}
	m, err := renderer().Render(context.Background(), store.OutboxMail{ID: 3, Kind: store.MailReceipt, To: "buyer@example.com",
		Data: store.MailData{Order: &o}, CreatedAt: o.PaidAt})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSMTPConversation(t *testing.T) {
	srv := mailtest.Start(t, mailtest.WithSTARTTLS(), mailtest.WithAuth("shop", "s3cret"))
	msg := receipt(t)
	if err := smtpSender(t, srv).Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	r := srv.WaitFor(1)[0]
	if r.From != "shop@example.test" || len(r.To) != 1 || r.To[0] != "buyer@example.com" {
		t.Errorf("envelope from %q to %v", r.From, r.To)
	}
	if got, want := r.Header.Get("Message-Id"), "<"+msg.ID+">"; got != want {
		t.Errorf("Message-ID %q, want %q", got, want)
	}
	if !strings.HasSuffix(msg.ID, "@example.test") {
		t.Errorf("Message-ID %q is not in the sender's domain", msg.ID)
	}
	date, err := mail.ParseDate(r.Header.Get("Date"))
	if err != nil || !date.Equal(msg.Date) {
		t.Errorf("Date %q (%v), want %v", r.Header.Get("Date"), err, msg.Date)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/alternative") {
		t.Errorf("Content-Type %q, want multipart/alternative", ct)
	}
	text, html := r.Body("text/plain"), r.Body("text/html")
	for _, want := range []string{"2 × Stoneware mug", "$36.00", "Field <notebook>", "$42.50", "https://shop.example.test/guest/orders/signed"} {
		if !strings.Contains(text, want) {
			t.Errorf("text part lacks %q:\n%s", want, text)
		}
	}
	for _, want := range []string{"Stoneware mug", "Field &lt;notebook&gt;", "$42.50", `href="https://shop.example.test/guest/orders/signed"`} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML part lacks %q", want)
		}
	}
}

func TestSMTPRefusesWrongPassword(t *testing.T) {
	srv := mailtest.Start(t, mailtest.WithSTARTTLS(), mailtest.WithAuth("shop", "s3cret"))
	cfg, _ := smail.ParseSMTPURL("smtp://shop:wrong@" + srv.Addr())
	cfg.TLS = srv.ClientTLS()
	err := smail.NewSMTP(cfg).Send(context.Background(), receipt(t))
	if err == nil {
		t.Fatal("sent with a wrong password")
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("the error repeats the password: %v", err)
	}
}

func TestEveryKindRenders(t *testing.T) {
	o := store.Order{ID: 9, UserID: 4, Status: store.StatusRefunded, AmountTotal: 1200, Currency: "usd",
		Items: []store.OrderItem{{Name: "Wool socks", UnitAmount: 1200, Quantity: 1}}}
	guest := o
	guest.UserID = 0
	cases := []struct {
		m    store.OutboxMail
		want []string
	}{
		{store.OutboxMail{Kind: store.MailReceipt, Data: store.MailData{Order: &o}}, []string{"https://shop.example.test/orders/9"}},
		{store.OutboxMail{Kind: store.MailPaymentFailed, Data: store.MailData{Order: &o}}, []string{"did not go through", "https://shop.example.test/cart"}},
		{store.OutboxMail{Kind: store.MailRefunded, Data: store.MailData{Order: &o, RefundAmount: 500}}, []string{"$5.00"}},
		{store.OutboxMail{Kind: store.MailPasswordReset, Secret: "tok-en", Data: store.MailData{ExpiresAt: time.Date(2031, 3, 4, 6, 0, 0, 0, time.UTC)}},
			[]string{"https://shop.example.test/password/reset?token=tok-en", "4 Mar 2031, 06:00 UTC"}},
		{store.OutboxMail{Kind: store.MailOrderLookup, Data: store.MailData{Orders: []store.Order{guest}}}, []string{"Order #9", "https://shop.example.test/guest/orders/signed"}},
	}
	for _, tc := range cases {
		tc.m.To = "someone@example.com"
		m, err := renderer().Render(context.Background(), tc.m)
		if err != nil {
			t.Errorf("%s: %v", tc.m.Kind, err)
			continue
		}
		if m.Subject == "" || m.Text == "" || m.HTML == "" {
			t.Errorf("%s: empty subject or part: %+v", tc.m.Kind, m)
		}
		for _, want := range tc.want {
			if !strings.Contains(m.Text, want) || !strings.Contains(m.HTML, strings.ReplaceAll(want, "&", "&amp;")) {
				t.Errorf("%s: text or HTML lacks %q", tc.m.Kind, want)
			}
		}
		// No external images or style sheets: nothing is fetched when the message is opened.
		for _, bad := range []string{"<img", "src=", "<link", "url("} {
			if strings.Contains(m.HTML, bad) {
				t.Errorf("%s: HTML contains %q", tc.m.Kind, bad)
			}
		}
	}
	// A reset mail whose token was already forgotten cannot be rendered: it is not sent.
	if _, err := renderer().Render(context.Background(), store.OutboxMail{Kind: store.MailPasswordReset}); err == nil {
		t.Error("a reset mail without its token rendered")
	}
}
