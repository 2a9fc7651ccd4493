package mail_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"storefront/mail"
	"storefront/mail/mailtest"
	"storefront/store"
	"storefront/store/storetest"
)

func TestExactlyOneReceipt(t *testing.T) {
	c := newClock()
	db := openStore(t, storetest.DSN(t), c)
	srv := mailtest.Start(t)
	o := pendingOrder(t, db, "cs_once")

	// Stripe retries, replays and concurrent deliveries: one event id many times, and other
	// events that also say paid, all at once.
	var wg sync.WaitGroup
	for i := range 30 {
		id := "evt_completed"
		if i%3 == 0 {
			id = fmt.Sprintf("evt_succeeded_%d", i)
		}
		wg.Go(func() { mustApply(t, db, paid(id, o, "cs_once")) })
	}
	wg.Wait()
	startWorker(t, db, smtpSender(t, srv), c)
	mails := waitOutbox(t, db, "everything sent", allSent)
	got := srv.WaitFor(1)
	// Every queued message has been sent, so nothing more is coming: the count is final.
	if len(mails) != 1 || len(got) != 1 {
		t.Fatalf("queued %d, received %d messages; want one receipt", len(mails), len(got))
	}
	r := got[0]
	if r.To[0] != "buyer@example.com" || !strings.Contains(r.Header.Get("Subject"), fmt.Sprintf("order #%d", o.ID)) {
		t.Errorf("received to %v, subject %q", r.To, r.Header.Get("Subject"))
	}

	// A later replay of the same events changes nothing.
	mustApply(t, db, paid("evt_completed", o, "cs_once"))
	mustApply(t, db, paid("evt_late", o, "cs_once"))
	if mails := waitOutbox(t, db, "still one message", allSent); len(mails) != 1 {
		t.Fatalf("%d messages queued after replays", len(mails))
	}
}

func TestRetryWhileServerDown(t *testing.T) {
	c := newClock()
	db := openStore(t, storetest.DSN(t), c)
	srv := mailtest.Start(t)
	srv.Down()
	w := startWorker(t, db, smtpSender(t, srv), c)
	o := pendingOrder(t, db, "cs_retry")
	mustApply(t, db, paid("evt_1", o, "cs_retry"))

	failedOnce := func(ms []store.OutboxMail) bool {
		return len(ms) == 1 && ms[0].Attempts == 1 && ms[0].LastError != "" && ms[0].Status == store.MailPending
	}
	mails := waitOutbox(t, db, "one failed attempt", failedOnce)
	if want := c.Now().Add(mail.RetryDelay(1)); !mails[0].NextAttemptAt.Equal(want) {
		t.Fatalf("next attempt at %v, want %v", mails[0].NextAttemptAt, want)
	}

	srv.Up()
	c.Advance(mail.RetryDelay(1))
	w.Kick()
	srv.WaitFor(1)
	mails = waitOutbox(t, db, "sent", allSent)
	if mails[0].Status != store.MailSent || mails[0].Attempts != 2 {
		t.Fatalf("after the server came back: %+v", mails[0])
	}
}

func TestGiveUpAfterADay(t *testing.T) {
	c := newClock()
	db := openStore(t, storetest.DSN(t), c)
	srv := mailtest.Start(t)
	srv.Down()
	w := startWorker(t, db, smtpSender(t, srv), c)
	o := pendingOrder(t, db, "cs_giveup")
	mustApply(t, db, paid("evt_1", o, "cs_giveup"))

	// Follow the back-off for a few attempts, then past the day.
	for attempt := 1; attempt <= 3; attempt++ {
		// Wait for the failure to be recorded, not just the claim: then the retry time is set.
		retryAt := c.Now().Add(mail.RetryDelay(attempt))
		waitOutbox(t, db, fmt.Sprintf("attempt %d recorded", attempt), func(ms []store.OutboxMail) bool {
			return ms[0].Attempts == attempt && ms[0].NextAttemptAt.Equal(retryAt)
		})
		c.Advance(mail.RetryDelay(attempt))
		w.Kick()
	}
	waitOutbox(t, db, "attempt 4", func(ms []store.OutboxMail) bool { return ms[0].Attempts == 4 })
	c.Advance(store.MailLifetime)
	w.Kick()
	mails := waitOutbox(t, db, "failed", func(ms []store.OutboxMail) bool { return ms[0].Status == store.MailFailed })
	failed, err := db.ListMail(context.Background(), store.MailFailed, 0)
	if err != nil || len(failed) != 1 || failed[0].LastError == "" {
		t.Fatalf("failed mail for admins: %+v, %v (outbox %+v)", failed, err, mails)
	}
	if len(srv.Messages()) != 0 {
		t.Fatal("a message was received while the server was down")
	}
}

func TestRetryDelay(t *testing.T) {
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute}
	for i, w := range want {
		if got := mail.RetryDelay(i + 1); got != w {
			t.Errorf("RetryDelay(%d) = %v, want %v", i+1, got, w)
		}
	}
	if got := mail.RetryDelay(40); got != time.Hour {
		t.Errorf("RetryDelay(40) = %v, want the one-hour cap", got)
	}
}

func TestSentAfterRestart(t *testing.T) {
	c := newClock()
	path := storetest.DSN(t)
	srv := mailtest.Start(t)

	// The shop queues two messages, claims one as a worker would, and stops before sending:
	// as if it crashed mid-send.
	db := openStore(t, path, c)
	first := pendingOrder(t, db, "cs_first")
	second := pendingOrder(t, db, "cs_second")
	mustApply(t, db, paid("evt_1", first, "cs_first"))
	mustApply(t, db, paid("evt_2", second, "cs_second"))
	if _, ok, err := db.ClaimMail(context.Background(), c.Now(), 5*time.Minute); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	db.Close()

	db = openStore(t, path, c)
	w := startWorker(t, db, smtpSender(t, srv), c)
	srv.WaitFor(1) // the unclaimed message goes at once
	c.Advance(5 * time.Minute)
	w.Kick() // the claimed one once its lease has run out
	got := srv.WaitFor(2)
	waitOutbox(t, db, "everything sent", allSent)
	if len(got) != 2 || got[0].Header.Get("Message-Id") == got[1].Header.Get("Message-Id") {
		t.Fatalf("received %d messages after the restart, want 2 distinct", len(got))
	}
}
