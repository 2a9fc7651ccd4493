package handlers

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"storefront/payments"
	"storefront/store"
)

// TestReconcileRequestsStripeMock checks the requests reconcile makes against Stripe's own
// mock, which refuses any parameter the API does not define: the event list (types, created
// range, page size) and a Checkout Session's state.
func TestReconcileRequestsStripeMock(t *testing.T) {
	t.Parallel()
	gateway, rt := newMockGateway(startStripeMock(t))
	ctx := context.Background()
	since := time.Now().Add(-72 * time.Hour)

	var changes []store.Change
	err := gateway.ListEvents(ctx, since, func(ch store.Change) error {
		changes = append(changes, ch)
		return nil
	})
	if err != nil {
		t.Fatalf("ListEvents against stripe-mock: %v", err)
	}
	if len(changes) == 0 || changes[0].Event.ID == "" || len(changes[0].Event.Payload) == 0 {
		t.Errorf("ListEvents gave %+v, want stripe-mock's event with its id and payload", changes)
	}
	call := rt.recorded()[0]
	if call.Method != "GET" || call.Path != "/v1/events" {
		t.Fatalf("first call %s %s, want GET /v1/events", call.Method, call.Path)
	}
	if got := call.Query.Get("created[gte]"); got != strconv.FormatInt(since.Unix(), 10) {
		t.Errorf("created[gte] = %q, want %d", got, since.Unix())
	}
	var want, got []string
	for i, ty := range payments.HandledEventTypes {
		want = append(want, string(ty))
		got = append(got, call.Query.Get("types["+strconv.Itoa(i)+"]")) // stripe-go numbers array items
	}
	if !slices.Equal(got, want) {
		t.Errorf("types = %v, want %v (query %v)", got, want, call.Query)
	}
	if got := call.Query.Get("limit"); got != "100" {
		t.Errorf("limit = %q, want 100", got)
	}

	if _, _, err := gateway.SessionChange(ctx, "cs_test_123"); err != nil {
		t.Errorf("SessionChange against stripe-mock: %v", err)
	}
	if last := rt.recorded()[len(rt.recorded())-1]; last.Method != "GET" || last.Path != "/v1/checkout/sessions/cs_test_123" {
		t.Errorf("session call %s %s", last.Method, last.Path)
	}
}
