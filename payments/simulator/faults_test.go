package simulator_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"storefront/payments/simulator"
)

func withFaults(spec string) func(*simulator.Config) {
	return func(c *simulator.Config) { c.Faults, c.FaultSeed = spec, 1 }
}

// attemptsFor counts the deliveries the receiver saw of one event.
func (rc *receiver) attemptsFor(id string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.attempts[id]
}

func (rc *receiver) requestCount() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.requests)
}

// waitForPending waits until the dev page reports n events waiting for delivery.
func (h *harness) waitForPending(t *testing.T, n string) {
	t.Helper()
	waitFor(t, n+" events waiting", func() bool {
		_, body := getPage(t, h.sim.URL()+"/")
		return strings.Contains(body, ": "+n+" event(s) waiting")
	})
}

// listedIDs lists every event id GET /v1/events gives, newest first.
func (h *harness) listedIDs(t *testing.T, p *stripe.EventListParams) []string {
	var ids []string
	for _, ev := range h.listEvents(t, p) {
		ids = append(ids, ev.ID)
	}
	return ids
}

func TestFaultDropStillListsTheEvent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withFaults("drop:1"))
	h.paid(t)
	waitFor(t, "five events listed", func() bool { return len(h.listedIDs(t, nil)) == 5 })
	h.waitForPending(t, "0") // every one dropped, none waiting
	if n := h.rc.requestCount(); n != 0 {
		t.Fatalf("dropped events were delivered %d times", n)
	}
	undelivered := h.listedIDs(t, &stripe.EventListParams{DeliverySuccess: stripe.Bool(false)})
	if len(undelivered) != 5 {
		t.Errorf("delivery_success=false lists %d events, want the 5 dropped", len(undelivered))
	}
	_, body := getPage(t, h.sim.URL()+"/")
	contains(t, body, "Faults on: <code>drop:1</code>")
}

func TestFaultDuplicateDeliversTwice(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withFaults("duplicate:1"))
	s := h.create(t)
	if _, err := h.sessions.Expire(s.ID, nil); err != nil {
		t.Fatal(err)
	}
	h.rc.waitForType(t, "checkout.session.expired")
	ev, _ := h.rc.event("checkout.session.expired")
	waitFor(t, "a second delivery", func() bool { return h.rc.attemptsFor(ev.ID) == 2 })
	if got := h.rc.types(); !slices.Equal(got, []string{"checkout.session.expired", "checkout.session.expired"}) {
		t.Errorf("acknowledged %v, want the one event twice", got)
	}
}

func TestFaultDelayHoldsUntilSwitchedOff(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withFaults("delay:1h"))
	s := h.create(t)
	if _, err := h.sessions.Expire(s.ID, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the expiry listed", func() bool { return len(h.listedIDs(t, nil)) == 1 })
	h.waitForPending(t, "1")
	if n := h.rc.requestCount(); n != 0 {
		t.Fatalf("a delayed event went out %d times", n)
	}
	// A bad value is refused and changes nothing.
	resp, _ := pay(t, h.sim.URL()+"/dev/faults", url.Values{"drop": {"2"}, "delay": {"1h"}})
	if resp.StatusCode != 400 {
		t.Errorf("drop=2 answered %d, want 400", resp.StatusCode)
	}
	// Switching the delay off on the dev page releases the event.
	resp, _ = pay(t, h.sim.URL()+"/dev/faults", url.Values{})
	if resp.StatusCode != 303 {
		t.Fatalf("switching faults off answered %d", resp.StatusCode)
	}
	h.rc.waitForType(t, "checkout.session.expired")
}

func TestFaultReorderSendsNewestFirst(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withFaults("reorder"))
	h.paid(t)
	waitFor(t, "five events", func() bool { return len(h.rc.types()) == 5 })
	want := []string{"charge.updated", "checkout.session.completed", "payment_intent.succeeded", "charge.succeeded", "payment_intent.created"}
	if got := h.rc.types(); !slices.Equal(got, want) {
		t.Errorf("delivered %v, want %v", got, want)
	}
}

func TestFaultNewerAPIVersion(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	rc.newerVersions = true
	cfg := testConfig(t, rc)
	withFaults("newer-api-version")(&cfg)
	h := start(t, cfg, rc)
	s := h.create(t)
	if _, err := h.sessions.Expire(s.ID, nil); err != nil {
		t.Fatal(err)
	}
	h.rc.waitForType(t, "checkout.session.expired")
	ev, _ := h.rc.event("checkout.session.expired")
	if ev.APIVersion == stripe.APIVersion || ev.APIVersion < stripe.APIVersion {
		t.Errorf("webhook api_version %q, want one newer than %q", ev.APIVersion, stripe.APIVersion)
	}
	// The API still renders the event in the version it speaks.
	_, body := rawGet(t, h.sim.URL()+"/v1/events/"+ev.ID)
	var listed struct {
		ID         string `json:"id"`
		APIVersion string `json:"api_version"`
	}
	if err := json.Unmarshal(body, &listed); err != nil || listed.ID != ev.ID || listed.APIVersion != stripe.APIVersion {
		t.Errorf("GET /v1/events/%s = %s", ev.ID, body)
	}
}

func TestFaultsFromEnvironment(t *testing.T) {
	t.Setenv(simulator.FaultsEnv, "reorder,newer-api-version")
	h := newHarness(t, func(c *simulator.Config) { c.Faults = "" })
	_, body := getPage(t, h.sim.URL()+"/")
	contains(t, body, "Faults on: <code>reorder,newer-api-version</code>")

	t.Setenv(simulator.FaultsEnv, "drop:2")
	cfg := testConfig(t, newReceiver(t))
	cfg.Faults = ""
	sim, err := simulator.New(cfg)
	if err == nil {
		sim.Close()
		t.Fatal("New accepted drop:2")
	}
	if !strings.Contains(err.Error(), simulator.FaultsEnv) {
		t.Errorf("error %q does not name %s", err, simulator.FaultsEnv)
	}
}

// TestDevSettleSettlesABankTransferNow: "Settle now" on the simulator's page gives a bank
// transfer its result at once instead of after the delay; with nothing waiting it says so.
func TestDevSettleSettlesABankTransferNow(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *simulator.Config) { c.AsyncDelay = time.Hour })
	s := h.create(t)
	resp, body := pay(t, s.URL, bankForm("000123456789"))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("pay by bank: %d\n%s", resp.StatusCode, body)
	}
	res, err := noRedirects.PostForm(h.sim.URL()+"/dev/settle/"+s.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("settle now: %d, want 303", res.StatusCode)
	}
	h.rc.waitForType(t, "checkout.session.async_payment_succeeded")
	res, err = noRedirects.PostForm(h.sim.URL()+"/dev/settle/"+s.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("settle with nothing waiting: %d, want 400", res.StatusCode)
	}
}
