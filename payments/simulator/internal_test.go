package simulator

import (
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"
)

func TestLuhn(t *testing.T) {
	for number, want := range map[string]bool{
		"4242424242424242": true, "4000000000000002": true, "5555555555554444": true,
		"4242424242424241": false, "1234567812345678": false,
	} {
		if got := luhn(number); got != want {
			t.Errorf("luhn(%s) = %v, want %v", number, got, want)
		}
	}
}

func TestTestCardsAreLuhnValid(t *testing.T) {
	for _, c := range testCards {
		if !luhn(c.number) {
			t.Errorf("test card %s fails the Luhn check and could never be entered", c.number)
		}
	}
}

func TestParseExpiry(t *testing.T) {
	cases := []struct {
		in          string
		month, year int
		ok          bool
	}{
		{"12/34", 12, 2034, true}, {"1/30", 1, 2030, true}, {"12 / 34", 12, 2034, true},
		{"0834", 8, 2034, true}, {"08/2031", 8, 2031, true},
		{"13/30", 0, 0, false}, {"00/30", 0, 0, false}, {"12/3", 0, 0, false}, {"ab/cd", 0, 0, false}, {"", 0, 0, false},
	}
	for _, c := range cases {
		m, y, ok := parseExpiry(c.in)
		if ok != c.ok || (ok && (m != c.month || y != c.year)) {
			t.Errorf("parseExpiry(%q) = %d, %d, %v; want %d, %d, %v", c.in, m, y, ok, c.month, c.year, c.ok)
		}
	}
}

func TestFormatMoney(t *testing.T) {
	cases := map[string]string{
		formatMoney(4800, "usd"):      "$48.00",
		formatMoney(5, "usd"):         "$0.05",
		formatMoney(123456789, "usd"): "$1,234,567.89",
		formatMoney(500, "jpy"):       "¥500",
		formatMoney(1999, "eur"):      "€19.99",
		formatMoney(1000, "sek"):      "10.00 SEK",
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func TestSplitKey(t *testing.T) {
	parts, ok := splitKey("line_items[0][price_data][product_data][name]")
	if !ok || len(parts) != 5 || parts[0] != "line_items" || parts[1] != "0" || parts[4] != "name" {
		t.Errorf("splitKey = %v, %v", parts, ok)
	}
	for _, bad := range []string{"a[b", "a[b]c", "[x]", ""} {
		if _, ok := splitKey(bad); ok {
			t.Errorf("splitKey(%q) accepted a malformed key", bad)
		}
	}
}

func TestSignatureMatchesStripeGo(t *testing.T) {
	at := time.Unix(1700000000, 0)
	payload := []byte(`{"id":"evt_1"}`)
	want := "t=1700000000,v1=" + hexString(webhook.ComputeSignature(at, payload, "whsec_x"))
	if got := signature("whsec_x", at, payload); got != want {
		t.Errorf("signature = %q, want %q", got, want)
	}
}

func TestBackoffDoublesUpToTheCap(t *testing.T) {
	s := &Simulator{cfg: Config{RetryBase: 500 * time.Millisecond, RetryMax: 30 * time.Second}}
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	for i, w := range want {
		if got := s.backoff(i + 1); got != w {
			t.Errorf("backoff(%d) = %s, want %s", i+1, got, w)
		}
	}
}

func TestIDsLookLikeStripes(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := newSessionID()
		if len(id) != len("cs_test_")+48 || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, len(b)*2)
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// The default port is checked without binding it: tests of other packages may be using it.
func TestDefaults(t *testing.T) {
	c, err := Config{DBPath: "x.db", WebhookURL: "http://127.0.0.1:8000/webhook/", WebhookSecret: "whsec_x"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:12180" || c.SessionTTL != 24*time.Hour || c.AsyncDelay != 3*time.Second ||
		c.RetryBase != 500*time.Millisecond || c.RetryMax != 30*time.Second || c.Logger == nil || c.Now == nil {
		t.Errorf("defaults: %+v", c)
	}
}

func TestParseFaults(t *testing.T) {
	f, err := parseFaults("drop:0.2, duplicate:0.1,delay:2s,reorder,newer-api-version")
	if err != nil {
		t.Fatal(err)
	}
	want := faults{Drop: 0.2, Duplicate: 0.1, Delay: 2 * time.Second, Reorder: true, NewerAPI: true}
	if f != want {
		t.Errorf("parsed %+v, want %+v", f, want)
	}
	if again, _ := parseFaults(f.String()); again != f {
		t.Errorf("String %q does not parse back", f.String())
	}
	if f, err := parseFaults("off"); err != nil || f != (faults{}) {
		t.Errorf("off parsed as %+v, %v", f, err)
	}
	if f, _ := parseFaults("drop"); f.Drop != 1 {
		t.Errorf("bare drop means a chance of %v, want 1", f.Drop)
	}
	for _, bad := range []string{"drop:1.5", "delay:soon", "delay:-1s", "explode"} {
		if _, err := parseFaults(bad); err == nil {
			t.Errorf("parseFaults(%q) accepted it", bad)
		}
	}
}

func TestFaultDiceAreSeeded(t *testing.T) {
	a, b := newFaultDice(7), newFaultDice(7)
	same, hits := true, 0
	for range 200 {
		x, y := a.roll(0.5), b.roll(0.5)
		same = same && x == y
		if x {
			hits++
		}
	}
	if !same || hits == 0 || hits == 200 {
		t.Errorf("same seed agreed: %v; %d of 200 rolls at 0.5 hit", same, hits)
	}
	if a.roll(0) || !a.roll(1) {
		t.Error("chance 0 happened or chance 1 did not")
	}
}
