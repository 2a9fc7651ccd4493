package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"sync"
	"testing"
	"time"
)

// eventTestAPIVersion is the API version the test events claim.
const eventTestAPIVersion = "2023-10-16"

// checkoutFixture is a shopper with a pending order whose Checkout Session is open.
type checkoutFixture struct {
	db       *DB
	user     User
	ref      CartRef
	products []Product
	order    Order
}

// newCheckoutFixture opens a database, fills a user's cart with 2 × product 0 and 1 × product 1,
// prepares the order and attaches the Checkout Session sessionID to it.
func newCheckoutFixture(tb testing.TB, sessionID string) checkoutFixture {
	tb.Helper()
	db := mustOpenDB(tb)
	f := checkoutFixture{db: db, user: mustCreateUser(tb, db), products: seededCatalogue(tb, db, 3)}
	f.ref = CartRef{UserID: f.user.ID}
	mustCartWithLines(tb, db, f.ref, [2]int64{f.products[0].ID, 2}, [2]int64{f.products[1].ID, 1})
	o, _ := mustPrepareOrder(tb, db, f.ref)
	mustAttachSession(tb, db, o.ID, sessionID, fixedNow.Add(time.Hour))
	f.order = mustGetOrder(tb, db, o.ID)
	return f
}

// settleFor builds the change a Checkout Session event makes (payments/change_test.go checks
// how payments reads Stripe's events into changes): it names order o by its session, payment
// intent and id, and a confirmation matches o in every field.
func settleFor(id string, o Order, to Status, confirms bool) Change {
	ch := Change{
		Order:  OrderRef{SessionID: o.CheckoutSessionID, PaymentIntent: "pi_" + o.CheckoutSessionID, OrderID: o.ID},
		Effect: EffectSettle, To: to, CustomerEmail: "buyer@example.com",
	}
	if confirms {
		clientRef := ""
		if o.UserID != 0 {
			clientRef = strconv.FormatInt(o.UserID, 10)
		}
		ch.Payment = &Payment{Amount: o.AmountTotal, Currency: o.Currency, ClientReference: clientRef}
	}
	return withEvent(id, "checkout.session.settled", o.CheckoutSessionID, ch)
}

// refundFor builds the change of a refund of payment intent pi.
func refundFor(id, pi string, amountRefunded int64, full bool) Change {
	return withEvent(id, "charge.refunded", "ch_"+id, Change{Order: OrderRef{PaymentIntent: pi},
		Effect: EffectRefund, Refund: Refund{Amount: amountRefunded, Full: full}})
}

// withEvent gives ch the event record the log keeps: type and object are only recorded, and
// the payload is the change itself, so that a test can tell one delivery from another.
func withEvent(id, typ, objectID string, ch Change) Change {
	body, err := json.Marshal(map[string]any{"id": id, "type": typ, "change": ch})
	if err != nil {
		panic(err)
	}
	ch.Event = EventRecord{ID: id, Type: typ, APIVersion: eventTestAPIVersion, Created: fixedNow.Unix(), ObjectID: objectID, Payload: body}
	return ch
}

// mustApplyEvent applies the change of an event and checks its outcome.
func mustApplyEvent(tb testing.TB, db *DB, ch Change, want Outcome) EventResult {
	tb.Helper()
	res, err := db.ApplyChange(context.Background(), ch)
	if err != nil {
		tb.Fatalf("ApplyChange(%s %s): %v", ch.Event.Type, ch.Event.ID, err)
	}
	if res.Outcome != want {
		tb.Fatalf("ApplyChange(%s %s) outcome = %q (%s), want %q", ch.Event.Type, ch.Event.ID, res.Outcome, res.Reason, want)
	}
	return res
}

// wantOrderStatus fails unless the stored order has status want.
func wantOrderStatus(tb testing.TB, db *DB, orderID int64, want Status) Order {
	tb.Helper()
	o := mustGetOrder(tb, db, orderID)
	if o.Status != want {
		tb.Errorf("order %d status = %q, want %q", orderID, o.Status, want)
	}
	return o
}

// storedEventRow is a row of stripe_events.
type storedEventRow struct {
	Type, APIVersion, ObjectID, Payload, ReceivedAt, Outcome string
	Created                                                  int64
	PaymentIntent, ProcessedAt                               sql.NullString
	OrderID                                                  sql.NullInt64
}

