package payments

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"storefront/store"
	"storefront/store/storetest"
)

// A subEvent is one event of a subscription's life, built for a given subscription, customer
// and user so that every replay has its own.
type subEvent struct {
	name    string
	typ     string
	created int64
	build   func(sub, customer, user string) map[string]any
}

// Moments of one lifecycle: the provider's clock in seconds. Several events share a second,
// as Stripe's do when one action causes them.
const (
	t0    = 1_700_000_000
	month = 30 * 24 * 3600
	p1    = t0 + month     // the first period's end
	p2    = t0 + 2*month   // the second's
	tR    = p1             // the renewal
	tR2   = p1 + 3*24*3600 // a retry
	tFix  = tR2 + 3600     // the member fixes their card
	tStop = p2             // the period ends for a member who cancelled
)

func subscriptionEvent(name, typ, status string, periodEnd int64, cancelAtEnd bool, created int64) subEvent {
	return subEvent{name, typ, created, func(sub, customer, user string) map[string]any {
		return map[string]any{"id": sub, "object": "subscription", "status": status, "customer": customer,
			"current_period_end": periodEnd, "cancel_at_period_end": cancelAtEnd,
			"metadata": map[string]string{"user_id": user},
			"items":    map[string]any{"data": []any{map[string]any{"price": map[string]any{"recurring": map[string]any{"interval": "month"}}}}}}
	}}
}

func invoiceEvent(name string, paid bool, periodEnd, attempts, created int64, reason string) subEvent {
	typ := "invoice.payment_failed"
	if paid {
		typ = "invoice.paid"
	}
	return subEvent{name, typ, created, func(sub, customer, user string) map[string]any {
		return map[string]any{"id": fmt.Sprintf("in_%s_%d", sub, periodEnd), "object": "invoice", "subscription": sub,
			"customer": customer, "amount_due": 500, "amount_paid": map[bool]int64{true: 500}[paid], "currency": "usd",
			"attempt_count": attempts, "billing_reason": reason, "created": created,
			"lines": map[string]any{"data": []any{map[string]any{"period": map[string]any{"end": periodEnd}}}}}
	}}
}

var subscribeCompleted = subEvent{"checkout.completed(paid)", "checkout.session.completed", t0 + 1, func(sub, customer, user string) map[string]any {
	return map[string]any{"id": "cs_" + sub, "object": "checkout.session", "mode": "subscription", "payment_status": "paid",
		"customer": customer, "subscription": sub, "client_reference_id": user, "metadata": map[string]string{"plan": "monthly"},
		"amount_total": 500, "currency": "usd"}
}}

// subscriptionLives are the event histories Stripe sends for one subscription, in its order.
var subscriptionLives = []struct {
	name   string
	events []subEvent
}{
	{"Subscribe", []subEvent{
		subscriptionEvent("created(incomplete)", "customer.subscription.created", "incomplete", p1, false, t0),
		invoiceEvent("invoice.paid", true, p1, 1, t0, "subscription_create"),
		subscriptionEvent("updated(active)", "customer.subscription.updated", "active", p1, false, t0),
		subscribeCompleted,
	}},
	{"RenewalFailsThenUnpaid", []subEvent{
		subscriptionEvent("created(active)", "customer.subscription.created", "active", p1, false, t0),
		subscriptionEvent("updated(renewed)", "customer.subscription.updated", "active", p2, false, tR),
		invoiceEvent("invoice.failed(1)", false, p2, 1, tR, "subscription_cycle"),
		subscriptionEvent("updated(past_due)", "customer.subscription.updated", "past_due", p2, false, tR),
		invoiceEvent("invoice.failed(2)", false, p2, 2, tR2, "subscription_cycle"),
		subscriptionEvent("updated(unpaid)", "customer.subscription.updated", "unpaid", p2, false, tR2),
	}},
	{"RenewalFailsThenFixed", []subEvent{
		subscriptionEvent("updated(renewed)", "customer.subscription.updated", "active", p2, false, tR),
		invoiceEvent("invoice.failed", false, p2, 1, tR, "subscription_cycle"),
		subscriptionEvent("updated(past_due)", "customer.subscription.updated", "past_due", p2, false, tR),
		invoiceEvent("invoice.paid", true, p2, 2, tFix, "subscription_cycle"),
		subscriptionEvent("updated(active)", "customer.subscription.updated", "active", p2, false, tFix),
		subscribeCompleted,
	}},
	// The card is fixed in the second the renewal failed: the clock cannot order the two
	// snapshots, the paid invoice does.
	{"FixedInTheSameSecond", []subEvent{
		subscriptionEvent("updated(past_due)", "customer.subscription.updated", "past_due", p2, false, tR),
		invoiceEvent("invoice.failed", false, p2, 1, tR, "subscription_cycle"),
		invoiceEvent("invoice.paid", true, p2, 2, tR, "subscription_cycle"),
		subscriptionEvent("updated(active)", "customer.subscription.updated", "active", p2, false, tR),
	}},
	{"CancelResumeCancelEnd", []subEvent{
		subscriptionEvent("created(active)", "customer.subscription.created", "active", p1, false, t0),
		subscriptionEvent("updated(cancel at end)", "customer.subscription.updated", "active", p1, true, t0+100),
		subscriptionEvent("updated(resumed)", "customer.subscription.updated", "active", p1, false, t0+200),
		subscriptionEvent("updated(cancel at end again)", "customer.subscription.updated", "active", p1, true, t0+300),
		subscriptionEvent("deleted", "customer.subscription.deleted", "canceled", p1, true, p1),
	}},
	{"Resumed", []subEvent{
		subscriptionEvent("created(active)", "customer.subscription.created", "active", p1, false, t0),
		subscriptionEvent("updated(cancel at end)", "customer.subscription.updated", "active", p1, true, t0+100),
		subscriptionEvent("updated(resumed)", "customer.subscription.updated", "active", p1, false, t0+200),
		subscriptionEvent("updated(renewed)", "customer.subscription.updated", "active", p2, false, tR),
		invoiceEvent("invoice.paid(renewal)", true, p2, 1, tR, "subscription_cycle"),
	}},
}

