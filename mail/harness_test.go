package mail_test

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"storefront/mail"
	"storefront/mail/mailtest"
	"storefront/store"
)

type clock = mailtest.Clock

func newClock() *clock {
	return mailtest.NewClock(time.Date(2031, time.March, 4, 5, 6, 7, 0, time.UTC))
}

// openStore opens the database at path with the clock installed, closed when the test ends.
func openStore(t *testing.T, path string, c *clock) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	db.Now = c.Now
	t.Cleanup(func() { db.Close() })
	return db
}

var testBase, _ = url.Parse("https://shop.example.test")

func renderer() mail.Renderer {
	return mail.Renderer{From: "Storefront <shop@example.test>", BaseURL: testBase,
		GuestOrderURL: func(id int64) string { return testBase.String() + "/guest/orders/signed" }}
}

// startWorker runs a worker on db with the clock until the test ends.
func startWorker(t *testing.T, db *store.DB, s mail.Sender, c *clock) *mail.Worker {
	t.Helper()
	w := mail.NewWorker(db, s, renderer(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	w.Now, w.PollEvery = c.Now, 10*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return w
}

// smtpSender sends to the test server.
func smtpSender(t *testing.T, srv *mailtest.Server) mail.Sender {
	t.Helper()
	cfg, err := mail.ParseSMTPURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	cfg.TLS = srv.ClientTLS()
	return mail.NewSMTP(cfg)
}

// pendingOrder makes a guest's pending order with an open Checkout Session.
func pendingOrder(t *testing.T, db *store.DB, sessionID string) store.Order {
	t.Helper()
	ctx := context.Background()
	products, err := db.Products(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ref := store.CartRef{Token: "cart-" + sessionID}
	if err := db.AddToCart(ctx, ref, products[0].ID, 2); err != nil {
		t.Fatal(err)
	}
	o, _, err := db.PrepareOrder(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AttachCheckoutSession(ctx, o.ID, sessionID, "https://pay.example.test/"+sessionID, db.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	return o
}

// paid is the change of a checkout.session.completed event paying o.
func paid(eventID string, o store.Order, sessionID string) store.Change {
	return store.Change{
		Event:         store.EventRecord{ID: eventID, Type: "checkout.session.completed", APIVersion: "2023-10-16", ObjectID: sessionID, Payload: []byte(`{}`)},
		Order:         store.OrderRef{SessionID: sessionID, PaymentIntent: "pi_" + sessionID, OrderID: o.ID},
		Effect:        store.EffectSettle,
		To:            store.StatusPaid,
		Payment:       &store.Payment{Amount: o.AmountTotal, Currency: o.Currency},
		CustomerEmail: "buyer@example.com",
	}
}

func mustApply(t *testing.T, db *store.DB, ch store.Change) {
	t.Helper()
	if _, err := db.ApplyChange(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
}

// waitOutbox waits until the outbox satisfies ok, polling its state; it fails after a minute.
func waitOutbox(t *testing.T, db *store.DB, what string, ok func([]store.OutboxMail) bool) []store.OutboxMail {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		mails, err := db.ListMail(context.Background(), "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if ok(mails) {
			return mails
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox never reached %s: %+v", what, mails)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func allSent(mails []store.OutboxMail) bool {
	for _, m := range mails {
		if m.Status == store.MailPending {
			return false
		}
	}
	return len(mails) > 0
}
