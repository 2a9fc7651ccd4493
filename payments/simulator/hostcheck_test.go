package simulator_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stripe/stripe-go/v76"
)

func TestOnlyLoopbackHostNamesAreAnswered(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	s := h.paid(t)
	u, _ := url.Parse(h.sim.URL())
	port := u.Port()
	send := func(method, path, host string) int {
		t.Helper()
		req, _ := http.NewRequest(method, h.sim.URL()+path, strings.NewReader(""))
		req.Host = host
		req.Header.Set("Authorization", "Bearer "+testKey)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, host := range []string{"localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port, "LOCALHOST:" + port} {
		if got := send("GET", "/", host); got != 200 {
			t.Errorf("dev page for Host %s: %d, want 200", host, got)
		}
	}
	for _, host := range []string{"attacker.example:" + port, "attacker.example", "127.0.0.1:1", "localhost", "127.0.0.2:" + port} {
		for _, path := range []string{"/", "/v1/checkout/sessions/" + s.ID, "/c/pay/" + s.ID} {
			if got := send("GET", path, host); got != http.StatusMisdirectedRequest {
				t.Errorf("GET %s for Host %s: %d, want 421", path, host, got)
			}
		}
		// The rebinding attack itself: a page at attacker.example posting to the dev page's Refund.
		if got := send("POST", "/dev/refund/"+s.ID, host); got != http.StatusMisdirectedRequest {
			t.Errorf("refund for Host %s: %d, want 421", host, got)
		}
	}
	it := h.refunds.List(&stripe.RefundListParams{PaymentIntent: stripe.String(s.PaymentIntent.ID)})
	if it.Next() {
		t.Errorf("a request for a foreign Host refunded %s", s.PaymentIntent.ID)
	}
}
