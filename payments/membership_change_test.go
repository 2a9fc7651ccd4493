package payments

import (
	"testing"

	"storefront/store"
)

// TestMembershipEventsReadAsMemberships: subscription events read as membership changes, a
// subscription checkout's completion too, while an order's checkout still settles its order.
func TestMembershipEventsReadAsMemberships(t *testing.T) {
	sub := map[string]any{"id": "sub_1", "object": "subscription", "status": "past_due", "customer": "cus_1",
		"current_period_end": 1800000000, "cancel_at_period_end": true, "metadata": map[string]string{"user_id": "7"},
		"items": map[string]any{"data": []any{map[string]any{"price": map[string]any{"recurring": map[string]any{"interval": "year"}}}}}}
	ch, err := ParseEvent(stripeEvent(t, "customer.subscription.updated", sub))
	if err != nil {
		t.Fatal(err)
	}
	s := ch.Membership.Subscription
	if ch.Effect != store.EffectMembership || s == nil || s.ID != "sub_1" || s.Status != store.SubPastDue || s.Plan != "yearly" ||
		s.CurrentPeriodEnd != 1800000000 || !s.CancelAtPeriodEnd || s.Seen != 1700000000 || ch.Membership.Customer != "cus_1" || ch.Membership.UserRef != "7" {
		t.Errorf("subscription.updated read as %+v / %+v", ch, s)
	}
	sub["status"] = "active"
	if ch, _ := ParseEvent(stripeEvent(t, "customer.subscription.deleted", sub)); ch.Membership.Subscription.Status != store.SubCanceled {
		t.Errorf("subscription.deleted reads as %s, want canceled", ch.Membership.Subscription.Status)
	}

	in := map[string]any{"id": "in_1", "object": "invoice", "subscription": "sub_1", "customer": "cus_1", "amount_due": 5000,
		"amount_paid": 0, "currency": "usd", "attempt_count": 2, "billing_reason": "subscription_cycle", "period_end": 1700000000,
		"lines": map[string]any{"data": []any{map[string]any{"period": map[string]any{"end": 1800000000}}}}}
	ch, err = ParseEvent(stripeEvent(t, "invoice.payment_failed", in))
	if err != nil {
		t.Fatal(err)
	}
	if i := ch.Membership.Invoice; i == nil || i.Paid || i.PeriodEnd != 1800000000 || i.Amount != 5000 || i.AttemptCount != 2 || !i.Renewal {
		t.Errorf("invoice.payment_failed read as %+v", i)
	}
	delete(in, "subscription")
	if ch, _ := ParseEvent(stripeEvent(t, "invoice.paid", in)); ch.Effect != store.EffectRecord {
		t.Errorf("a one-off invoice reads as %q, want recorded only", ch.Effect)
	}

	cs := map[string]any{"id": "cs_sub", "object": "checkout.session", "mode": "subscription", "payment_status": "paid",
		"customer": "cus_1", "subscription": "sub_1", "client_reference_id": "7", "metadata": map[string]string{"plan": "monthly"},
		"amount_total": 500, "currency": "usd"}
	ch, err = ParseEvent(stripeEvent(t, "checkout.session.completed", cs))
	if err != nil {
		t.Fatal(err)
	}
	if s := ch.Membership.Subscription; ch.Effect != store.EffectMembership || ch.Order.SessionID != "" ||
		s == nil || !s.CheckoutPaid || s.Plan != "monthly" || s.CurrentPeriodEnd != 0 || ch.Membership.UserRef != "7" {
		t.Errorf("a subscription checkout's completion read as %+v", ch)
	}
	ch, err = ParseEvent(stripeEvent(t, "checkout.session.completed", checkoutSession("paid")))
	if err != nil {
		t.Fatal(err)
	}
	if ch.Effect != store.EffectSettle || ch.To != store.StatusPaid || ch.Membership != nil || ch.Order.SessionID != "cs_1" {
		t.Errorf("an order's checkout completion read as %+v, want it to settle order cs_1", ch)
	}
}
