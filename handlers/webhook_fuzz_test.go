package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/gorilla/sessions"

	"storefront/store"
)

// whFuzzOrder is an order the fuzz shop holds, with a Checkout Session id known in advance so that
// seed events can name it.
type whFuzzOrder struct {
	id      int64
	session string // "" when the shop stopped before saving it
	userID  int64  // 0 for a guest
	amount  int64
}

// whNewFuzzShop is the shop's handler on a fresh database holding, all awaiting payment, a guest
// order (cs_fuzz_guest, 2 totes, $48.00), a user's order (cs_fuzz_user, 1 mug, $18.00) and a guest
// order whose session id was never saved (found only through metadata[order_id]).
func whNewFuzzShop(tb testing.TB) (http.Handler, []whFuzzOrder) {
	tb.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(tb.TempDir(), "fuzz.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })

	order := func(ref store.CartRef, slug string, qty int, session string) whFuzzOrder {
		p, err := db.ProductBySlug(ctx, slug)
		if err != nil {
			tb.Fatal(err)
		}
		if err := db.AddToCart(ctx, ref, p.ID, qty); err != nil {
			tb.Fatal(err)
		}
		o, _, err := db.PrepareOrder(ctx, ref)
		if err != nil {
			tb.Fatal(err)
		}
		if session != "" {
			if err := db.AttachCheckoutSession(ctx, o.ID, session, "https://checkout.example.test/"+session, time.Now().Add(time.Hour)); err != nil {
				tb.Fatal(err)
			}
		}
		return whFuzzOrder{id: o.ID, session: session, userID: ref.UserID, amount: o.AmountTotal}
	}
	u, err := db.CreateUser(ctx, "fuzz@example.com", "not-a-real-hash")
	if err != nil {
		tb.Fatal(err)
	}
	orders := []whFuzzOrder{
		order(store.CartRef{Token: "fuzz-guest-cart"}, "canvas-tote", 2, "cs_fuzz_guest"),
		order(store.CartRef{UserID: u.ID}, "stoneware-mug", 1, "cs_fuzz_user"),
		order(store.CartRef{Token: "fuzz-lost-session-cart"}, "wool-socks", 1, ""),
	}

	cookies := sessions.NewCookieStore([]byte("0123456789abcdef0123456789abcdef"))
	base, _ := url.Parse("http://shop.example.test")
	h := NewServer(Deps{
		Store:          db,
		Payments:       &fakeCheckout{},
		Sessions:       cookies,
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		BaseURL:        base,
		WebhookSecrets: []string{testSecret},
	})
	return h, orders
}

// whFuzzSessionEvent is a checkout.session.* event for a fuzz shop order.
func whFuzzSessionEvent(id, typ, paymentStatus string, o whFuzzOrder) []byte {
	obj := map[string]any{
		"id": o.session, "object": "checkout.session", "status": "complete", "payment_status": paymentStatus,
		"amount_total": o.amount, "currency": "usd", "client_reference_id": nil,
		"payment_intent": "pi_" + o.session, "customer_details": map[string]any{"email": "buyer@example.com"},
		"metadata": map[string]string{},
	}
	if o.userID != 0 {
		obj["client_reference_id"] = fmt.Sprint(o.userID)
	}
	return event(id, typ, obj)
}

// FuzzWebhook sends arbitrary bodies, correctly signed, to the webhook: whatever Stripe (or a
// bug of ours in between) might sign, the webhook answers 200, 400 or 413, never a panic or a
// 5xx, which would make Stripe retry a payload that can never succeed.
func FuzzWebhook(f *testing.F) {
	h, orders := whNewFuzzShop(f)
	guest, user, lost := orders[0], orders[1], orders[2]

	for i, typ := range []string{
		"checkout.session.completed", "checkout.session.async_payment_succeeded",
		"checkout.session.async_payment_failed", "checkout.session.expired",
	} {
		f.Add(whFuzzSessionEvent(fmt.Sprintf("evt_seed_guest_%d", i), typ, "paid", guest))
		f.Add(whFuzzSessionEvent(fmt.Sprintf("evt_seed_user_%d", i), typ, "unpaid", user))
	}
	charge := func(id string, refunded bool, amount int64, pi any) []byte {
		return event(id, "charge.refunded", map[string]any{"id": "ch_" + id, "object": "charge",
			"payment_intent": pi, "refunded": refunded, "amount_refunded": amount, "amount": guest.amount, "currency": "usd"})
	}
	f.Add(charge("evt_seed_refund", true, guest.amount, "pi_"+guest.session))
	f.Add(charge("evt_seed_partial", false, 100, "pi_"+user.session))
	f.Add(charge("evt_seed_refund_expanded", true, guest.amount, map[string]any{"id": "pi_" + guest.session}))
	f.Add(charge("evt_seed_refund_nopi", true, guest.amount, nil))
	for _, typ := range []string{"payment_intent.created", "payment_intent.succeeded", "charge.succeeded", "charge.updated", "customer.created"} {
		f.Add(event("evt_seed_"+typ, typ, map[string]any{"id": "pi_" + guest.session, "object": "payment_intent"}))
	}
	full := whFuzzSessionEvent("evt_seed_truncated", "checkout.session.completed", "paid", user)
	f.Add(full[:len(full)/2])
	f.Add(full[:len(full)-1])
	f.Add([]byte(`{"id":"evt_seed_huge","object":"event","type":"checkout.session.completed","api_version":"2023-10-16","created":1,` +
		`"data":{"object":{"id":"cs_fuzz_guest","amount_total":99999999999999999999999999,"currency":"usd"}}}`))
	f.Add([]byte(`{"id":"evt_seed_huge_created","object":"event","type":"checkout.session.expired","created":1e400,` +
		`"data":{"object":{"id":"cs_fuzz_guest"}}}`))
	f.Add([]byte(`{"id":"evt_seed_neg","object":"event","type":"checkout.session.completed","created":-9223372036854775808,` +
		`"data":{"object":{"id":"cs_fuzz_user","amount_total":-9223372036854775808,"currency":"usd","payment_status":"paid"}}}`))
	f.Add([]byte(`{"id":"evt_seed_string_amount","object":"event","type":"checkout.session.completed",` +
		`"data":{"object":{"id":"cs_fuzz_guest","amount_total":"4800","currency":"usd","payment_status":"paid"}}}`))
	f.Add([]byte(`{"id":"evt_seed_wrong_types","object":"event","type":"checkout.session.completed",` +
		`"data":{"object":{"id":42,"metadata":["order_id"],"refunded":"yes","customer_details":"x"}}}`))
	f.Add([]byte(`{"id":"evt_seed_null_object","object":"event","type":"checkout.session.completed","data":{"object":null}}`))
	f.Add([]byte(`{"id":"evt_seed_string_object","object":"event","type":"checkout.session.completed","data":{"object":"cs_fuzz_guest"}}`))
	f.Add([]byte(`{"id":"evt_seed_null_data","object":"event","type":"checkout.session.completed","data":null}`))
	f.Add([]byte(fmt.Sprintf(`{"id":"evt_seed_metadata","object":"event","type":"checkout.session.completed",`+
		`"data":{"object":{"id":"cs_fuzz_lost","metadata":{"order_id":"%d"},"amount_total":%d,"currency":"usd","payment_status":"paid"}}}`, lost.id, lost.amount)))
	f.Add([]byte(fmt.Sprintf(`{"id":"evt_seed_metadata_taken","object":"event","type":"checkout.session.completed",`+
		`"data":{"object":{"id":"cs_fuzz_another","metadata":{"order_id":"%d"},"amount_total":%d,"currency":"usd","payment_status":"paid"}}}`, guest.id, guest.amount)))
	f.Add([]byte(`{"id":"evt_seed_empty_session","object":"event","type":"checkout.session.completed",` +
		`"data":{"object":{"id":"","metadata":{"order_id":"x"},"payment_status":"paid"}}}`))
	f.Add([]byte(fmt.Sprintf(`{"id":"evt_seed_empty_session_lost","object":"event","type":"checkout.session.expired",`+
		`"data":{"object":{"id":"","metadata":{"order_id":"%d"}}}}`, lost.id)))
	f.Add([]byte(`{"id":"","type":""}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`"evt"`))
	f.Add([]byte(``))
	f.Add([]byte("{\"id\":\"evt_seed_nul\\u0000\",\"type\":\"checkout.session.completed\",\"data\":{\"object\":{\"id\":\"cs\\u0000\"}}}"))
	f.Add([]byte("{\"id\":\"evt_seed_bad_utf8\xff\",\"type\":\"x\",\"data\":{\"object\":{}}}"))
	f.Add(bytes.Repeat([]byte("["), 20000))
	f.Add(whNewerEvent("evt_seed_clover", "checkout.session.completed", "2026-10-28.clover",
		store.Order{CheckoutSessionID: guest.session, AmountTotal: guest.amount, Currency: "usd"}))

	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/webhook/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Stripe-Signature", whSignature(body, testSecret, time.Now()))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		switch rec.Code {
		case http.StatusOK:
			var out struct{ Received, Outcome string }
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
				t.Fatalf("200 with a body that is not JSON: %q", rec.Body.String())
			}
			switch store.Outcome(out.Outcome) {
			case store.OutcomeApplied, store.OutcomeStale, store.OutcomeNeedsReview, store.OutcomeUnmatched,
				store.OutcomeRecorded, store.OutcomeDuplicate:
			default:
				t.Fatalf("200 with unknown outcome %q", out.Outcome)
			}
		case http.StatusBadRequest:
		case http.StatusRequestEntityTooLarge:
			if len(body) <= maxWebhookBody {
				t.Fatalf("413 for a body of %d bytes", len(body))
			}
		default:
			t.Fatalf("status %d for body %q\nanswer: %s", rec.Code, whTruncate(body, 2000), rec.Body.String())
		}
	})
}

func whTruncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