// readEventRow reads the stored event id.
func readEventRow(tb testing.TB, db *DB, id string) storedEventRow {
	tb.Helper()
	var r storedEventRow
	err := db.readStmts.QueryRowContext(context.Background(), `SELECT type, api_version, object_id, CAST(payload AS TEXT), received_at, outcome,
		created, payment_intent, processed_at, order_id FROM stripe_events WHERE id = ?`, id).Scan(
		&r.Type, &r.APIVersion, &r.ObjectID, &r.Payload, &r.ReceivedAt, &r.Outcome,
		&r.Created, &r.PaymentIntent, &r.ProcessedAt, &r.OrderID)
	if err != nil {
		tb.Fatalf("read stored event %s: %v", id, err)
	}
	return r
}

func TestApplyEventCompletedPaid(t *testing.T) {
	f := newCheckoutFixture(t, "cs_paid")
	db := f.db
	paidAt := fixedNow.Add(3 * time.Minute)
	db.Now = func() time.Time { return paidAt }

	// After checkout the shopper adds 3 more of product 0, 1 more of product 1 and a new product 2.
	mustAddToCart(t, db, f.ref, f.products[0].ID, 3)
	mustAddToCart(t, db, f.ref, f.products[1].ID, 1)
	mustAddToCart(t, db, f.ref, f.products[2].ID, 1)

	ev := settleFor("evt_paid", f.order, StatusPaid, true)
	res := mustApplyEvent(t, db, ev, OutcomeApplied)

	t.Run("Result", func(t *testing.T) {
		if res.Order == nil {
			t.Fatal("result has no order")
		}
		if res.Order.ID != f.order.ID || res.Order.Status != StatusPaid || res.From != StatusPending {
			t.Errorf("result = order %d %s from %s, want order %d paid from pending", res.Order.ID, res.Order.Status, res.From, f.order.ID)
		}
	})

	t.Run("OrderPaid", func(t *testing.T) {
		o := wantOrderStatus(t, db, f.order.ID, StatusPaid)
		if !o.PaidAt.Equal(paidAt) || !o.UpdatedAt.Equal(paidAt) {
			t.Errorf("PaidAt, UpdatedAt = %v, %v, want %v", o.PaidAt, o.UpdatedAt, paidAt)
		}
		if got, want := o.PaymentIntent, "pi_cs_paid"; got != want {
			t.Errorf("PaymentIntent = %q, want %q", got, want)
		}
		if got, want := o.CustomerEmail, "buyer@example.com"; got != want {
			t.Errorf("CustomerEmail = %q, want %q", got, want)
		}
	})

	t.Run("BoughtLinesLeaveCart", func(t *testing.T) {
		want := map[int64]int{
			f.products[0].ID: 3, // 5 in the cart, 2 bought
			f.products[1].ID: 1, // 2 in the cart, 1 bought
			f.products[2].ID: 1, // added after checkout
		}
		got := cartQuantities(t, db, f.ref)
		if len(got) != len(want) {
			t.Errorf("cart after payment = %v, want %v", got, want)
		}
		for id, q := range want {
			if got[id] != q {
				t.Errorf("cart quantity of product %d = %d, want %d (cart %v)", id, got[id], q, got)
			}
		}
	})

	t.Run("StoredEvent", func(t *testing.T) {
		r := readEventRow(t, db, ev.Event.ID)
		if r.Type != ev.Event.Type || r.APIVersion != eventTestAPIVersion || r.Created != ev.Event.Created || r.ObjectID != "cs_paid" {
			t.Errorf("stored type %q api %q created %d object %q, want %q %q %d cs_paid",
				r.Type, r.APIVersion, r.Created, r.ObjectID, ev.Event.Type, eventTestAPIVersion, ev.Event.Created)
		}
		if r.Payload != string(ev.Event.Payload) {
			t.Errorf("stored payload = %s, want %s", r.Payload, ev.Event.Payload)
		}
		if got, want := r.PaymentIntent.String, "pi_cs_paid"; got != want {
			t.Errorf("stored payment_intent = %q, want %q", got, want)
		}
		if got, want := r.Outcome, string(OutcomeApplied); got != want {
			t.Errorf("stored outcome = %q, want %q", got, want)
		}
		if got, want := r.OrderID.Int64, f.order.ID; !r.OrderID.Valid || got != want {
			t.Errorf("stored order_id = %v, want %d", r.OrderID, want)
		}
		ts := formatTime(paidAt)
		if r.ReceivedAt != ts || r.ProcessedAt.String != ts {
			t.Errorf("received_at, processed_at = %q, %q, want %q", r.ReceivedAt, r.ProcessedAt.String, ts)
		}
	})

	t.Run("ReplayedWithNewIDIsStale", func(t *testing.T) {
		again := settleFor("evt_paid_again", f.order, StatusPaid, true)
		mustApplyEvent(t, db, again, OutcomeStale)
		o := wantOrderStatus(t, db, f.order.ID, StatusPaid)
		if !o.PaidAt.Equal(paidAt) {
			t.Errorf("PaidAt moved to %v", o.PaidAt)
		}
		if got, want := cartCountOf(t, db, f.ref), 5; got != want {
			t.Errorf("cart count after a stale event = %d, want %d", got, want)
		}
	})
}

