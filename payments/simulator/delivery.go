package simulator

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	// deliveryTimeout is how long an endpoint has to answer, as on Stripe.
	deliveryTimeout = 10 * time.Second
	// giveUpAfter matches Stripe, which retries a webhook for up to three days.
	giveUpAfter = 72 * time.Hour
	// idleRecheck bounds every worker sleep, so a change made behind the simulator's back
	// (another process on the same file, a test clock) is noticed soon.
	idleRecheck = time.Second
	// webhookUserAgent is what Stripe sends.
	webhookUserAgent = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
)

// pendingEvent is the head of one session's delivery queue.
type pendingEvent struct {
	seq        int64
	id         string
	sessionID  string
	typ        string
	payload    []byte
	attempts   int
	enqueuedMS int64
}

// headsFilter keeps only each session's oldest undelivered event, so a session's events go out in order.
const headsFilter = `e.delivered_ms IS NULL AND e.abandoned_ms IS NULL AND NOT EXISTS (
	SELECT 1 FROM events p WHERE p.session_id = e.session_id AND p.seq < e.seq
	AND p.delivered_ms IS NULL AND p.abandoned_ms IS NULL)`

// deliveryLoop is the single delivery worker: it sends ready queue heads oldest first, and sleeps
// until the next retry is due or a new event is queued.
func (s *Simulator) deliveryLoop(ctx context.Context) {
	for ctx.Err() == nil {
		ev, wait, err := s.nextDelivery(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.log.Error("webhook delivery queue unreadable", "error", err)
			wait = idleRecheck
		}
		if ev != nil {
			s.deliver(ctx, ev)
			continue
		}
		sleep(ctx, min(wait, idleRecheck), s.deliveryWake)
	}
}

// pendingFilter keeps every undelivered event; the reorder fault delivers from it, newest first.
const pendingFilter = `e.delivered_ms IS NULL AND e.abandoned_ms IS NULL`

