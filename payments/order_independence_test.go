package payments

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"storefront/store"
	"storefront/store/storetest"
)

// A history is the events Stripe sends for one checkout, in the order it sends them. Each event is
// built for a given order, session and payment intent, so every replay gets its own order.
type history struct {
	name   string
	kind   store.Kind
	events []historyEvent
}

type historyEvent struct {
	name  string
	build func(o store.Order) (typ string, obj map[string]any)
}

func sessionEvent(name, typ, paymentStatus string, amountDelta int64) historyEvent {
	return historyEvent{name, func(o store.Order) (string, map[string]any) {
		return typ, map[string]any{"id": o.CheckoutSessionID, "object": "checkout.session", "payment_status": paymentStatus,
			"amount_total": o.AmountTotal + amountDelta, "currency": o.Currency, "client_reference_id": nil,
			"metadata": map[string]string{"order_id": fmt.Sprint(o.ID)}, "payment_intent": "pi_" + o.CheckoutSessionID,
			"customer_details": map[string]any{"email": "buyer@example.com"}}
	}}
}

func refundEvent(name string, part func(total int64) int64) historyEvent {
	return historyEvent{name, func(o store.Order) (string, map[string]any) {
		amount := part(o.AmountTotal)
		return "charge.refunded", map[string]any{"id": "ch_" + intentOf(o), "object": "charge",
			"payment_intent": intentOf(o), "amount": o.AmountTotal, "amount_refunded": amount,
			"refunded": amount == o.AmountTotal, "metadata": map[string]string{"order_id": fmt.Sprint(o.ID)}}
	}}
}

// intentOf is the order's PaymentIntent: its own, or the one its Checkout Session makes.
func intentOf(o store.Order) string {
	if o.Kind == store.KindPaymentIntent {
		return o.PaymentIntent
	}
	return "pi_" + o.CheckoutSessionID
}

func intentEvent(name, typ, status string) historyEvent {
	return historyEvent{name, func(o store.Order) (string, map[string]any) {
		obj := map[string]any{"id": o.PaymentIntent, "object": "payment_intent", "status": status, "amount": o.AmountTotal,
			"currency": o.Currency, "metadata": map[string]string{"order_id": fmt.Sprint(o.ID), "storefront_kind": "payment_intent"}}
		if status == "requires_payment_method" {
			obj["last_payment_error"] = map[string]any{"message": "Your card was declined."}
		}
		return typ, obj
	}}
}

var (
	completedPaid   = sessionEvent("completed(paid)", "checkout.session.completed", "paid", 0)
	completedUnpaid = sessionEvent("completed(unpaid)", "checkout.session.completed", "unpaid", 0)
	completedWrong  = sessionEvent("completed(paid, wrong amount)", "checkout.session.completed", "paid", 1)
	asyncSucceeded  = sessionEvent("async_payment_succeeded", "checkout.session.async_payment_succeeded", "paid", 0)
	asyncFailed     = sessionEvent("async_payment_failed", "checkout.session.async_payment_failed", "unpaid", 0)
	expired         = sessionEvent("expired", "checkout.session.expired", "unpaid", 0)
	partialRefund   = refundEvent("refunded(part)", func(total int64) int64 { return total / 3 })
	fullRefund      = refundEvent("refunded(all)", func(total int64) int64 { return total })
	intentFailed    = intentEvent("intent.payment_failed", "payment_intent.payment_failed", "requires_payment_method")
	intentProcess   = intentEvent("intent.processing", "payment_intent.processing", "processing")
	intentSucceeded = intentEvent("intent.succeeded", "payment_intent.succeeded", "succeeded")
	intentCanceled  = intentEvent("intent.canceled", "payment_intent.canceled", "canceled")
)

// histories are the sequences Stripe can send for one Checkout Session of this shop.
var histories = []history{
	{"Card", store.KindCheckout, []historyEvent{completedPaid, partialRefund, fullRefund}},
	{"BankTransfer", store.KindCheckout, []historyEvent{completedUnpaid, asyncSucceeded, partialRefund, fullRefund}},
	{"BankTransferFails", store.KindCheckout, []historyEvent{completedUnpaid, asyncFailed}},
	{"Expired", store.KindCheckout, []historyEvent{expired}},
	{"WrongAmount", store.KindCheckout, []historyEvent{completedWrong, fullRefund}},
	// Paid on the shop's own page: a declined try, then another that works, then refunds.
	{"IntentRetried", store.KindPaymentIntent, []historyEvent{intentFailed, intentSucceeded, partialRefund, fullRefund}},
	{"IntentDebit", store.KindPaymentIntent, []historyEvent{intentProcess, intentSucceeded, fullRefund}},
	{"IntentAbandoned", store.KindPaymentIntent, []historyEvent{intentFailed, intentCanceled}},
}

