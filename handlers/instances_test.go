package handlers

import (
	"fmt"
	"net/http"
	"testing"

	"storefront/store/storetest"
)

// TestLimitsHoldAcrossInstances: two instances of the shop on one PostgreSQL database count a
// client's login attempts and an account's open streams together, so that running more
// instances does not multiply what one client may do.
func TestLimitsHoldAcrossInstances(t *testing.T) {
	if !storetest.Postgres() {
		t.Skip("instances share limits through PostgreSQL; SQLite has one instance")
	}
	t.Parallel()

	t.Run("Login", func(t *testing.T) {
		a := newTestShop(t)
		b := newTestShopAt(t, a.dsn)
		const addr = "203.0.113.77:4000"
		for i := range loginPerAddress {
			shop := []*testShop{a, b}[i%2]
			res := shop.serveFrom(addr, http.MethodPost, "/login", credentials(fmt.Sprintf("guess%d@example.com", i), "guess"))
			if res.Code != http.StatusUnauthorized {
				t.Fatalf("attempt %d: status %d, want 401", i+1, res.Code)
			}
		}
		for _, shop := range []*testShop{a, b} {
			res := shop.serveFrom(addr, http.MethodPost, "/login", credentials("another@example.com", "guess"))
			if res.Code != http.StatusTooManyRequests || res.Header().Get("Retry-After") == "" {
				t.Errorf("attempt %d, on either instance: status %d, Retry-After %q; want 429 with Retry-After",
					loginPerAddress+1, res.Code, res.Header().Get("Retry-After"))
			}
		}
	})

	t.Run("StreamsPerUser", func(t *testing.T) {
		a := newTestShop(t)
		b := newTestShopAt(t, a.dsn)
		onA := a.client()
		onA.signup("streams@example.com")
		onB := &testClient{t: t, shop: b, http: onA.http} // the same browser, sent to the other instance
		var open []*sseTestStream
		for i := range streamsPerUser {
			open = append(open, []*testClient{onA, onB}[i%2].openOrderStream("/orders/events"))
		}
		for _, c := range []*testClient{onA, onB} {
			if status, retry := c.streamStatus("/orders/events"); status != http.StatusTooManyRequests || retry == "" {
				t.Fatalf("stream %d of one user: status %d, Retry-After %q; want 429 with Retry-After", streamsPerUser+1, status, retry)
			}
		}
		open[0].cancel() // a stream on A closes: B has room again
		waitFor(t, "a stream closed on one instance to make room on the other", func() bool {
			status, _ := onB.streamStatus("/orders/events")
			return status == http.StatusOK
		})
	})
}