// nextDelivery returns the oldest queue head that is due, or how long until one is. The delay
// fault holds each event until delay after it was queued; reorder takes the newest pending event.
func (s *Simulator) nextDelivery(ctx context.Context) (*pendingEvent, time.Duration, error) {
	f := s.currentFaults()
	filter, order := headsFilter, "e.seq"
	if f.Reorder {
		filter, order = pendingFilter, "e.seq DESC"
	}
	due := `MAX(e.next_attempt_ms, e.enqueued_ms + ?)`
	delayMS := f.Delay.Milliseconds()
	nowMS := time.Now().UnixMilli()
	ev := &pendingEvent{}
	err := s.db.QueryRowContext(ctx, `SELECT e.seq, e.id, e.session_id, e.type, e.payload, e.attempts, e.enqueued_ms
		FROM events e WHERE `+due+` <= ? AND `+filter+` ORDER BY `+order+` LIMIT 1`, delayMS, nowMS).
		Scan(&ev.seq, &ev.id, &ev.sessionID, &ev.typ, &ev.payload, &ev.attempts, &ev.enqueuedMS)
	if err == nil {
		return ev, 0, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, 0, fmt.Errorf("find next event to deliver: %w", err)
	}
	var next sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MIN(`+due+`) FROM events e WHERE `+filter, delayMS).Scan(&next); err != nil {
		return nil, 0, fmt.Errorf("find next retry: %w", err)
	}
	if !next.Valid {
		return nil, idleRecheck, nil
	}
	return nil, time.Duration(next.Int64-nowMS) * time.Millisecond, nil
}

// deliver makes one attempt; an attempt cut short by shutdown is not counted, and is simply made again after restart.
func (s *Simulator) deliver(ctx context.Context, ev *pendingEvent) {
	attempt := ev.attempts + 1
	// Record the outcome even if shutdown begins now: an acknowledged event must not be sent again.
	dbCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	f := s.currentFaults()
	if ev.attempts == 0 && s.dice.roll(f.Drop) {
		s.dropEvent(dbCtx, ev)
		return
	}
	payload := ev.payload
	if f.NewerAPI {
		payload = withAPIVersion(payload, newerAPIVersion)
	}
	status, err := s.post(ctx, payload)
	if ctx.Err() != nil {
		return
	}
	now := time.Now()
	if err == nil {
		if s.dice.roll(f.Duplicate) {
			// Stripe delivers at least once: the same event again, freshly signed.
			if _, dupErr := s.post(ctx, payload); dupErr != nil {
				s.log.Warn("fault injection: duplicate webhook refused", "error", dupErr, "event_id", ev.id, "type", ev.typ)
			} else {
				s.log.Warn("fault injection: webhook delivered twice", "event_id", ev.id, "type", ev.typ)
			}
		}
		if _, err := s.db.ExecContext(dbCtx, `UPDATE events SET delivered_ms = ?, attempts = ?, last_error = '' WHERE seq = ?`,
			now.UnixMilli(), attempt, ev.seq); err != nil {
			s.log.Error("could not record webhook delivery", "error", err, "event_id", ev.id, "session_id", ev.sessionID)
			return
		}
		s.log.Debug("webhook delivered", "event_id", ev.id, "session_id", ev.sessionID, "type", ev.typ, "attempt", attempt, "status", status)
		return
	}
	if now.Sub(time.UnixMilli(ev.enqueuedMS)) > giveUpAfter {
		if _, dbErr := s.db.ExecContext(dbCtx, `UPDATE events SET abandoned_ms = ?, attempts = ?, last_error = ? WHERE seq = ?`,
			now.UnixMilli(), attempt, err.Error(), ev.seq); dbErr != nil {
			s.log.Error("could not record abandoned webhook", "error", dbErr, "event_id", ev.id, "session_id", ev.sessionID)
			return
		}
		s.log.Error("webhook delivery abandoned after three days", "error", err, "event_id", ev.id, "session_id", ev.sessionID, "type", ev.typ, "attempt", attempt)
		return
	}
	delay := s.backoff(attempt)
	if _, dbErr := s.db.ExecContext(dbCtx, `UPDATE events SET attempts = ?, next_attempt_ms = ?, last_error = ? WHERE seq = ?`,
		attempt, now.Add(delay).UnixMilli(), err.Error(), ev.seq); dbErr != nil {
		s.log.Error("could not schedule webhook retry", "error", dbErr, "event_id", ev.id, "session_id", ev.sessionID)
		return
	}
	s.log.Warn("webhook delivery failed; will retry", "error", err, "event_id", ev.id, "session_id", ev.sessionID,
		"type", ev.typ, "attempt", attempt, "retry_in", delay.String())
}

// dropEvent gives up on an event without sending it, as if the endpoint never heard of it; it
// stays in the events table, so GET /v1/events still lists it for a reconcile to find.
func (s *Simulator) dropEvent(ctx context.Context, ev *pendingEvent) {
	if _, err := s.db.ExecContext(ctx, `UPDATE events SET abandoned_ms = ?, last_error = ? WHERE seq = ?`,
		time.Now().UnixMilli(), "dropped by fault injection", ev.seq); err != nil {
		s.log.Error("could not drop webhook", "error", err, "event_id", ev.id)
		return
	}
	s.log.Warn("fault injection: webhook dropped", "event_id", ev.id, "session_id", ev.sessionID, "type", ev.typ)
}

// backoff is RetryBase·2^(attempt-1), capped at RetryMax.
func (s *Simulator) backoff(attempt int) time.Duration {
	d := s.cfg.RetryBase
	for i := 1; i < attempt && d < s.cfg.RetryMax; i++ {
		d *= 2
	}
	return min(d, s.cfg.RetryMax)
}

// post sends one signed attempt; any answer but a 2xx is a failure.
func (s *Simulator) post(ctx context.Context, payload []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, deliveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.WebhookURL, bytes.NewReader(payload))
	if err != nil {
		return 0, fmt.Errorf("build webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", webhookUserAgent)
	req.Header.Set("Accept", "*/*; q=0.5, application/xml")
	req.Header.Set("Cache-Control", "no-cache")
	// Signed afresh at each attempt, as Stripe does, so a retry is never stale.
	req.Header.Set("Stripe-Signature", signature(s.cfg.WebhookSecret, time.Now(), payload))
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("post webhook to %s: %w", s.cfg.WebhookURL, err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := strings.TrimSpace(string(snippet))
		if msg != "" {
			return resp.StatusCode, fmt.Errorf("webhook endpoint answered %s: %s", resp.Status, msg)
		}
		return resp.StatusCode, fmt.Errorf("webhook endpoint answered %s", resp.Status)
	}
	return resp.StatusCode, nil
}

// signature builds a Stripe-Signature header: t=<unix>,v1=hex(HMAC-SHA256(secret, "<t>.<body>")).
func signature(secret string, at time.Time, payload []byte) string {
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(payload)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// sleep waits for d, a nudge on wakeCh, or ctx, whichever comes first.
func sleep(ctx context.Context, d time.Duration, wakeCh <-chan struct{}) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-wakeCh:
	case <-t.C:
	}
}
