package main

import (
	"context"
	"log/slog"

	"storefront/mail"
	"storefront/store"
)

// mailSender chooses where mail goes: the SMTP server of SMTP_URL; without one, the
// simulator's in-memory mailbox when payments are simulated; with real Stripe, nowhere yet
// (nil): mail waits in the outbox until SMTP_URL is set and the shop restarts.
func mailSender(cfg config, logger *slog.Logger) (mail.Sender, *mail.Mailbox) {
	switch {
	case cfg.smtp != nil:
		logger.Info("mail through SMTP", "smtp", cfg.smtp.Redacted(), "from", cfg.mailFrom)
		return mail.NewSMTP(*cfg.smtp), nil
	case cfg.simulated():
		box := mail.NewMailbox()
		return box, box
	}
	logger.Warn("SMTP_URL is not set: receipts and password reset mail wait in the outbox until it is")
	return nil, nil
}

// mailWorker is the outbox worker running in the background, or nothing when mail has nowhere to go.
type mailWorker struct {
	w      *mail.Worker // nil: no sender
	cancel context.CancelFunc
	done   chan struct{}
}

// startMailWorker sends the outbox's mail through sender until ctx ends or stop is called.
func startMailWorker(ctx context.Context, db *store.DB, sender mail.Sender, r mail.Renderer, logger *slog.Logger) *mailWorker {
	if sender == nil {
		return &mailWorker{}
	}
	ctx, cancel := context.WithCancel(ctx)
	mw := &mailWorker{w: mail.NewWorker(db, sender, r, logger.With("component", "mail")), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(mw.done)
		mw.w.Run(ctx)
	}()
	return mw
}

// kick has the worker send newly queued mail now rather than at its next poll.
func (mw *mailWorker) kick() {
	if mw.w != nil {
		mw.w.Kick()
	}
}

// stop ends the worker and waits for it: a message being sent is finished or left for the next start.
func (mw *mailWorker) stop() {
	if mw.w != nil {
		mw.cancel()
		<-mw.done
	}
}

// authKeys picks the authentication keys out of gorilla/sessions key pairs, newest first.
func authKeys(pairs [][]byte) [][]byte {
	var keys [][]byte
	for i := 0; i < len(pairs); i += 2 {
		keys = append(keys, pairs[i])
	}
	return keys
}
