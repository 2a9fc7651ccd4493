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

// sessionEventFor builds a Checkout Session event that matches order o in every field.
func sessionEventFor(id, eventType string, o Order, paymentStatus string) Event {
	clientRef := ""
	if o.UserID != 0 {
		clientRef = strconv.FormatInt(o.UserID, 10)
	}
	status := "complete"
	if eventType == "checkout.session.expired" {
		status = "expired"
	}
	return withEventPayload(Event{
		ID: id, Type: eventType, APIVersion: eventTestAPIVersion, Created: fixedNow.Unix(),
		Object: EventObject{
			ID: o.CheckoutSessionID, Status: status, PaymentStatus: paymentStatus,
			AmountTotal: o.AmountTotal, Currency: o.Currency, ClientReferenceID: clientRef,
			OrderID: strconv.FormatInt(o.ID, 10), PaymentIntent: "pi_" + o.CheckoutSessionID,
			CustomerEmail: "buyer@example.com",
		},
	})
}

// refundEventFor builds a charge.refunded event for the payment intent pi.
func refundEventFor(id, pi string, amountRefunded int64, refunded bool) Event {
	return withEventPayload(Event{
		ID: id, Type: "charge.refunded", APIVersion: eventTestAPIVersion, Created: fixedNow.Unix(),
		Object: EventObject{ID: "ch_" + id, Status: "succeeded", PaymentIntent: pi,
			AmountRefunded: amountRefunded, Refunded: refunded},
	})
}

// withEventPayload sets ev.Payload to the Stripe JSON that ev.Object was decoded from.
func withEventPayload(ev Event) Event {
	obj := ev.Object
	var object map[string]any
	if ev.Type == "charge.refunded" {
		object = map[string]any{"id": obj.ID, "object": "charge", "status": obj.Status,
			"payment_intent": obj.PaymentIntent, "amount_refunded": obj.AmountRefunded, "refunded": obj.Refunded}
	} else {
		object = map[string]any{"id": obj.ID, "object": "checkout.session", "status": obj.Status,
			"payment_status": obj.PaymentStatus, "amount_total": obj.AmountTotal, "currency": obj.Currency,
			"client_reference_id": obj.ClientReferenceID, "metadata": map[string]string{"order_id": obj.OrderID},
			"payment_intent": obj.PaymentIntent, "customer_details": map[string]string{"email": obj.CustomerEmail}}
	}
	body, err := json.Marshal(map[string]any{"id": ev.ID, "object": "event", "type": ev.Type,
		"api_version": ev.APIVersion, "created": ev.Created, "data": map[string]any{"object": object}})
	if err != nil {
		panic(err)
	}
	ev.Payload = body
	return ev
}

