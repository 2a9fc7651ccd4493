package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestAdminPlans: an admin changes a plan's price and discount; the plans page and members'
// prices follow; bad input changes nothing; shoppers cannot see the page.
func TestAdminPlans(t *testing.T) {
	shop := newTestShop(t)
	ctx := context.Background()
	if res := shop.client().get("/admin/plans"); res.StatusCode != http.StatusNotFound {
		t.Errorf("anonymous: status %d, want 404", res.StatusCode)
	}
	shopper := shop.client()
	shopper.signup("shopper@example.com")
	if res := shopper.post("/admin/plans/monthly", url.Values{"name": {"Cheap"}, "price": {"1.00"}, "discount": {"50"}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("a shopper saving a plan: status %d, want 404", res.StatusCode)
	}
	admin := shop.admin("boss@example.com")
	if page := admin.get("/admin/plans").body; !strings.Contains(page, `value="5.00"`) || !strings.Contains(page, `value="50.00"`) {
		t.Errorf("the plans console does not show the seeded prices:\n%s", page)
	}
	for _, bad := range []url.Values{
		{"name": {"Monthly"}, "price": {"0.10"}, "discount": {"10"}},
		{"name": {"Monthly"}, "price": {"five"}, "discount": {"10"}},
		{"name": {"Monthly"}, "price": {"5.00"}, "discount": {"95"}},
		{"name": {""}, "price": {"5.00"}, "discount": {"10"}},
	} {
		if res := admin.post("/admin/plans/monthly", bad); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.body, "form-error") {
			t.Errorf("saving %v: status %d, want 422 with the error on the form", bad, res.StatusCode)
		}
	}
	if p, _ := shop.db.PlanByCode(ctx, "monthly"); p.Amount != 500 || p.DiscountPercent != 10 {
		t.Fatalf("refused saves changed the plan: %+v", p)
	}
	res := admin.post("/admin/plans/monthly", url.Values{"name": {"Member, monthly"}, "price": {"6.50"}, "discount": {"15"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/plans?saved=monthly" {
		t.Fatalf("saving: status %d Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	if page := shop.client().get("/membership").body; !strings.Contains(page, "Member, monthly") || !strings.Contains(page, "$6.50") {
		t.Errorf("the plans page does not show the new name and price:\n%s", page)
	}
	if res := admin.post("/admin/plans/weekly", url.Values{"name": {"W"}, "price": {"1.00"}, "discount": {"5"}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown plan: status %d, want 404", res.StatusCode)
	}
	if page := admin.get("/admin/audit").body; !strings.Contains(page, "plan.update") {
		t.Errorf("the audit log does not record the change")
	}
}