func TestApplyEventSequences(t *testing.T) {
	type step struct {
		to       Status
		confirms bool
		want     Outcome
		status   Status
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"AsyncSucceeded", []step{
			{StatusProcessing, true, OutcomeApplied, StatusProcessing},
			{StatusPaid, true, OutcomeApplied, StatusPaid},
		}},
		{"AsyncFailed", []step{
			{StatusProcessing, true, OutcomeApplied, StatusProcessing},
			{StatusFailed, false, OutcomeApplied, StatusFailed},
			{StatusPaid, true, OutcomeStale, StatusFailed},
		}},
		{"ExpiredPending", []step{
			{StatusExpired, false, OutcomeApplied, StatusExpired},
			{StatusExpired, false, OutcomeStale, StatusExpired},
		}},
		{"PaymentAfterExpiryCounts", []step{
			{StatusExpired, false, OutcomeApplied, StatusExpired},
			{StatusPaid, true, OutcomeApplied, StatusPaid},
		}},
		{"ExpiredAfterPaid", []step{
			{StatusPaid, true, OutcomeApplied, StatusPaid},
			{StatusExpired, false, OutcomeStale, StatusPaid},
		}},
		{"AsyncSucceededBeforeCompleted", []step{
			{StatusPaid, true, OutcomeApplied, StatusPaid},
			{StatusProcessing, true, OutcomeStale, StatusPaid},
		}},
		{"FailedBeforeCompleted", []step{
			{StatusFailed, false, OutcomeApplied, StatusFailed},
			{StatusProcessing, true, OutcomeStale, StatusFailed},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newCheckoutFixture(t, "cs_"+tt.name)
			for i, s := range tt.steps {
				ev := settleFor("evt_"+strconv.Itoa(i), f.order, s.to, s.confirms)
				res := mustApplyEvent(t, f.db, ev, s.want)
				if s.want == OutcomeStale && res.Order != nil {
					t.Errorf("step %d: stale result carries an order", i)
				}
				wantOrderStatus(t, f.db, f.order.ID, s.status)
				if got, want := readEventRow(t, f.db, ev.Event.ID).Outcome, string(s.want); got != want {
					t.Errorf("step %d: stored outcome = %q, want %q", i, got, want)
				}
			}
			o := mustGetOrder(t, f.db, f.order.ID)
			if paid := o.Status == StatusPaid; paid == o.PaidAt.IsZero() {
				t.Errorf("status %q with PaidAt %v", o.Status, o.PaidAt)
			}
		})
	}
}

func TestApplyEventCartKeptUnlessPaid(t *testing.T) {
	f := newCheckoutFixture(t, "cs_keep")
	mustApplyEvent(t, f.db, settleFor("evt_unpaid", f.order, StatusProcessing, true), OutcomeApplied)
	if got, want := cartCountOf(t, f.db, f.ref), 3; got != want {
		t.Errorf("cart count while processing = %d, want %d", got, want)
	}
	mustApplyEvent(t, f.db, settleFor("evt_failed", f.order, StatusFailed, false), OutcomeApplied)
	if got, want := cartCountOf(t, f.db, f.ref), 3; got != want {
		t.Errorf("cart count after a failed payment = %d, want %d", got, want)
	}
}

