package simulator_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stripe/stripe-go/v76"
)

// elementPost posts the Payment Element's fields as its frame does and decodes the answer.
func elementPost(t *testing.T, base string, fields url.Values) (int, map[string]json.RawMessage) {
	t.Helper()
	res, err := http.PostForm(base+"/v3/elements/confirm", fields)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var answer map[string]json.RawMessage
	body, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(body, &answer); err != nil {
		t.Fatalf("element confirm answered %d %s", res.StatusCode, body)
	}
	return res.StatusCode, answer
}

func TestPaymentElementFrame(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	base := h.sim.URL()
	pi := h.newIntent(t)
	frame := base + "/v3/elements/payment?client_secret=" + url.QueryEscape(pi.ClientSecret) + "&origin=" + url.QueryEscape("http://localhost:8000")

	t.Run("Script", func(t *testing.T) {
		resp, body := getPage(t, base+"/v3/")
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") ||
			!strings.Contains(body, "confirmPayment") || !strings.Contains(body, "retrievePaymentIntent") {
			t.Errorf("GET /v3/: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	})

	t.Run("Frame", func(t *testing.T) {
		resp, body := getPage(t, frame)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("element frame: %d\n%s", resp.StatusCode, body)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors http://localhost:8000") ||
			resp.Header.Get("X-Frame-Options") != "" {
			t.Errorf("the frame may be framed by %q (X-Frame-Options %q), want only by the shop's origin", csp, resp.Header.Get("X-Frame-Options"))
		}
		contains(t, body, "4242 4242 4242 4242", "4000 0000 0000 0002", "4000 0027 6000 3184", "US bank account", "000123456789")
		for _, bad := range []string{
			base + "/v3/elements/payment?client_secret=" + url.QueryEscape(pi.ClientSecret),                                         // no origin
			base + "/v3/elements/payment?client_secret=" + url.QueryEscape(pi.ClientSecret) + "&origin=http://localhost:8000/pay/1", // not an origin
			base + "/v3/elements/payment?client_secret=" + url.QueryEscape(pi.ID+"_secret_guess") + "&origin=http://localhost:8000",
		} {
			if resp, _ := getPage(t, bad); resp.StatusCode < 400 {
				t.Errorf("GET %s: %d, want refused", bad, resp.StatusCode)
			}
		}
		p := orderIntent("")
		p.Currency = stripe.String("jpy")
		yen, err := h.intents.New(p)
		if err != nil {
			t.Fatal(err)
		}
		_, body = getPage(t, base+"/v3/elements/payment?client_secret="+url.QueryEscape(yen.ClientSecret)+"&origin=http://localhost:8000")
		if strings.Contains(body, "bank_transfer") {
			t.Errorf("a yen intent's element offers a bank transfer")
		}
	})

	t.Run("BadInputWritesNothing", func(t *testing.T) {
		before := len(h.createdTypes(t))
		for name, fields := range map[string]url.Values{
			"Empty":        {"method": {"card"}},
			"NotTestCard":  {"method": {"card"}, "card_number": {"4111 1111 1111 1111"}, "expiry": {"12/40"}, "cvc": {"123"}},
			"PastExpiry":   {"method": {"card"}, "card_number": {"4242424242424242"}, "expiry": {"01/20"}, "cvc": {"123"}},
			"UnknownBank":  {"method": {"bank_transfer"}, "account_number": {"000000000000"}},
			"NoSuchMethod": {"method": {"cash"}},
		} {
			fields.Set("client_secret", pi.ClientSecret)
			status, answer := elementPost(t, base, fields)
			var e struct{ Type, Message string }
			json.Unmarshal(answer["error"], &e)
			if status != http.StatusBadRequest || e.Type != "validation_error" || e.Message == "" {
				t.Errorf("%s: %d %s, want 400 validation_error with a message", name, status, answer["error"])
			}
		}
		status, _ := elementPost(t, base, url.Values{"client_secret": {pi.ID + "_secret_guess"}, "method": {"card"},
			"card_number": {"4242424242424242"}, "expiry": {"12/40"}, "cvc": {"123"}})
		if status != http.StatusNotFound {
			t.Errorf("a wrong client secret: %d, want 404", status)
		}
		if after := len(h.createdTypes(t)); after != before {
			t.Errorf("refused confirms made %d events", after-before)
		}
		if got, _ := h.intents.Get(pi.ID, nil); got.Status != stripe.PaymentIntentStatusRequiresPaymentMethod || got.LastPaymentError != nil {
			t.Errorf("after refused confirms the intent is %s with error %+v", got.Status, got.LastPaymentError)
		}
	})

	t.Run("CrossSitePostRefused", func(t *testing.T) {
		r, _ := http.NewRequest(http.MethodPost, base+"/v3/elements/confirm", strings.NewReader(url.Values{
			"client_secret": {pi.ClientSecret}, "method": {"card"}, "card_number": {"4242424242424242"}, "expiry": {"12/40"}, "cvc": {"123"}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Sec-Fetch-Site", "cross-site")
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("a cross-site confirm: %d, want 403 (only the element's own frame confirms)", res.StatusCode)
		}
	})

	t.Run("Retrieve", func(t *testing.T) {
		resp, body := getPage(t, base+"/v3/payment_intents/"+pi.ID+"?client_secret="+url.QueryEscape(pi.ClientSecret))
		var answer struct {
			PaymentIntent map[string]json.RawMessage `json:"paymentIntent"`
		}
		json.Unmarshal([]byte(body), &answer)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
			string(answer.PaymentIntent["status"]) != `"requires_payment_method"` {
			t.Fatalf("retrieve: %d CORS %q %s", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), body)
		}
		if m := string(answer.PaymentIntent["metadata"]); m != "null" {
			t.Errorf("the client's view shows the metadata %s, which a publishable key does not see", m)
		}
		if resp, _ := getPage(t, base+"/v3/payment_intents/"+pi.ID+"?client_secret=wrong"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("retrieve with a wrong secret: %d", resp.StatusCode)
		}
	})

	t.Run("BankDebitSettles", func(t *testing.T) {
		bank := h.newIntent(t)
		status, answer := elementPost(t, base, url.Values{"client_secret": {bank.ClientSecret}, "method": {"bank_transfer"},
			"account_number": {"000111111116"}})
		if status != http.StatusOK || !strings.Contains(string(answer["paymentIntent"]), `"status":"processing"`) {
			t.Fatalf("bank debit: %d %s", status, answer)
		}
		ev := waitForEvent(t, h, "payment_intent.payment_failed", bank.ID)
		var obj stripe.PaymentIntent
		object(t, ev, &obj)
		if obj.Status != "requires_payment_method" || obj.LastPaymentError == nil {
			t.Errorf("failed bank debit: %s %+v", obj.Status, obj.LastPaymentError)
		}
		want := []string{"payment_intent.created", "payment_intent.processing", "charge.pending", "charge.failed", "payment_intent.payment_failed"}
		if got := h.intentEvents(t, bank.ID); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("events %v, want %v", got, want)
		}
	})
}
