package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"storefront/store"
)

// adminRequests are one request to every console route.
var adminRequests = []struct {
	method, path string
	form         url.Values
}{
	{"GET", "/admin", nil},
	{"GET", "/admin/", nil},
	{"GET", "/admin/orders", nil},
	{"GET", "/admin/orders?status=needs_review", nil},
	{"GET", "/admin/orders/events", nil},
	{"GET", "/admin/orders/1", nil},
	{"POST", "/admin/orders/1/refund", url.Values{"amount": {"1.00"}}},
	{"POST", "/admin/orders/1/accept", url.Values{"note": {"ok"}}},
	{"GET", "/admin/products", nil},
	{"GET", "/admin/products/new", nil},
	{"POST", "/admin/products", productFormValues("Sneaky", "sneaky", "1.00", "")},
	{"GET", "/admin/products/1", nil},
	{"POST", "/admin/products/1", productFormValues("Sneaky", "sneaky", "1.00", "")},
	{"GET", "/admin/events", nil},
	{"POST", "/admin/events/evt_1/reapply", nil},
	{"GET", "/admin/audit", nil},
	{"GET", "/admin/no-such-page", nil},
}

func TestAdminHiddenFromOthers(t *testing.T) {
	shop := newTestShop(t)
	buyer := shop.client()
	buyer.signup("buyer@example.com")
	buyer.addToCart("canvas-tote", 1)
	buyer.checkout()
	unknown := shop.client().get("/no-such-page")
	for who, c := range map[string]*testClient{"anonymous": shop.client(), "shopper": buyer} {
		for _, rq := range adminRequests {
			res := c.do(rq.method, rq.path, rq.form)
			if res.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s %s: status %d, want 404", who, rq.method, rq.path, res.StatusCode)
			}
			if who == "anonymous" && res.body != unknown.body {
				t.Errorf("%s %s %s: the 404 differs from an unknown page's, so it tells the console exists", who, rq.method, rq.path)
			}
			if strings.Contains(res.body, `href="/admin`) {
				t.Errorf("%s %s %s: the page links to the console", who, rq.method, rq.path)
			}
		}
	}
	if p := shop.mustProductBySlug("canvas-tote"); p.Name != "Canvas Tote Bag" {
		t.Errorf("a refused edit changed the product: %+v", p)
	}
	var audit int
	entries, _ := shop.db.AuditLog(context.Background(), 10, 0)
	audit = len(entries)
	if audit != 0 {
		t.Errorf("%d audit entries after refused requests, want 0", audit)
	}

	admin := shop.admin("boss@example.com")
	if res := admin.get("/admin/orders"); res.StatusCode != http.StatusOK || !strings.Contains(res.body, "Orders") {
		t.Errorf("admin: status %d", res.StatusCode)
	}
	if res := admin.get("/"); !strings.Contains(res.body, `href="/admin/orders"`) {
		t.Error("an admin's nav has no link to the console")
	}
	// Revoking takes effect on the next request: the role is read every time.
	if err := shop.db.SetAdmin(context.Background(), store.Actor{Email: "test"}, "boss@example.com", false); err != nil {
		t.Fatal(err)
	}
	if res := admin.get("/admin/orders"); res.StatusCode != http.StatusNotFound {
		t.Errorf("revoked admin: status %d, want 404", res.StatusCode)
	}
}

func TestAdminCrossSiteRefused(t *testing.T) {
	shop := newTestShop(t)
	admin := shop.admin("boss@example.com")
	for _, rq := range adminRequests {
		if rq.method != http.MethodPost {
			continue
		}
		res := admin.do(rq.method, rq.path, rq.form, crossSite...)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site %s %s: status %d, want 403", rq.method, rq.path, res.StatusCode)
		}
	}
	res := admin.postMultipart("/admin/products", productFormValues("Evil", "evil", "1.00", ""), nil, crossSite...)
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site multipart product: status %d, want 403", res.StatusCode)
	}
	if entries, _ := shop.db.AuditLog(context.Background(), 10, 0); len(entries) != 1 { // the grant
		t.Errorf("audit log has %d entries after cross-site posts, want only the grant", len(entries))
	}
}

