package simulator_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"storefront/payments/simulator"
)

// logRecorder keeps log records so tests can check what an operator would read.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, r.Clone())
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

// retryAttempts lists the attempt numbers of the warn-level retry records.
func (l *logRecorder) retryAttempts(eventID string) []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []int64
	for _, r := range l.records {
		if r.Level != slog.LevelWarn {
			continue
		}
		var id string
		var attempt int64
		r.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "event_id":
				id = a.Value.String()
			case "attempt":
				attempt = a.Value.Int64()
			}
			return true
		})
		if id == eventID {
			out = append(out, attempt)
		}
	}
	return out
}

func TestDeliveryRetriesUntilAcknowledged(t *testing.T) {
	t.Parallel()
	logs := &logRecorder{}
	h := newHarness(t, func(c *simulator.Config) { c.Logger = slog.New(logs) })
	// Every event is refused twice before the endpoint takes it.
	h.rc.setPolicy(func(_ stripe.Event, attempt int) int {
		if attempt <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	s := h.create(t)
	resp, body := pay(t, s.URL, cardForm("4242424242424242"))
	wantSuccessRedirect(t, resp, body, s.ID)

	want := []string{"payment_intent.created", "charge.succeeded", "payment_intent.succeeded", "checkout.session.completed", "charge.updated"}
	types := h.rc.waitForType(t, "charge.updated")
	if !slices.Equal(types, want) {
		t.Fatalf("acknowledged %v, want %v", types, want)
	}
	h.rc.mu.Lock()
	defer h.rc.mu.Unlock()
	// Each event was tried three times in a row: event N+1 never overtook an unacknowledged event N.
	var wantRequests []string
	for _, ev := range h.rc.acked {
		wantRequests = append(wantRequests, ev.ID, ev.ID, ev.ID)
	}
	if !slices.Equal(h.rc.requests, wantRequests) {
		t.Errorf("attempts went %v, want each event three times in order %v", h.rc.requests, wantRequests)
	}
	first := h.rc.acked[0].ID
	if got := logs.retryAttempts(first); !slices.Equal(got, []int64{1, 2}) {
		t.Errorf("warn-level retry logs for %s carry attempts %v, want [1 2]", first, got)
	}
}

func TestFailingSessionDoesNotBlockOthers(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	stuck := h.create(t)
	h.rc.setPolicy(func(ev stripe.Event, _ int) int {
		var obj struct{ ID string }
		if err := jsonUnmarshal(ev.Data.Raw, &obj); err == nil && obj.ID == stuck.ID {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	if _, err := h.sessions.Expire(stuck.ID, nil); err != nil {
		t.Fatal(err)
	}
	other := h.create(t)
	if _, err := h.sessions.Expire(other.ID, nil); err != nil {
		t.Fatal(err)
	}
	h.rc.waitForType(t, "checkout.session.expired")
	ev, _ := h.rc.event("checkout.session.expired")
	var obj stripe.CheckoutSession
	object(t, ev, &obj)
	if obj.ID != other.ID {
		t.Errorf("acknowledged expiry of %s, want %s", obj.ID, other.ID)
	}
	h.rc.mu.Lock()
	attempts := len(h.rc.requests)
	h.rc.mu.Unlock()
	if attempts < 2 {
		t.Errorf("the stuck session's event was tried %d times; it should keep being retried", attempts-1)
	}
}

func TestPendingDeliverySurvivesRestart(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	rc.setPolicy(func(stripe.Event, int) int { return http.StatusServiceUnavailable })
	cfg := testConfig(t, rc)
	h := start(t, cfg, rc)
	s := h.create(t)
	if _, err := h.sessions.Expire(s.ID, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a refused delivery", func() bool {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		return len(rc.requests) > 0
	})
	h.stop()
	if len(rc.types()) != 0 {
		t.Fatal("event acknowledged before restart; the test proves nothing")
	}

	rc.setPolicy(nil)
	h2 := start(t, cfg, rc)
	h2.rc.waitForType(t, "checkout.session.expired")
	if got := h2.get(t, s.ID); got.Status != stripe.CheckoutSessionStatusExpired {
		t.Errorf("after restart session status %q, want expired", got.Status)
	}
}

func TestScheduledBankResultSurvivesRestart(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	cfg := testConfig(t, rc)
	cfg.AsyncDelay = 700 * time.Millisecond
	h := start(t, cfg, rc)
	s := h.create(t)
	resp, body := pay(t, s.URL, bankForm("000123456789"))
	wantSuccessRedirect(t, resp, body, s.ID)
	h.stop()
	if slices.Contains(rc.types(), "checkout.session.async_payment_succeeded") {
		t.Fatal("transfer settled before restart; the test proves nothing")
	}

	h2 := start(t, cfg, rc)
	types := rc.waitForType(t, "checkout.session.async_payment_succeeded")
	if countType(types, "checkout.session.completed") != 1 {
		t.Errorf("events %v: completion should be delivered exactly once", types)
	}
	if got := h2.get(t, s.ID); got.PaymentStatus != stripe.CheckoutSessionPaymentStatusPaid {
		t.Errorf("payment_status %q after settlement, want paid", got.PaymentStatus)
	}
}

func TestRunStopsPromptlyDuringHangingDelivery(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	entered := make(chan struct{}, 1)
	hang := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // the server notices a client hanging up only once the body is read
		select {
		case entered <- struct{}{}:
		default:
		}
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	rc.srv.Config.Handler = hang
	h := start(t, testConfig(t, rc), rc)
	s := h.create(t)
	if _, err := h.sessions.Expire(s.ID, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("no delivery started")
	}
	began := time.Now()
	h.stop() // fails the test if Run takes 2 s or more
	if d := time.Since(began); d > 2*time.Second {
		t.Errorf("Run took %s to stop", d)
	}
}