// cartCountOf is the cart badge count of the cart named by ref.
func cartCountOf(tb testing.TB, db *DB, ref CartRef) int {
	tb.Helper()
	n, err := db.CartCount(context.Background(), ref)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

func TestApplyEventRefunds(t *testing.T) {
	t.Run("Full", func(t *testing.T) {
		f := newCheckoutFixture(t, "cs_refund")
		mustApplyEvent(t, f.db, settleFor("evt_paid", f.order, StatusPaid, true), OutcomeApplied)
		ev := refundFor("evt_refund", "pi_cs_refund", f.order.AmountTotal, true)
		res := mustApplyEvent(t, f.db, ev, OutcomeApplied)
		if res.Order == nil || res.Order.Status != StatusRefunded || res.From != StatusPaid {
			t.Errorf("result = %+v, want the order refunded from paid", res)
		}
		o := wantOrderStatus(t, f.db, f.order.ID, StatusRefunded)
		if o.PaidAt.IsZero() || o.PaymentIntent != "pi_cs_refund" {
			t.Errorf("refunded order lost its payment: paid at %v, intent %q", o.PaidAt, o.PaymentIntent)
		}
		r := readEventRow(t, f.db, ev.Event.ID)
		if r.Outcome != string(OutcomeApplied) || r.OrderID.Int64 != f.order.ID || r.ObjectID != "ch_evt_refund" {
			t.Errorf("stored refund = outcome %q order %v object %q, want applied, %d, ch_evt_refund", r.Outcome, r.OrderID, r.ObjectID, f.order.ID)
		}
	})

	t.Run("Partial", func(t *testing.T) {
		f := newCheckoutFixture(t, "cs_partial")
		mustApplyEvent(t, f.db, settleFor("evt_paid", f.order, StatusPaid, true), OutcomeApplied)
		ev := refundFor("evt_partial", "pi_cs_partial", 100, false)
		res := mustApplyEvent(t, f.db, ev, OutcomeRecorded)
		if res.Order == nil || res.Order.AmountRefunded != 100 {
			t.Errorf("partial refund result = %+v, want the order with 100 refunded", res.Order)
		}
		if o := wantOrderStatus(t, f.db, f.order.ID, StatusPaid); o.AmountRefunded != 100 || o.RefundedInFull {
			t.Errorf("order refunded %d (full %v), want 100 of it", o.AmountRefunded, o.RefundedInFull)
		}
		// An older running total delivered late lowers nothing.
		mustApplyEvent(t, f.db, refundFor("evt_older", "pi_cs_partial", 50, false), OutcomeRecorded)
		if o := wantOrderStatus(t, f.db, f.order.ID, StatusPaid); o.AmountRefunded != 100 {
			t.Errorf("after an older total the order shows %d refunded, want 100", o.AmountRefunded)
		}
		if got, want := readEventRow(t, f.db, ev.Event.ID).Outcome, string(OutcomeRecorded); got != want {
			t.Errorf("stored outcome = %q, want %q", got, want)
		}
	})

	t.Run("BeforePaid", func(t *testing.T) {
		f := newCheckoutFixture(t, "cs_early")
		early := refundFor("evt_early_refund", "pi_cs_early", f.order.AmountTotal, true)
		mustApplyEvent(t, f.db, early, OutcomeUnmatched)
		wantOrderStatus(t, f.db, f.order.ID, StatusPending)

		mustApplyEvent(t, f.db, settleFor("evt_paid", f.order, StatusPaid, true), OutcomeApplied)
		o := wantOrderStatus(t, f.db, f.order.ID, StatusRefunded)
		if o.PaidAt.IsZero() {
			t.Error("order refunded early has no PaidAt")
		}
		r := readEventRow(t, f.db, early.Event.ID)
		if r.Outcome != string(OutcomeApplied) || r.OrderID.Int64 != f.order.ID {
			t.Errorf("early refund stored as outcome %q order %v, want applied to %d", r.Outcome, r.OrderID, f.order.ID)
		}
	})

	t.Run("PartialBeforePaid", func(t *testing.T) {
		f := newCheckoutFixture(t, "cs_early_partial")
		mustApplyEvent(t, f.db, refundFor("evt_early_partial", "pi_cs_early_partial", 100, false), OutcomeUnmatched)
		mustApplyEvent(t, f.db, settleFor("evt_paid", f.order, StatusPaid, true), OutcomeApplied)
		if o := wantOrderStatus(t, f.db, f.order.ID, StatusPaid); o.AmountRefunded != 100 {
			t.Errorf("order shows %d refunded, want the early partial refund of 100", o.AmountRefunded)
		}
	})

	t.Run("BeforeAsyncPaid", func(t *testing.T) {
		f := newCheckoutFixture(t, "cs_early_async")
		early := refundFor("evt_early_refund", "pi_cs_early_async", f.order.AmountTotal, true)
		mustApplyEvent(t, f.db, early, OutcomeUnmatched)
		mustApplyEvent(t, f.db, settleFor("evt_async", f.order, StatusPaid, true), OutcomeApplied)
		wantOrderStatus(t, f.db, f.order.ID, StatusRefunded)
	})

	t.Run("OnPendingOrder", func(t *testing.T) {
		f := newCheckoutFixture(t, "cs_refund_pending")
		// The order knows its payment intent (completed unpaid), but is not paid yet.
		mustApplyEvent(t, f.db, settleFor("evt_unpaid", f.order, StatusProcessing, true), OutcomeApplied)
		mustApplyEvent(t, f.db, refundFor("evt_refund", "pi_cs_refund_pending", f.order.AmountTotal, true), OutcomeRecorded)
		wantOrderStatus(t, f.db, f.order.ID, StatusProcessing)
		// The payment then succeeds: the order ends refunded, as in the natural order.
		res := mustApplyEvent(t, f.db, settleFor("evt_async_paid", f.order, StatusPaid, true), OutcomeApplied)
		if res.Order == nil || res.Order.Status != StatusRefunded || res.From != StatusProcessing {
			t.Errorf("result = %+v, want the order refunded from processing", res)
		}
		if o := wantOrderStatus(t, f.db, f.order.ID, StatusRefunded); o.PaidAt.IsZero() {
			t.Error("order refunded on confirmation has no PaidAt")
		}
	})

	t.Run("NoPaymentIntent", func(t *testing.T) {
		f := newCheckoutFixture(t, "cs_refund_nopi")
		ev := refundFor("evt_refund_nopi", "", 100, true)
		mustApplyEvent(t, f.db, ev, OutcomeUnmatched)
		r := readEventRow(t, f.db, ev.Event.ID)
		if r.PaymentIntent.Valid {
			t.Errorf("stored payment_intent = %q, want NULL", r.PaymentIntent.String)
		}
	})
}

func TestApplyEventDuplicate(t *testing.T) {
	t.Run("Sequential", func(t *testing.T) {
		f := newCheckoutFixture(t, "cs_dup")
		ev := settleFor("evt_dup", f.order, StatusProcessing, true)
		mustApplyEvent(t, f.db, ev, OutcomeApplied)
		// The same id again, even with different content, changes nothing.
		later := settleFor("evt_dup", f.order, StatusPaid, true)
		res := mustApplyEvent(t, f.db, later, OutcomeDuplicate)
		if res.Order != nil {
			t.Errorf("duplicate result carries an order")
		}
		wantOrderStatus(t, f.db, f.order.ID, StatusProcessing)
		if got := countRows(t, f.db, "SELECT count(*) FROM stripe_events WHERE id = 'evt_dup'"); got != 1 {
			t.Errorf("stored rows = %d, want 1", got)
		}
		r := readEventRow(t, f.db, "evt_dup")
		if r.Type != ev.Event.Type || r.Payload != string(ev.Event.Payload) || r.Outcome != string(OutcomeApplied) {
			t.Errorf("stored event = %s %s %q, want the first delivery, applied", r.Type, r.Payload, r.Outcome)
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		f := newCheckoutFixture(t, "cs_concurrent")
		ev := settleFor("evt_concurrent", f.order, StatusPaid, true)
		const deliveries = 10
		results := make(chan EventResult, deliveries)
		errs := make(chan error, deliveries)
		var wg sync.WaitGroup
		for range deliveries {
			wg.Go(func() {
				res, err := f.db.ApplyChange(context.Background(), ev)
				if err != nil {
					errs <- err
					return
				}
				results <- res
			})
		}
		wg.Wait()
		close(results)
		close(errs)
		for err := range errs {
			t.Errorf("ApplyChange: %v", err)
		}
		applied, duplicates := 0, 0
		for res := range results {
			switch res.Outcome {
			case OutcomeDuplicate:
				duplicates++
			case OutcomeApplied:
				applied++
			default:
				t.Errorf("unexpected outcome %q (%s)", res.Outcome, res.Reason)
			}
		}
		if applied != 1 || duplicates != deliveries-1 {
			t.Errorf("applied, duplicates = %d, %d, want 1, %d", applied, duplicates, deliveries-1)
		}
		if got := countRows(t, f.db, "SELECT count(*) FROM stripe_events"); got != 1 {
			t.Errorf("stored events = %d, want 1", got)
		}
		wantOrderStatus(t, f.db, f.order.ID, StatusPaid)
		if got, want := cartCountOf(t, f.db, f.ref), 0; got != want {
			t.Errorf("cart count = %d, want %d", got, want)
		}
	})
}

func TestApplyEventMismatch(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Payment)
	}{
		{"Amount", func(p *Payment) { p.Amount-- }},
		{"Currency", func(p *Payment) { p.Currency = "eur" }},
		{"OtherUser", func(p *Payment) { p.ClientReference = "999999" }},
		{"NoClientReference", func(p *Payment) { p.ClientReference = "" }},
	}
	for _, tt := range tests {
		for _, to := range []Status{StatusPaid, StatusProcessing} {
			t.Run(tt.name+"/"+string(to), func(t *testing.T) {
				f := newCheckoutFixture(t, "cs_mismatch")
				ev := settleFor("evt_mismatch", f.order, to, true)
				tt.change(ev.Payment)
				res := mustApplyEvent(t, f.db, ev, OutcomeNeedsReview)
				if res.Reason == "" {
					t.Error("needs_review without a reason")
				}
				o := wantOrderStatus(t, f.db, f.order.ID, StatusNeedsReview)
				if !o.PaidAt.IsZero() {
					t.Errorf("order under review has PaidAt %v", o.PaidAt)
				}
				if got, want := cartCountOf(t, f.db, f.ref), 3; got != want {
					t.Errorf("cart count = %d, want %d (nothing was paid)", got, want)
				}
				r := readEventRow(t, f.db, ev.Event.ID)
				if r.Outcome != string(OutcomeNeedsReview) || r.OrderID.Int64 != f.order.ID {
					t.Errorf("stored outcome %q order %v, want needs_review, %d", r.Outcome, r.OrderID, f.order.ID)
				}
				// A matching confirmation later cannot pay an order under review.
				good := settleFor("evt_good", f.order, to, true)
				mustApplyEvent(t, f.db, good, OutcomeStale)
				wantOrderStatus(t, f.db, f.order.ID, StatusNeedsReview)
			})
		}
	}

}