func TestAdminProducts(t *testing.T) {
	shop := newTestShop(t)
	admin := shop.admin("boss@example.com")
	anon := shop.client()

	t.Run("bad fields come back with a message each, nothing written", func(t *testing.T) {
		before, _ := shop.db.AllProducts(context.Background())
		form := productFormValues("", "Not A Slug", "12.505", "-3")
		res := admin.postMultipart("/admin/products", form, map[string][2]string{"image": {"x.png", "this is not a picture"}})
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("status %d, want 422", res.StatusCode)
		}
		for _, want := range []string{"Enter the product&#39;s name.", "Use lower-case letters", "Use at most two decimal places.",
			"Enter a whole number", "must be a PNG, JPEG or WebP", `value="Not A Slug"`} {
			if !strings.Contains(res.body, want) {
				t.Errorf("form lacks %q", want)
			}
		}
		after, _ := shop.db.AllProducts(context.Background())
		if len(after) != len(before) {
			t.Errorf("%d products after a refused form, want %d", len(after), len(before))
		}
	})

	t.Run("a new product is in the catalogue at once, with its image and stock", func(t *testing.T) {
		png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
		anon.get("/") // the catalogue is cached from here on
		res := admin.postMultipart("/admin/products", productFormValues("Linen Apron", "linen-apron", "34.5", "3"),
			map[string][2]string{"image": {"apron.png", png}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("status %d, want 303; body:\n%s", res.StatusCode, res.body)
		}
		p := shop.mustProductBySlug("linen-apron")
		if p.Price != 3450 || p.Stock == nil || *p.Stock != 3 || !p.Active {
			t.Errorf("saved %+v, want price 3450, stock 3, active", p)
		}
		page := anon.get("/")
		if !strings.Contains(page.body, "Linen Apron") || !strings.Contains(page.body, "Only 3 left") {
			t.Error("the catalogue does not show the new product with its stock")
		}
		img := "/product-images/" + p.UploadedImage()
		if !strings.Contains(page.body, img) {
			t.Errorf("the catalogue does not show the uploaded image %s", img)
		}
		got := anon.get(img)
		if got.StatusCode != http.StatusOK || got.Header.Get("Content-Type") != "image/png" || got.body != png {
			t.Errorf("image: status %d, type %q, %d bytes", got.StatusCode, got.Header.Get("Content-Type"), len(got.body))
		}
		if got.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Error("image served without nosniff")
		}
	})

	t.Run("a slug already used is refused", func(t *testing.T) {
		res := admin.postMultipart("/admin/products", productFormValues("Another tote", "canvas-tote", "10", ""), nil)
		if res.StatusCode != http.StatusConflict || !strings.Contains(res.body, "Another product already uses this slug.") {
			t.Errorf("status %d, want 409 with a slug message", res.StatusCode)
		}
	})

	t.Run("two admins editing at once: the second save is refused, not lost", func(t *testing.T) {
		p := shop.mustProductBySlug("stoneware-mug")
		other := shop.admin("other@example.com")
		first := productFormValues("Stoneware Mug, large", "stoneware-mug", "19.00", "")
		first.Set("version", fmt.Sprint(p.Version))
		second := productFormValues("Stoneware Mug", "stoneware-mug", "25.00", "")
		second.Set("version", fmt.Sprint(p.Version))
		if res := admin.postMultipart(fmt.Sprintf("/admin/products/%d", p.ID), first, nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("first save: status %d", res.StatusCode)
		}
		res := other.postMultipart(fmt.Sprintf("/admin/products/%d", p.ID), second, nil)
		if res.StatusCode != http.StatusConflict || !strings.Contains(res.body, "Someone else saved this product") {
			t.Fatalf("second save: status %d, want 409 with a notice", res.StatusCode)
		}
		if got := shop.mustProductBySlug("stoneware-mug"); got.Name != "Stoneware Mug, large" || got.Price != 1900 {
			t.Errorf("product now %q at %d: the first save was overwritten", got.Name, got.Price)
		}
		if !strings.Contains(res.body, `value="25.00"`) {
			t.Error("the refused form lost what the second admin typed")
		}
		if res := anon.get("/products/stoneware-mug"); !strings.Contains(res.body, "$19.00") {
			t.Error("the product page does not show the saved price at once")
		}
	})

	t.Run("stock 0 is sold out and cannot be added; inactive is hidden", func(t *testing.T) {
		p := shop.mustProductBySlug("merino-beanie")
		form := productFormValues(p.Name, p.Slug, "32.00", "0")
		form.Set("version", fmt.Sprint(p.Version))
		if res := admin.postMultipart(fmt.Sprintf("/admin/products/%d", p.ID), form, nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("status %d", res.StatusCode)
		}
		page := anon.get("/products/merino-beanie")
		if !strings.Contains(page.body, "Sold out") || !strings.Contains(page.body, "disabled") {
			t.Error("a product with no stock is not shown sold out with its button disabled")
		}
		p = shop.mustProductBySlug("merino-beanie")
		form.Del("active")
		form.Set("version", fmt.Sprint(p.Version))
		admin.postMultipart(fmt.Sprintf("/admin/products/%d", p.ID), form, nil)
		if res := anon.get("/"); strings.Contains(res.body, "Merino Beanie") {
			t.Error("an inactive product is still in the catalogue")
		}
		if res := anon.get("/products/merino-beanie"); res.StatusCode != http.StatusNotFound {
			t.Errorf("inactive product page: status %d, want 404", res.StatusCode)
		}
	})

	entries, _ := shop.db.AuditLog(context.Background(), 50, 0)
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.AdminEmail+" "+e.Action)
	}
	for _, want := range []string{"boss@example.com product.create", "boss@example.com product.update"} {
		if !strings.Contains(strings.Join(actions, "\n"), want) {
			t.Errorf("audit log %v lacks %q", actions, want)
		}
	}
	if res := admin.get("/admin/audit"); !strings.Contains(res.body, "product.create") {
		t.Error("the audit page does not show the actions")
	}
}