// orderState is what a shopper or an operator can see of an order after the events.
type orderState struct {
	Status         store.Status
	Paid           bool
	KnowsIntent    bool
	AmountRefunded int64
	RefundedInFull bool
	PaymentError   string
}

// TestEventOrderDoesNotMatter delivers every pair and triple of each history's events (and each
// event twice), in every order, and checks the order ends as it does when they come in Stripe's
// order. Webhooks are delivered at least once and in no set order, so nothing else is acceptable.
func TestEventOrderDoesNotMatter(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, storetest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	orders := 0
	newOrder := func(kind store.Kind) store.Order {
		t.Helper()
		orders++
		cart := store.CartRef{Token: fmt.Sprintf("cart-%d", orders)}
		if err := db.AddToCart(ctx, cart, 1, 2); err != nil {
			t.Fatal(err)
		}
		o, _, err := db.PrepareOrderOfKind(ctx, cart, kind)
		if err != nil {
			t.Fatal(err)
		}
		if kind == store.KindPaymentIntent {
			err = db.AttachPaymentIntent(ctx, o.ID, fmt.Sprintf("pi_perm_%d", orders), "secret")
		} else {
			session := fmt.Sprintf("cs_perm_%d", orders)
			err = db.AttachCheckoutSession(ctx, o.ID, session, "https://checkout.example/"+session, time.Now().Add(time.Hour))
		}
		if err != nil {
			t.Fatal(err)
		}
		if o, err = db.Order(ctx, o.ID); err != nil {
			t.Fatal(err)
		}
		return o
	}
	deliver := func(kind store.Kind, events []historyEvent) orderState {
		t.Helper()
		o := newOrder(kind)
		for i, ev := range events {
			typ, obj := ev.build(o)
			payload := stripeEvent(t, typ, obj)
			// Each delivery of the same event carries the same id, as Stripe's retries do.
			payload = []byte(strings.Replace(string(payload), `"id":"evt_1"`, fmt.Sprintf(`"id":"evt_%d_%s"`, o.ID, ev.name), 1))
			ch, err := ParseEvent(payload)
			if err != nil {
				t.Fatalf("event %d (%s): %v", i, ev.name, err)
			}
			if _, err := db.ApplyChange(ctx, ch); err != nil {
				t.Fatalf("apply %s: %v", ev.name, err)
			}
		}
		got, err := db.Order(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		return orderState{got.Status, !got.PaidAt.IsZero(), got.PaymentIntent == intentOf(got),
			got.AmountRefunded, got.RefundedInFull, got.PaymentError}
	}

	checked := 0
	for _, h := range histories {
		t.Run(h.name, func(t *testing.T) {
			for _, picked := range selections(len(h.events)) {
				natural := make([]historyEvent, len(picked))
				for i, p := range picked {
					natural[i] = h.events[p]
				}
				want := deliver(h.kind, natural)
				for _, order := range permutations(len(natural)) {
					shuffled := make([]historyEvent, len(order))
					names := make([]string, len(order))
					for i, p := range order {
						shuffled[i], names[i] = natural[p], natural[p].name
					}
					if got := deliver(h.kind, shuffled); got != want {
						t.Errorf("delivered %s: order ends %+v; in Stripe's order it ends %+v", strings.Join(names, ", "), got, want)
					}
					checked++
				}
			}
		})
	}
	t.Logf("%d deliveries checked", checked)

	// A bank debit on the shop's page that fails after it started processing fails the order.
	// (Delivered the other way round, the failure is recorded on the pending order and the
	// processing event then moves it on: events carry no order within one intent's attempts.)
	t.Run("IntentDebitFailed", func(t *testing.T) {
		if got := deliver(store.KindPaymentIntent, []historyEvent{intentProcess, intentFailed}); got.Status != store.StatusFailed {
			t.Errorf("processing, then payment_failed: order ends %+v, want failed", got)
		}
	})
}

// selections lists, in increasing order of index, every non-empty choice of at most three of n
// events, and each single event delivered twice.
func selections(n int) [][]int {
	var out [][]int
	for mask := 1; mask < 1<<n; mask++ {
		var pick []int
		for i := range n {
			if mask&(1<<i) != 0 {
				pick = append(pick, i)
			}
		}
		if len(pick) <= 3 {
			out = append(out, pick)
		}
	}
	for i := range n {
		out = append(out, []int{i, i})
	}
	return out
}

// permutations lists every order of 0..n-1.
func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, rest := range permutations(n - 1) {
		for at := 0; at <= len(rest); at++ {
			p := slices.Insert(slices.Clone(rest), at, n-1)
			out = append(out, p)
		}
	}
	return out
}
