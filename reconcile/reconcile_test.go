package reconcile

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"storefront/store"
	"storefront/store/storetest"
)

// fakeSource is a provider whose event list and session states the test sets.
type fakeSource struct {
	mu       sync.Mutex
	events   []store.Change
	sessions map[string]store.Change // completed or expired sessions
	asked    []string
	entered  chan struct{} // when set, closed as ListEvents starts (the run holds the lock)
	listing  chan struct{} // when set, ListEvents then waits on it
}

func (f *fakeSource) ListEvents(ctx context.Context, since time.Time, each func(store.Change) error) error {
	if f.entered != nil {
		close(f.entered)
	}
	if f.listing != nil {
		<-f.listing
	}
	f.mu.Lock()
	events := append([]store.Change(nil), f.events...)
	f.mu.Unlock()
	for _, ev := range events {
		if err := each(ev); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeSource) SessionChange(ctx context.Context, id string) (store.Change, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, id)
	ch, ok := f.sessions[id]
	return ch, ok, nil
}

type fixture struct {
	db  *store.DB
	now time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := store.Open(context.Background(), storetest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &fixture{db: db, now: time.Now()}
}

// order makes a guest's pending order with a Checkout Session, created age ago.
func (f *fixture) order(t *testing.T, session string, age time.Duration) store.Order {
	t.Helper()
	ctx := context.Background()
	f.db.Now = func() time.Time { return f.now.Add(-age) }
	defer func() { f.db.Now = func() time.Time { return f.now } }()
	cart := store.CartRef{Token: "cart-" + session}
	if err := f.db.AddToCart(ctx, cart, 1, 1); err != nil {
		t.Fatal(err)
	}
	o, _, err := f.db.PrepareOrder(ctx, cart)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.AttachCheckoutSession(ctx, o.ID, session, "https://pay.example/"+session, f.now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	o, err = f.db.Order(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func paid(eventID string, o store.Order) store.Change {
	return store.Change{
		Event:  store.EventRecord{ID: eventID, Type: "checkout.session.completed", Payload: []byte(`{}`)},
		Order:  store.OrderRef{SessionID: o.CheckoutSessionID, PaymentIntent: "pi_" + o.CheckoutSessionID, OrderID: o.ID},
		Effect: store.EffectSettle, To: store.StatusPaid,
		Payment: &store.Payment{Amount: o.AmountTotal, Currency: o.Currency},
	}
}

func TestReconcileAppliesMissedEventsOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	missed := f.order(t, "cs_missed", time.Minute)
	delivered := f.order(t, "cs_delivered", time.Minute)
	// The webhook for one order arrived; the other's never did.
	if _, err := f.db.ApplyChange(ctx, paid("evt_delivered", delivered)); err != nil {
		t.Fatal(err)
	}
	src := &fakeSource{events: []store.Change{paid("evt_missed", missed), paid("evt_delivered", delivered)}}
	var published []store.Order
	r, err := Run(ctx, src, f.db, DefaultSince, func(o store.Order) { published = append(published, o) })
	if err != nil {
		t.Fatal(err)
	}
	if r.Seen != 2 || r.Applied != 1 || r.Known != 1 {
		t.Errorf("result %+v, want 2 seen, 1 applied, 1 known", r)
	}
	if got, _ := f.db.Order(ctx, missed.ID); got.Status != store.StatusPaid {
		t.Errorf("the missed order is %s after reconcile, want paid", got.Status)
	}
	if len(published) != 1 || published[0].ID != missed.ID {
		t.Errorf("published %v, want the missed order once", published)
	}
	if want := "reconcile: 2 events seen, 1 applied, 1 already known"; r.String()[:len(want)] != want {
		t.Errorf("summary %q", r.String())
	}

	again, err := Run(ctx, src, f.db, DefaultSince, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Applied != 0 || again.Known != 2 {
		t.Errorf("a second run: %+v, want nothing applied, 2 known", again)
	}
}

func TestReconcileAsksAboutOldPendingCheckouts(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	old := f.order(t, "cs_old", time.Hour)
	stillOpen := f.order(t, "cs_open", time.Hour)
	fresh := f.order(t, "cs_fresh", time.Minute) // a shopper may still be on the payment page
	src := &fakeSource{sessions: map[string]store.Change{
		"cs_old":   paid("reconcile_cs_old_complete_paid", old),
		"cs_fresh": paid("reconcile_cs_fresh_complete_paid", fresh),
	}}
	r, err := Run(ctx, src, f.db, DefaultSince, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Checked != 2 || r.Settled != 1 {
		t.Errorf("result %+v, want 2 checked, 1 settled", r)
	}
	if got, _ := f.db.Order(ctx, old.ID); got.Status != store.StatusPaid {
		t.Errorf("the old pending order is %s, want paid", got.Status)
	}
	for _, o := range []store.Order{stillOpen, fresh} {
		if got, _ := f.db.Order(ctx, o.ID); got.Status != store.StatusPending {
			t.Errorf("order %s is %s, want still pending", o.CheckoutSessionID, got.Status)
		}
	}
	if fmt.Sprint(src.asked) != "[cs_old cs_open]" {
		t.Errorf("asked about %v, want the two older than %v", src.asked, PendingAfter)
	}
}

func TestOneReconcileAtATime(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	slow := &fakeSource{entered: make(chan struct{}), listing: make(chan struct{})}
	done := make(chan error, 1)
	go func() { _, err := Run(ctx, slow, f.db, DefaultSince, nil); done <- err }()
	<-slow.entered
	if _, err := Run(ctx, &fakeSource{}, f.db, DefaultSince, nil); !errors.Is(err, ErrRunning) {
		t.Errorf("a second run while one is going: %v, want ErrRunning", err)
	}
	close(slow.listing)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := Run(ctx, &fakeSource{}, f.db, DefaultSince, nil); err != nil {
		t.Errorf("a run after the first finished: %v", err)
	}
}