// TestAdminPath is the owner's whole loop: a new product, a shopper buys it, the order shows
// paid in the console (live), a partial refund is asked, Stripe confirms a full one, and the
// shopper sees the order refunded.
func TestAdminPath(t *testing.T) {
	shop := newTestShop(t)
	admin := shop.admin("boss@example.com")
	if res := admin.postMultipart("/admin/products", productFormValues("Linen Apron", "linen-apron", "34.50", "10"), nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create product: status %d", res.StatusCode)
	}
	shopper := shop.client()
	if res := shopper.get("/"); !strings.Contains(res.body, "Linen Apron") {
		t.Fatal("the new product is not in the catalogue")
	}
	stream := admin.openOrderStream("/admin/orders/events")
	shopper.signup("shopper@example.com")
	shopper.addToCart("linen-apron", 2)
	o := shopper.checkout()
	if p := shop.mustProductBySlug("linen-apron"); p.Held != 2 {
		t.Errorf("held %d, want 2", p.Held)
	}
	shop.sendEvent("evt_paid", "checkout.session.completed", sessionObject(o, "paid"))
	waitForRow := func(status string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			m := stream.nextData(t, time.Until(deadline))
			if strings.Contains(m.Data, fmt.Sprintf(`data-key="%d" data-status="%s"`, o.ID, status)) {
				return
			}
		}
	}
	waitForRow("paid")
	list := admin.adminOrders("?status=paid&email=shopper")
	if len(list.Orders) != 1 || list.Orders[0].ID != o.ID || list.Orders[0].Email != "shopper@example.com" {
		t.Fatalf("admin order list %+v, want order %d paid by shopper@example.com", list.Orders, o.ID)
	}
	if p := shop.mustProductBySlug("linen-apron"); p.Held != 0 || p.Sold != 2 {
		t.Errorf("held %d sold %d, want 0 and 2", p.Held, p.Sold)
	}

	detail := admin.get(fmt.Sprintf("/admin/orders/%d", o.ID))
	for _, want := range []string{"Linen Apron", "$69.00", "pi_" + o.CheckoutSessionID, "checkout.session.completed", "shopper@example.com"} {
		if !strings.Contains(detail.body, want) {
			t.Errorf("order page lacks %q", want)
		}
	}

	res := admin.post(fmt.Sprintf("/admin/orders/%d/refund", o.ID), url.Values{"amount": {"70.00"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.body, "At most 69.00 USD is left to refund.") {
		t.Errorf("refund above the total: status %d", res.StatusCode)
	}
	if calls := shop.fake.refundCalls(); len(calls) != 0 {
		t.Fatalf("Stripe was asked for a refund above what is left: %+v", calls)
	}
	res = admin.post(fmt.Sprintf("/admin/orders/%d/refund", o.ID), url.Values{"amount": {"20"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("refund: status %d, body:\n%s", res.StatusCode, res.body)
	}
	calls := shop.fake.refundCalls()
	if len(calls) != 1 || calls[0].Amount != 2000 || calls[0].PaymentIntent != "pi_"+o.CheckoutSessionID || calls[0].IdempotencyKey == "" {
		t.Fatalf("refund calls %+v, want 20.00 of the order's payment with an idempotency key", calls)
	}
	if got := shop.order(o.ID).Status; got != store.StatusPaid {
		t.Errorf("order %s before Stripe confirms, want paid", got)
	}
	if page := admin.get(fmt.Sprintf("/admin/orders/%d", o.ID)); !strings.Contains(page.body, "Refund requested") {
		t.Error("order page does not say a refund was requested")
	}
	res = admin.post(fmt.Sprintf("/admin/orders/%d/refund", o.ID), url.Values{"amount": {"49.01"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.body, "At most 49.00 USD") {
		t.Errorf("second refund above what is left: status %d", res.StatusCode)
	}
	shop.sendEvent("evt_refund_part", "charge.refunded", whChargeObject(o, "pi_"+o.CheckoutSessionID, false, 2000))
	res = admin.post(fmt.Sprintf("/admin/orders/%d/refund", o.ID), nil) // the rest
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("full refund: status %d", res.StatusCode)
	}
	if calls := shop.fake.refundCalls(); len(calls) != 2 || calls[1].Amount != 4900 || calls[1].IdempotencyKey == calls[0].IdempotencyKey {
		t.Fatalf("refund calls %+v, want a second of 49.00 with its own key", calls)
	}
	shop.sendEvent("evt_refund_full", "charge.refunded", whChargeObject(o, "pi_"+o.CheckoutSessionID, true, 6900))
	waitForRow("refunded")
	if got := whAPIOrderOf(t, shopper, o.ID).Status; got != "refunded" {
		t.Errorf("shopper sees %s, want refunded", got)
	}
	if p := shop.mustProductBySlug("linen-apron"); p.Sold != 2 {
		t.Errorf("sold %d after refund, want 2: a refund does not restock", p.Sold)
	}
}

func TestAdminRefundRefusedByProvider(t *testing.T) {
	shop := newTestShop(t)
	admin := shop.admin("boss@example.com")
	_, _, o := whShopper(t, shop, "shopper@example.com")
	shop.sendEvent("evt_paid", "checkout.session.completed", sessionObject(o, "paid"))
	shop.fake.refundLog().fail = errProviderDown
	res := admin.post(fmt.Sprintf("/admin/orders/%d/refund", o.ID), nil)
	if res.StatusCode != http.StatusBadGateway || !strings.Contains(res.body, "nothing was refunded") {
		t.Fatalf("status %d, want 502 saying nothing was refunded", res.StatusCode)
	}
	shop.fake.refundLog().fail = nil
	// The refused request does not count against what is left.
	if res := admin.post(fmt.Sprintf("/admin/orders/%d/refund", o.ID), url.Values{"amount": {"66.00"}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("retry after a refusal: status %d", res.StatusCode)
	}
}

func TestAdminReviewQueue(t *testing.T) {
	shop := newTestShop(t)
	admin := shop.admin("boss@example.com")
	_, _, o := whShopper(t, shop, "shopper@example.com")
	wrong := sessionObject(o, "paid")
	wrong["amount_total"] = o.AmountTotal - 100
	shop.sendEvent("evt_wrong", "checkout.session.completed", wrong)
	if got := shop.order(o.ID).Status; got != store.StatusNeedsReview {
		t.Fatalf("status %s, want needs_review", got)
	}
	queue := admin.get("/admin/orders?status=needs_review")
	if !strings.Contains(queue.body, fmt.Sprintf(`data-key="%d"`, o.ID)) || !strings.Contains(queue.body, "amount mismatch") {
		t.Error("the review queue does not list the order with its reason")
	}
	res := admin.post(fmt.Sprintf("/admin/orders/%d/accept", o.ID), url.Values{"note": {"  "}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.body, "Write a note") {
		t.Errorf("accept without a note: status %d", res.StatusCode)
	}
	if got := shop.order(o.ID).Status; got != store.StatusNeedsReview {
		t.Fatalf("status %s after a refused accept, want needs_review", got)
	}
	res = admin.post(fmt.Sprintf("/admin/orders/%d/accept", o.ID), url.Values{"note": {"Customer paid the difference by bank transfer"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("accept: status %d", res.StatusCode)
	}
	if got := shop.order(o.ID).Status; got != store.StatusPaid {
		t.Errorf("status %s, want paid", got)
	}
	if audit := admin.get("/admin/audit"); !strings.Contains(audit.body, "bank transfer") {
		t.Error("the audit log does not keep the note")
	}

	// A dispute sends it back to review.
	shop.sendEvent("evt_dispute", "charge.dispute.created", map[string]any{"id": "dp_1", "object": "dispute",
		"amount": o.AmountTotal, "currency": "usd", "charge": "ch_1", "payment_intent": "pi_" + o.CheckoutSessionID, "reason": "fraudulent"})
	if got := shop.order(o.ID); got.Status != store.StatusNeedsReview || got.ReviewReason != "disputed" {
		t.Errorf("after a dispute: %s (%s), want needs_review (disputed)", got.Status, got.ReviewReason)
	}
}

func TestAdminEventLog(t *testing.T) {
	shop := newTestShop(t)
	admin := shop.admin("boss@example.com")
	_, _, o := whShopper(t, shop, "shopper@example.com")
	shop.sendEvent("evt_paid", "checkout.session.completed", sessionObject(o, "paid"))
	stray := sessionObject(o, "paid")
	stray["id"], stray["metadata"] = "cs_unknown", map[string]string{}
	stray["payment_intent"] = "pi_unknown"
	shop.sendEvent("evt_stray", "checkout.session.completed", stray)

	all := admin.get("/admin/events")
	for _, want := range []string{"evt_paid", "evt_stray", "cs_unknown", "Re-apply"} {
		if !strings.Contains(all.body, want) {
			t.Errorf("event log lacks %q", want)
		}
	}
	unmatched := admin.get("/admin/events?outcome=unmatched")
	if strings.Contains(unmatched.body, "evt_paid") || !strings.Contains(unmatched.body, "evt_stray") {
		t.Error("the outcome filter does not filter")
	}
	res := admin.post("/admin/events/evt_paid/reapply", nil)
	if res.StatusCode != http.StatusConflict || !strings.Contains(res.body, "only an event that matched no order") {
		t.Errorf("re-apply of an applied event: status %d", res.StatusCode)
	}
	res = admin.post("/admin/events/evt_stray/reapply", nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("re-apply: status %d", res.StatusCode)
	}
	e, err := shop.db.Event(context.Background(), "evt_stray")
	if err != nil || e.Outcome != store.OutcomeUnmatched {
		t.Errorf("re-applied stray event: %v, outcome %s, want still unmatched", err, e.Outcome)
	}
	if res := admin.post("/admin/events/evt_nothing/reapply", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("re-apply of an unknown event: status %d, want 404", res.StatusCode)
	}
	if audit := admin.get("/admin/audit"); !strings.Contains(audit.body, "event.reapply") {
		t.Error("the audit log does not show the re-apply")
	}
}

func TestAdminEmailInSimulatorMode(t *testing.T) {
	for _, simulated := range []bool{true, false} {
		shop := newTestShop(t, func(d *Deps) { d.Simulated, d.AdminEmail = simulated, "owner@example.com" })
		owner := shop.client()
		owner.signup("Owner@Example.com")
		someone := shop.client()
		someone.signup("someone@example.com")
		want := http.StatusNotFound
		if simulated {
			want = http.StatusOK
		}
		if res := owner.get("/admin/orders"); res.StatusCode != want {
			t.Errorf("simulated %t: ADMIN_EMAIL's account got %d, want %d", simulated, res.StatusCode, want)
		}
		if res := someone.get("/admin/orders"); res.StatusCode != http.StatusNotFound {
			t.Errorf("simulated %t: another account got %d, want 404", simulated, res.StatusCode)
		}
	}
}

// TestAdminPagesKeepThePolicy: the console's pages, like the shop's, carry no inline code or
// style, which the Content-Security-Policy would block.
func TestAdminPagesKeepThePolicy(t *testing.T) {
	shop := newTestShop(t)
	admin := shop.admin("boss@example.com")
	_, _, o := whShopper(t, shop, "shopper@example.com")
	shop.sendEvent("evt_paid", "checkout.session.completed", sessionObject(o, "paid"))
	banned := regexp.MustCompile(`(?i)\sstyle\s*=|<style\b|hx-on|javascript:|\son[a-z]+\s*=|<script\b[^>]*>[^<]`)
	for _, path := range []string{"/admin/orders", fmt.Sprintf("/admin/orders/%d", o.ID), "/admin/products", "/admin/products/new",
		"/admin/products/1", "/admin/events", "/admin/audit"} {
		res := admin.get(path)
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d", path, res.StatusCode)
			continue
		}
		if m := banned.FindString(res.body); m != "" {
			t.Errorf("%s: inline code or style %q", path, m)
		}
		if res.Header.Get("Content-Security-Policy") == "" || res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: CSP %q, Cache-Control %q", path, res.Header.Get("Content-Security-Policy"), res.Header.Get("Cache-Control"))
		}
	}
}