// mustApplyEvent applies ev and checks its outcome.
func mustApplyEvent(tb testing.TB, db *DB, ev Event, want Outcome) EventResult {
	tb.Helper()
	res, err := db.ApplyEvent(context.Background(), ev)
	if err != nil {
		tb.Fatalf("ApplyEvent(%s %s): %v", ev.Type, ev.ID, err)
	}
	if res.Outcome != want {
		tb.Fatalf("ApplyEvent(%s %s) outcome = %q (%s), want %q", ev.Type, ev.ID, res.Outcome, res.Reason, want)
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
	err := db.read.QueryRowContext(context.Background(), `SELECT type, api_version, object_id, CAST(payload AS TEXT), received_at, outcome,
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

	ev := sessionEventFor("evt_paid", "checkout.session.completed", f.order, "paid")
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
		r := readEventRow(t, db, ev.ID)
		if r.Type != ev.Type || r.APIVersion != eventTestAPIVersion || r.Created != ev.Created || r.ObjectID != "cs_paid" {
			t.Errorf("stored type %q api %q created %d object %q, want %q %q %d cs_paid",
				r.Type, r.APIVersion, r.Created, r.ObjectID, ev.Type, eventTestAPIVersion, ev.Created)
		}
		if r.Payload != string(ev.Payload) {
			t.Errorf("stored payload = %s, want %s", r.Payload, ev.Payload)
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
		again := sessionEventFor("evt_paid_again", "checkout.session.completed", f.order, "paid")
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
		eventType     string
		paymentStatus string
		want          Outcome
		status        Status
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"AsyncSucceeded", []step{
			{"checkout.session.completed", "unpaid", OutcomeApplied, StatusProcessing},
			{"checkout.session.async_payment_succeeded", "paid", OutcomeApplied, StatusPaid},
		}},
		{"AsyncFailed", []step{
			{"checkout.session.completed", "unpaid", OutcomeApplied, StatusProcessing},
			{"checkout.session.async_payment_failed", "unpaid", OutcomeApplied, StatusFailed},
			{"checkout.session.async_payment_succeeded", "paid", OutcomeStale, StatusFailed},
		}},
		{"NoPaymentRequired", []step{
			{"checkout.session.completed", "no_payment_required", OutcomeApplied, StatusPaid},
		}},
		{"ExpiredPending", []step{
			{"checkout.session.expired", "unpaid", OutcomeApplied, StatusExpired},
			{"checkout.session.expired", "unpaid", OutcomeStale, StatusExpired},
		}},
		{"PaymentAfterExpiryCounts", []step{
			{"checkout.session.expired", "unpaid", OutcomeApplied, StatusExpired},
			{"checkout.session.completed", "paid", OutcomeApplied, StatusPaid},
		}},
		{"ExpiredAfterPaid", []step{
			{"checkout.session.completed", "paid", OutcomeApplied, StatusPaid},
			{"checkout.session.expired", "unpaid", OutcomeStale, StatusPaid},
		}},
		{"AsyncSucceededBeforeCompleted", []step{
			{"checkout.session.async_payment_succeeded", "paid", OutcomeApplied, StatusPaid},
			{"checkout.session.completed", "unpaid", OutcomeStale, StatusPaid},
		}},
		{"FailedBeforeCompleted", []step{
			{"checkout.session.async_payment_failed", "unpaid", OutcomeApplied, StatusFailed},
			{"checkout.session.completed", "unpaid", OutcomeStale, StatusFailed},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newCheckoutFixture(t, "cs_"+tt.name)
			for i, s := range tt.steps {
				ev := sessionEventFor("evt_"+strconv.Itoa(i), s.eventType, f.order, s.paymentStatus)
				res := mustApplyEvent(t, f.db, ev, s.want)
				if s.want == OutcomeStale && res.Order != nil {
					t.Errorf("step %d: stale result carries an order", i)
				}
				wantOrderStatus(t, f.db, f.order.ID, s.status)
				if got, want := readEventRow(t, f.db, ev.ID).Outcome, string(s.want); got != want {
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
	mustApplyEvent(t, f.db, sessionEventFor("evt_unpaid", "checkout.session.completed", f.order, "unpaid"), OutcomeApplied)
	if got, want := cartCountOf(t, f.db, f.ref), 3; got != want {
		t.Errorf("cart count while processing = %d, want %d", got, want)
	}
	mustApplyEvent(t, f.db, sessionEventFor("evt_failed", "checkout.session.async_payment_failed", f.order, "unpaid"), OutcomeApplied)
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
		mustApplyEvent(t, f.db, sessionEventFor("evt_paid", "checkout.session.completed", f.order, "paid"), OutcomeApplied)
		ev := refundEventFor("evt_refund", "pi_cs_refund", f.order.AmountTotal, true)
		res := mustApplyEvent(t, f.db, ev, OutcomeApplied)
		if res.Order == nil || res.Order.Status != StatusRefunded || res.From != StatusPaid {
			t.Errorf("result = %+v, want the order refunded from paid", res)
		}
		o := wantOrderStatus(t, f.db, f.order.ID, StatusRefunded)
		if o.PaidAt.IsZero() || o.PaymentIntent != "pi_cs_refund" {
			t.Errorf("refunded order lost its payment: paid at %v, intent %q", o.PaidAt, o.PaymentIntent)
		}
		r := readEventRow(t, f.db, ev.ID)
		if r.Outcome != string(OutcomeApplied) || r.OrderID.Int64 != f.order.ID || r.ObjectID != "ch_evt_refund" {
			t.Errorf("stored refund = outcome %q order %v object %q, want applied, %d, ch_evt_refund", r.Outcome, r.OrderID, r.ObjectID, f.order.ID)
		}
	})

	t.Run("Partial", func(t *testing.T) {
		f := newCheckoutFixture(t, "cs_partial")
		mustApplyEvent(t, f.db, sessionEventFor("evt_paid", "checkout.session.completed", f.order, "paid"), OutcomeApplied)
		ev := refundEventFor("evt_partial", "pi_cs_partial", 100, false)
		res := mustApplyEvent(t, f.db, ev, OutcomeRecorded)
		if res.Order != nil {
			t.Errorf("partial refund result carries an order: %+v", res.Order)
		}
		wantOrderStatus(t, f.db, f.order.ID, StatusPaid)
		if got, want := readEventRow(t, f.db, ev.ID).Outcome, string(OutcomeRecorded); got != want {
			t.Errorf("stored outcome = %q, want %q", got, want)
		}
	})

	t.Run("BeforePaid", func(t *testing.T) {
		f := newCheckoutFixture(t, "cs_early")
		early := refundEventFor("evt_early_refund", "pi_cs_early", f.order.AmountTotal, true)
		mustApplyEvent(t, f.db, early, OutcomeUnmatched)
		wantOrderStatus(t, f.db, f.order.ID, StatusPending)

		mustApplyEvent(t, f.db, sessionEventFor("evt_paid", "checkout.session.completed", f.order, "paid"), OutcomeApplied)
		o := wantOrderStatus(t, f.db, f.order.ID, StatusRefunded)
		if o.PaidAt.IsZero() {
			t.Error("order refunded early has no PaidAt")
		}
		r := readEventRow(t, f.db, early.ID)
		if r.Outcome != string(OutcomeApplied) || r.OrderID.Int64 != f.order.ID {
			t.Errorf("early refund stored as outcome %q order %v, want applied to %d", r.Outcome, r.OrderID, f.order.ID)
		}
	})

	t.Run("PartialBeforePaid", func(t *testing.T) {
		f := newCheckoutFixture(t, "cs_early_partial")
		mustApplyEvent(t, f.db, refundEventFor("evt_early_partial", "pi_cs_early_partial", 100, false), OutcomeUnmatched)
		mustApplyEvent(t, f.db, sessionEventFor("evt_paid", "checkout.session.completed", f.order, "paid"), OutcomeApplied)
		wantOrderStatus(t, f.db, f.order.ID, StatusPaid)
	})

	t.Run("BeforeAsyncPaid", func(t *testing.T) {
		f := newCheckoutFixture(t, "cs_early_async")
		early := refundEventFor("evt_early_refund", "pi_cs_early_async", f.order.AmountTotal, true)
		mustApplyEvent(t, f.db, early, OutcomeUnmatched)
		mustApplyEvent(t, f.db, sessionEventFor("evt_async", "checkout.session.async_payment_succeeded", f.order, "paid"), OutcomeApplied)
		wantOrderStatus(t, f.db, f.order.ID, StatusRefunded)
	})

	t.Run("OnPendingOrder", func(t *testing.T) {
		f := newCheckoutFixture(t, "cs_refund_pending")
		// The order knows its payment intent (completed unpaid), but is not paid yet.
		mustApplyEvent(t, f.db, sessionEventFor("evt_unpaid", "checkout.session.completed", f.order, "unpaid"), OutcomeApplied)
		mustApplyEvent(t, f.db, refundEventFor("evt_refund", "pi_cs_refund_pending", f.order.AmountTotal, true), OutcomeStale)
		wantOrderStatus(t, f.db, f.order.ID, StatusProcessing)
	})

	t.Run("NoPaymentIntent", func(t *testing.T) {
		f := newCheckoutFixture(t, "cs_refund_nopi")
		ev := refundEventFor("evt_refund_nopi", "", 100, true)
		mustApplyEvent(t, f.db, ev, OutcomeUnmatched)
		r := readEventRow(t, f.db, ev.ID)
		if r.PaymentIntent.Valid {
			t.Errorf("stored payment_intent = %q, want NULL", r.PaymentIntent.String)
		}
	})
}

func TestApplyEventDuplicate(t *testing.T) {
	t.Run("Sequential", func(t *testing.T) {
		f := newCheckoutFixture(t, "cs_dup")
		ev := sessionEventFor("evt_dup", "checkout.session.completed", f.order, "unpaid")
		mustApplyEvent(t, f.db, ev, OutcomeApplied)
		// The same id again, even with different content, changes nothing.
		later := sessionEventFor("evt_dup", "checkout.session.async_payment_succeeded", f.order, "paid")
		res := mustApplyEvent(t, f.db, later, OutcomeDuplicate)
		if res.Order != nil {
			t.Errorf("duplicate result carries an order")
		}
		wantOrderStatus(t, f.db, f.order.ID, StatusProcessing)
		if got := countRows(t, f.db, "SELECT count(*) FROM stripe_events WHERE id = 'evt_dup'"); got != 1 {
			t.Errorf("stored rows = %d, want 1", got)
		}
		r := readEventRow(t, f.db, "evt_dup")
		if r.Type != ev.Type || r.Payload != string(ev.Payload) || r.Outcome != string(OutcomeApplied) {
			t.Errorf("stored event = %s %s %q, want the first delivery, applied", r.Type, r.Payload, r.Outcome)
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		f := newCheckoutFixture(t, "cs_concurrent")
		ev := sessionEventFor("evt_concurrent", "checkout.session.completed", f.order, "paid")
		const deliveries = 10
		results := make(chan EventResult, deliveries)
		errs := make(chan error, deliveries)
		var wg sync.WaitGroup
		for range deliveries {
			wg.Go(func() {
				res, err := f.db.ApplyEvent(context.Background(), ev)
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
			t.Errorf("ApplyEvent: %v", err)
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
		change func(*EventObject)
	}{
		{"Amount", func(o *EventObject) { o.AmountTotal-- }},
		{"Currency", func(o *EventObject) { o.Currency = "eur" }},
		{"OtherUser", func(o *EventObject) { o.ClientReferenceID = "999999" }},
		{"NoClientReference", func(o *EventObject) { o.ClientReferenceID = "" }},
	}
	for _, tt := range tests {
		for _, eventType := range []string{"checkout.session.completed", "checkout.session.async_payment_succeeded"} {
			t.Run(tt.name+"/"+eventType, func(t *testing.T) {
				f := newCheckoutFixture(t, "cs_mismatch")
				ev := sessionEventFor("evt_mismatch", eventType, f.order, "paid")
				tt.change(&ev.Object)
				ev = withEventPayload(ev)
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
				r := readEventRow(t, f.db, ev.ID)
				if r.Outcome != string(OutcomeNeedsReview) || r.OrderID.Int64 != f.order.ID {
					t.Errorf("stored outcome %q order %v, want needs_review, %d", r.Outcome, r.OrderID, f.order.ID)
				}
				// A matching confirmation later cannot pay an order under review.
				good := sessionEventFor("evt_good", eventType, f.order, "paid")
				mustApplyEvent(t, f.db, good, OutcomeStale)
				wantOrderStatus(t, f.db, f.order.ID, StatusNeedsReview)
			})
		}
	}

	t.Run("ExpiryIsNotChecked", func(t *testing.T) {
		f := newCheckoutFixture(t, "cs_expiry_mismatch")
		ev := sessionEventFor("evt_expired", "checkout.session.expired", f.order, "unpaid")
		ev.Object.AmountTotal = 1
		mustApplyEvent(t, f.db, withEventPayload(ev), OutcomeApplied)
		wantOrderStatus(t, f.db, f.order.ID, StatusExpired)
	})
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

			ev := sessionEventFor("evt_guest", "checkout.session.completed", o, "paid")
			ev.Object.ClientReferenceID = clientRef
			mustApplyEvent(t, db, withEventPayload(ev), OutcomeApplied)
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
		ev := sessionEventFor("evt_stranger", "checkout.session.completed", f.order, "paid")
		ev.Object.ID = "cs_unknown"
		ev.Object.OrderID = ""
		ev = withEventPayload(ev)
		res := mustApplyEvent(t, f.db, ev, OutcomeUnmatched)
		if res.Reason == "" || res.Order != nil {
			t.Errorf("result = %+v, want a reason and no order", res)
		}
		wantOrderStatus(t, f.db, f.order.ID, StatusPending)
		r := readEventRow(t, f.db, ev.ID)
		if r.Outcome != string(OutcomeUnmatched) || r.OrderID.Valid || r.ObjectID != "cs_unknown" || r.Payload != string(ev.Payload) {
			t.Errorf("stored event = outcome %q order %v object %q, want unmatched, NULL, cs_unknown and the payload", r.Outcome, r.OrderID, r.ObjectID)
		}
		if !r.ProcessedAt.Valid {
			t.Error("processed_at is NULL")
		}
	})

	t.Run("MetadataOfOrderWithOtherSession", func(t *testing.T) {
		f := newCheckoutFixture(t, "cs_owner")
		ev := sessionEventFor("evt_hijack", "checkout.session.completed", f.order, "paid")
		ev.Object.ID = "cs_other"
		mustApplyEvent(t, f.db, withEventPayload(ev), OutcomeUnmatched)
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
		ev := sessionEventFor("evt_unsaved", "checkout.session.completed", o, "paid")
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
			ev := withEventPayload(Event{ID: "evt_" + typ, Type: typ, APIVersion: "2099-01-01.future", Created: 1700000000,
				Object: EventObject{ID: "obj_" + typ, PaymentIntent: "pi_cs_other_types"}})
			res := mustApplyEvent(t, f.db, ev, OutcomeRecorded)
			if res.Order != nil {
				t.Errorf("result carries an order")
			}
			r := readEventRow(t, f.db, ev.ID)
			if r.Type != typ || r.APIVersion != "2099-01-01.future" || r.Created != 1700000000 || r.ObjectID != "obj_"+typ ||
				r.Payload != string(ev.Payload) || r.Outcome != string(OutcomeRecorded) || r.OrderID.Valid {
				t.Errorf("stored event = %+v", r)
			}
		})
	}
	wantOrderStatus(t, f.db, f.order.ID, StatusPending)
}