func TestApplyEventGuestOrder(t *testing.T) {
	for name, clientRef := range map[string]string{"None": "", "Any": "42"} {
		t.Run(name, func(t *testing.T) {
			db := mustOpenDB(t)
			products := seededCatalogue(t, db, 1)
			ref := CartRef{Token: "tok-guest-pay"}
			mustAddToCart(t, db, ref, products[0].ID, 2)
			o, _ := mustPrepareOrder(t, db, ref)
			mustAttachSession(t, db, o.ID, "cs_guest", fixedNow.Add(time.Hour))
			o = mustGetOrder(t, db, o.ID)

			ev := settleFor("evt_guest", o, StatusPaid, true)
			ev.Payment.ClientReference = clientRef
			mustApplyEvent(t, db, ev, OutcomeApplied)
			got := wantOrderStatus(t, db, o.ID, StatusPaid)
			if got.UserID != 0 {
				t.Errorf("guest order user = %d, want 0", got.UserID)
			}
			if n, _ := db.CartCount(context.Background(), ref); n != 0 {
				t.Errorf("guest cart count after payment = %d, want 0", n)
			}
		})
	}
}

func TestApplyEventUnmatched(t *testing.T) {
	t.Run("UnknownSession", func(t *testing.T) {
		f := newCheckoutFixture(t, "cs_known")
		ev := settleFor("evt_stranger", f.order, StatusPaid, true)
		ev.Order.SessionID, ev.Order.OrderID = "cs_unknown", 0
		ev = withEvent(ev.Event.ID, ev.Event.Type, "cs_unknown", ev)
		res := mustApplyEvent(t, f.db, ev, OutcomeUnmatched)
		if res.Reason == "" || res.Order != nil {
			t.Errorf("result = %+v, want a reason and no order", res)
		}
		wantOrderStatus(t, f.db, f.order.ID, StatusPending)
		r := readEventRow(t, f.db, ev.Event.ID)
		if r.Outcome != string(OutcomeUnmatched) || r.OrderID.Valid || r.ObjectID != "cs_unknown" || r.Payload != string(ev.Event.Payload) {
			t.Errorf("stored event = outcome %q order %v object %q, want unmatched, NULL, cs_unknown and the payload", r.Outcome, r.OrderID, r.ObjectID)
		}
		if !r.ProcessedAt.Valid {
			t.Error("processed_at is NULL")
		}
	})

	t.Run("MetadataOfOrderWithOtherSession", func(t *testing.T) {
		f := newCheckoutFixture(t, "cs_owner")
		ev := settleFor("evt_hijack", f.order, StatusPaid, true)
		ev.Order.SessionID = "cs_other"
		mustApplyEvent(t, f.db, ev, OutcomeUnmatched)
		o := wantOrderStatus(t, f.db, f.order.ID, StatusPending)
		if o.CheckoutSessionID != "cs_owner" {
			t.Errorf("session = %q, want cs_owner", o.CheckoutSessionID)
		}
	})

	t.Run("MetadataOrderIDAttaches", func(t *testing.T) {
		db := mustOpenDB(t)
		products := seededCatalogue(t, db, 1)
		u := mustCreateUser(t, db)
		ref := CartRef{UserID: u.ID}
		mustAddToCart(t, db, ref, products[0].ID, 1)
		o, _ := mustPrepareOrder(t, db, ref) // the shop stopped before attaching the session
		o.CheckoutSessionID = "cs_unsaved"
		ev := settleFor("evt_unsaved", o, StatusPaid, true)
		res := mustApplyEvent(t, db, ev, OutcomeApplied)
		if res.Order == nil || res.Order.CheckoutSessionID != "cs_unsaved" {
			t.Errorf("result order = %+v, want session cs_unsaved", res.Order)
		}
		got, err := db.OrderBySession(context.Background(), "cs_unsaved")
		if err != nil {
			t.Fatalf("OrderBySession: %v", err)
		}
		if got.ID != o.ID || got.Status != StatusPaid {
			t.Errorf("order by session = %d %s, want %d paid", got.ID, got.Status, o.ID)
		}
		if n, _ := db.CartCount(context.Background(), ref); n != 0 {
			t.Errorf("cart count = %d, want 0", n)
		}
	})
}

func TestApplyEventOtherTypes(t *testing.T) {
	f := newCheckoutFixture(t, "cs_other_types")
	for _, typ := range []string{"payment_intent.created", "payment_intent.succeeded", "charge.succeeded", "charge.updated", "customer.created"} {
		t.Run(typ, func(t *testing.T) {
			ev := withEvent("evt_"+typ, typ, "obj_"+typ, Change{Order: OrderRef{PaymentIntent: "pi_cs_other_types"}})
			ev.Event.APIVersion, ev.Event.Created = "2099-01-01.future", 1700000000
			res := mustApplyEvent(t, f.db, ev, OutcomeRecorded)
			if res.Order != nil {
				t.Errorf("result carries an order")
			}
			r := readEventRow(t, f.db, ev.Event.ID)
			if r.Type != typ || r.APIVersion != "2099-01-01.future" || r.Created != 1700000000 || r.ObjectID != "obj_"+typ ||
				r.Payload != string(ev.Event.Payload) || r.Outcome != string(OutcomeRecorded) || r.OrderID.Valid {
				t.Errorf("stored event = %+v", r)
			}
		})
	}
	wantOrderStatus(t, f.db, f.order.ID, StatusPending)
}
