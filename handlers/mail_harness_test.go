package handlers

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"storefront/mail"
	"storefront/mail/mailtest"
	"storefront/store"
)

// mailedShop is a test shop whose outbox a worker sends to a real SMTP server.
type mailedShop struct {
	*testShop
	smtp  *mailtest.Server
	links *GuestLinks // the shop's own link signer, to move its clock
	clock *mailtest.Clock
}

var linkSecret = []byte("0123456789abcdef0123456789abcdef-links")

func newMailedShop(t *testing.T) *mailedShop {
	t.Helper()
	clock := mailtest.NewClock(time.Now())
	links := NewGuestLinks(&url.URL{}, linkSecret)
	links.Now = clock.Now
	var worker atomic.Pointer[mail.Worker]
	kick := func() {
		if w := worker.Load(); w != nil {
			w.Kick()
		}
	}
	shop := newTestShop(t, func(d *Deps) { d.GuestLinks, d.MailQueued = links, kick })
	shop.db.Now = clock.Now
	m := &mailedShop{testShop: shop, smtp: mailtest.Start(t), links: links, clock: clock}

	// The worker's links are signed with the same secret; they point at the test server.
	base, _ := url.Parse(shop.srv.URL)
	mailLinks := NewGuestLinks(base, linkSecret)
	mailLinks.Now = clock.Now
	cfg, err := mail.ParseSMTPURL(m.smtp.URL())
	if err != nil {
		t.Fatal(err)
	}
	r := mail.Renderer{From: "Storefront <shop@example.test>", BaseURL: base,
		GuestOrderURL: func(id int64) string { return mailLinks.OrderURL(id, mail.GuestLinkLifetime) }}
	// Requests kick the worker; webhooks' mail waits for its poll.
	w := mail.NewWorker(shop.db, mail.NewSMTP(cfg), r, slog.New(slog.NewTextHandler(io.Discard, nil)))
	w.Now, w.PollEvery = clock.Now, 50*time.Millisecond
	worker.Store(w)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return m
}

// settled waits until the outbox has nothing left to send and returns what the server received.
func (m *mailedShop) settled() []mailtest.Received {
	m.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		mails, err := m.db.ListMail(context.Background(), store.MailPending, 0)
		if err != nil {
			m.t.Fatal(err)
		}
		if len(mails) == 0 {
			return m.smtp.Messages()
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("mail still pending after a minute: %+v", mails)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var linkPattern = regexp.MustCompile(`https?://[^\s"<>]+`)

// linkIn returns the first link in the message's text part that contains part.
func linkIn(t *testing.T, r mailtest.Received, part string) string {
	t.Helper()
	for _, l := range linkPattern.FindAllString(r.Body("text/plain"), -1) {
		if regexp.MustCompile(regexp.QuoteMeta(part)).MatchString(l) {
			return l
		}
	}
	t.Fatalf("no link with %q in:\n%s", part, r.Body("text/plain"))
	return ""
}

// pathOf is the path and query of a link to the test server.
func pathOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.RequestURI()
}
