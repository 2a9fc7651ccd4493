package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// subscribe makes u an active member of plan through the events Stripe would send.
func subscribe(tb testing.TB, db *DB, u User, status SubscriptionStatus) {
	tb.Helper()
	ctx := context.Background()
	if _, err := db.ReserveCustomer(ctx, u.ID); err != nil {
		tb.Fatal(err)
	}
	customer := fmt.Sprintf("cus_%d", u.ID)
	if err := db.SetCustomer(ctx, u.ID, customer); err != nil {
		tb.Fatal(err)
	}
	ch := Change{Event: EventRecord{ID: fmt.Sprintf("evt_sub_%d_%s", u.ID, status), Type: "customer.subscription.updated", Payload: []byte("{}")},
		Effect: EffectMembership, Membership: &MembershipChange{Customer: customer, Subscription: &SubscriptionSnapshot{
			ID: fmt.Sprintf("sub_%d", u.ID), Plan: "monthly", Status: status, CurrentPeriodEnd: fixedNow.Add(30 * 24 * time.Hour).Unix(), Seen: fixedNow.Unix()}}}
	res, err := db.ApplyChange(ctx, ch)
	if err != nil {
		tb.Fatal(err)
	}
	if res.Membership == nil || res.Membership.UserID != u.ID {
		tb.Fatalf("applying a subscription reports membership %+v, want the user's", res.Membership)
	}
}

func TestPlansSeeded(t *testing.T) {
	db := mustOpenDB(t)
	plans, err := db.Plans(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(plans) != 2 || plans[0].Code != "monthly" || plans[1].Code != "yearly" || plans[0].Interval != "month" || plans[1].Interval != "year" {
		t.Fatalf("plans = %+v, want monthly then yearly", plans)
	}
	if _, err := db.PlanByCode(context.Background(), "weekly"); !errors.Is(err, ErrNotFound) {
		t.Errorf("PlanByCode(weekly) = %v, want ErrNotFound", err)
	}
}

// TestReserveCustomerOnce: concurrent first subscribes share one reservation, so one key.
func TestReserveCustomerOnce(t *testing.T) {
	db := mustOpenDB(t)
	ctx := context.Background()
	u := mustCreateUser(t, db)
	keys := make([]string, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			c, err := db.ReserveCustomer(ctx, u.ID)
			if err != nil {
				t.Error(err)
				return
			}
			keys[i] = c.IdempotencyKey()
		})
	}
	wg.Wait()
	for _, k := range keys {
		if k != keys[0] {
			t.Fatalf("idempotency keys differ: %q", keys)
		}
	}
	if err := db.SetCustomer(ctx, u.ID, "cus_A"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetCustomer(ctx, u.ID, "cus_A"); err != nil {
		t.Errorf("setting the same customer again: %v", err)
	}
	if err := db.SetCustomer(ctx, u.ID, "cus_B"); !errors.Is(err, ErrConflict) {
		t.Errorf("setting another customer: %v, want ErrConflict", err)
	}
	c, _ := db.ReserveCustomer(ctx, u.ID)
	if c.CustomerID != "cus_A" {
		t.Errorf("customer = %q, want cus_A", c.CustomerID)
	}
}

func TestMembershipCheckoutReused(t *testing.T) {
	db := mustOpenDB(t)
	ctx := context.Background()
	u := mustCreateUser(t, db)
	first, err := db.StartMembershipCheckout(ctx, u.ID, "monthly")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := db.StartMembershipCheckout(ctx, u.ID, "monthly")
	if again.IdempotencyKey() != first.IdempotencyKey() {
		t.Fatalf("a second click gets key %q, the first %q", again.IdempotencyKey(), first.IdempotencyKey())
	}
	if err := db.AttachMembershipCheckout(ctx, first, "cs_1", "https://pay/cs_1", fixedNow.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	open, _ := db.StartMembershipCheckout(ctx, u.ID, "monthly")
	if open.URL != "https://pay/cs_1" {
		t.Errorf("open checkout not reused: %+v", open)
	}
	yearly, _ := db.StartMembershipCheckout(ctx, u.ID, "yearly")
	if yearly.Superseded != "cs_1" || yearly.IdempotencyKey() == first.IdempotencyKey() || yearly.URL != "" {
		t.Errorf("switching plan: %+v, want a new attempt superseding cs_1", yearly)
	}
	if err := db.AttachMembershipCheckout(ctx, first, "cs_1", "https://pay/cs_1", fixedNow.Add(30*time.Minute)); !errors.Is(err, ErrConflict) {
		t.Errorf("attaching to a replaced attempt: %v, want ErrConflict", err)
	}
}

// TestMemberOrdersDiscounted: a member's order is priced with the discount, line by line, and
// a non-member's (or a lapsed member's) is not.
func TestMemberOrdersDiscounted(t *testing.T) {
	db := mustOpenDB(t)
	ctx := context.Background()
	for _, tc := range []struct {
		status SubscriptionStatus
		want   int64
	}{{SubActive, 2160 * 2}, {SubPastDue, 2160 * 2}, {SubUnpaid, 4800}, {SubCanceled, 4800}, {"", 4800}} {
		u := mustCreateUser(t, db)
		if tc.status != "" {
			subscribe(t, db, u, tc.status)
		}
		ref := CartRef{UserID: u.ID}
		if err := db.AddToCart(ctx, ref, 1, 2); err != nil { // the tote, 24.00
			t.Fatal(err)
		}
		o, _, err := db.PrepareOrder(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if o.AmountTotal != tc.want {
			t.Errorf("status %q: order total %d, want %d", tc.status, o.AmountTotal, tc.want)
		}
		if o.Items[0].UnitAmount*int64(o.Items[0].Quantity) != o.AmountTotal {
			t.Errorf("status %q: lines %+v do not add up to %d", tc.status, o.Items, o.AmountTotal)
		}
	}
}

// TestJoiningRepricesPendingOrder: an order priced before joining is not reused afterwards.
func TestJoiningRepricesPendingOrder(t *testing.T) {
	db := mustOpenDB(t)
	ctx := context.Background()
	u := mustCreateUser(t, db)
	ref := CartRef{UserID: u.ID}
	db.AddToCart(ctx, ref, 1, 1)
	before, _, _ := db.PrepareOrder(ctx, ref)
	subscribe(t, db, u, SubActive)
	after, reused, err := db.PrepareOrder(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if reused || after.ID == before.ID || after.AmountTotal != 2160 {
		t.Errorf("after joining: order %d (reused %v) total %d, want a new order of 2160", after.ID, reused, after.AmountTotal)
	}
}

func TestDiscounted(t *testing.T) {
	for _, tc := range []struct {
		price   int64
		percent int
		want    int64
	}{{2400, 10, 2160}, {1250, 10, 1125}, {900, 10, 810}, {1, 10, 1}, {5, 10, 5}, {15, 10, 14}, {2400, 0, 2400}} {
		if got := Discounted(tc.price, tc.percent); got != tc.want {
			t.Errorf("Discounted(%d, %d) = %d, want %d", tc.price, tc.percent, got, tc.want)
		}
	}
}