// membershipState is what a member sees of their membership after the events.
type membershipState struct {
	Status      store.SubscriptionStatus
	Plan        string
	PeriodEnd   time.Time
	CancelAtEnd bool
	Invoices    string
}

// TestSubscriptionEventOrderDoesNotMatter delivers every event history of a subscription in
// every order (and each with its first event twice), and checks the member sees what they see
// when the events come in Stripe's order.
func TestSubscriptionEventOrderDoesNotMatter(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, storetest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	lives := 0
	deliver := func(events []subEvent) membershipState {
		t.Helper()
		lives++
		u, err := db.CreateUser(ctx, fmt.Sprintf("member%d@example.com", lives), "x")
		if err != nil {
			t.Fatal(err)
		}
		user := fmt.Sprint(u.ID)
		sub, customer := fmt.Sprintf("sub_%d", lives), fmt.Sprintf("cus_%d", lives)
		if _, err := db.ReserveCustomer(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.SetCustomer(ctx, u.ID, customer); err != nil {
			t.Fatal(err)
		}
		for _, ev := range events {
			payload, err := json.Marshal(map[string]any{"id": fmt.Sprintf("evt_%d_%s", lives, ev.name), "object": "event",
				"type": ev.typ, "api_version": "2023-10-16", "created": ev.created,
				"data": map[string]any{"object": ev.build(sub, customer, user)}})
			if err != nil {
				t.Fatal(err)
			}
			ch, err := ParseEvent(payload)
			if err != nil {
				t.Fatalf("event %s: %v", ev.name, err)
			}
			if _, err := db.ApplyChange(ctx, ch); err != nil {
				t.Fatalf("apply %s: %v", ev.name, err)
			}
		}
		m, err := db.MembershipOf(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		var invoices []string
		for _, in := range m.Invoices {
			invoices = append(invoices, fmt.Sprintf("%s:%v", in.PeriodEnd.Format(time.DateOnly), in.Paid))
		}
		return membershipState{m.Status, m.Plan.Code, m.CurrentPeriodEnd, m.CancelAtPeriodEnd, strings.Join(invoices, ",")}
	}

	checked := 0
	for _, life := range subscriptionLives {
		t.Run(life.name, func(t *testing.T) {
			want := deliver(life.events)
			if want.Status == "" {
				t.Fatalf("in Stripe's order the member sees no membership")
			}
			for _, order := range permutations(len(life.events)) {
				shuffled := make([]subEvent, 0, len(order)+1)
				names := make([]string, 0, len(order)+1)
				for _, p := range order {
					shuffled, names = append(shuffled, life.events[p]), append(names, life.events[p].name)
				}
				// Each delivery is at least once: the first event again, at the end.
				shuffled, names = append(shuffled, shuffled[0]), append(names, names[0]+" again")
				if got := deliver(shuffled); got != want {
					t.Errorf("delivered %s: member sees %+v; in Stripe's order %+v", strings.Join(names, ", "), got, want)
				}
				checked++
			}
		})
	}
	t.Logf("%d deliveries checked", checked)
}

// TestSubscriptionLivesEndAsStripeSays pins the state each history ends in, in Stripe's order.
func TestSubscriptionLivesEndAsStripeSays(t *testing.T) {
	want := map[string]store.SubscriptionStatus{
		"Subscribe": store.SubActive, "RenewalFailsThenUnpaid": store.SubUnpaid, "RenewalFailsThenFixed": store.SubActive,
		"FixedInTheSameSecond": store.SubActive, "CancelResumeCancelEnd": store.SubCanceled, "Resumed": store.SubActive,
	}
	ctx := context.Background()
	db, err := store.Open(ctx, storetest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for i, life := range subscriptionLives {
		u, err := db.CreateUser(ctx, fmt.Sprintf("m%d@example.com", i), "x")
		if err != nil {
			t.Fatal(err)
		}
		customer := fmt.Sprintf("cus_life_%d", i)
		db.ReserveCustomer(ctx, u.ID)
		if err := db.SetCustomer(ctx, u.ID, customer); err != nil {
			t.Fatal(err)
		}
		for j, ev := range life.events {
			payload, _ := json.Marshal(map[string]any{"id": fmt.Sprintf("evt_life_%d_%d", i, j), "object": "event", "type": ev.typ,
				"api_version": "2023-10-16", "created": ev.created, "data": map[string]any{"object": ev.build(fmt.Sprintf("sub_life_%d", i), customer, fmt.Sprint(u.ID))}})
			ch, err := ParseEvent(payload)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.ApplyChange(ctx, ch); err != nil {
				t.Fatal(err)
			}
		}
		m, err := db.MembershipOf(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != want[life.name] {
			t.Errorf("%s: ends %s, want %s", life.name, m.Status, want[life.name])
		}
	}
}
