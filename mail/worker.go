package mail

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"storefront/store"
)

// Sender delivers a rendered message: SMTP, or the in-memory Mailbox.
type Sender interface {
	Send(ctx context.Context, m *Message) error
}

// Outbox is the store's outbox as the worker uses it (store.DB in production).
type Outbox interface {
	ClaimMail(ctx context.Context, now time.Time, lease time.Duration) (store.OutboxMail, bool, error)
	MarkMailSent(ctx context.Context, id int64, at time.Time) error
	RetryMail(ctx context.Context, id int64, at time.Time, reason string) error
	FailMail(ctx context.Context, id int64, reason string) error
}

const (
	// sendTimeout bounds one SMTP conversation.
	sendTimeout = time.Minute
	// claimLease is how long a claimed message is held before another attempt may take it: a
	// worker that stops mid-send leaves the message to be sent again after this.
	claimLease = 5 * time.Minute
	firstRetry = 30 * time.Second
	maxRetry   = time.Hour
)

// RetryDelay is how long to wait after the given number of failed attempts: 30 s, doubling
// each time, at most an hour.
func RetryDelay(attempts int) time.Duration {
	d := firstRetry
	for i := 1; i < attempts && d < maxRetry; i++ {
		d *= 2
	}
	return min(d, maxRetry)
}

// Worker sends the outbox's messages one at a time, oldest due first, and records each result
// before taking the next. A crash between a send and its record can therefore repeat at most
// that one message, after claimLease; a message is never lost.
type Worker struct {
	outbox Outbox
	sender Sender
	render Renderer
	log    *slog.Logger
	wake   chan struct{}

	// Now is the worker's clock, deciding what is due; tests replace it.
	Now func() time.Time
	// PollEvery is how often the worker looks for due messages without being woken.
	PollEvery time.Duration
}

// NewWorker returns a worker sending o's messages through s.
func NewWorker(o Outbox, s Sender, r Renderer, logger *slog.Logger) *Worker {
	return &Worker{outbox: o, sender: s, render: r, log: logger, wake: make(chan struct{}, 1),
		Now: time.Now, PollEvery: time.Second}
}

// Kick makes the worker look for due messages now instead of at its next poll.
func (w *Worker) Kick() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run sends due messages until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	tick := time.NewTicker(w.PollEvery)
	defer tick.Stop()
	for {
		for ctx.Err() == nil && w.sendNext(ctx) {
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-w.wake:
		}
	}
}

// sendNext sends the next due message, if any, and reports whether there may be more.
func (w *Worker) sendNext(ctx context.Context) bool {
	m, ok, err := w.outbox.ClaimMail(ctx, w.Now(), claimLease)
	if err != nil {
		if ctx.Err() == nil {
			w.log.Error("claim mail", "error", err)
		}
		return false
	}
	if !ok {
		return false
	}
	log := w.log.With("mail_id", m.ID, "kind", string(m.Kind), "attempt", m.Attempts)
	if !w.Now().Before(m.GiveUpAt) {
		w.fail(ctx, log, m, fmt.Sprintf("not sent in time (%d attempts): %s", m.Attempts-1, m.LastError))
		return true
	}
	msg, err := w.render.Render(ctx, m)
	if err != nil {
		w.fail(ctx, log, m, err.Error()) // rendering again would not help
		return true
	}
	sctx, cancel := context.WithTimeout(ctx, sendTimeout)
	err = w.sender.Send(sctx, msg)
	cancel()
	if err == nil {
		if err := w.outbox.MarkMailSent(context.WithoutCancel(ctx), m.ID, w.Now()); err != nil {
			log.Error("mark mail sent: it may be sent again", "error", err)
		} else {
			log.Info("mail sent")
		}
		return true
	}
	next := w.Now().Add(RetryDelay(m.Attempts))
	if next.After(m.GiveUpAt) {
		w.fail(ctx, log, m, err.Error())
		return true
	}
	log.Warn("mail not sent; will retry", "error", err, "retry_at", next)
	if err := w.outbox.RetryMail(context.WithoutCancel(ctx), m.ID, next, err.Error()); err != nil {
		log.Error("record mail retry", "error", err)
	}
	return true
}

func (w *Worker) fail(ctx context.Context, log *slog.Logger, m store.OutboxMail, reason string) {
	log.Error("mail given up", "error", reason)
	if err := w.outbox.FailMail(context.WithoutCancel(ctx), m.ID, reason); err != nil {
		log.Error("record failed mail", "error", err)
	}
}
