package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"storefront/store"
)

// accountState is the account JSON's subscription as a client reads it.
type accountState struct {
	Subscription *struct {
		Status            string  `json:"status"`
		Plan              string  `json:"plan"`
		CurrentPeriodEnd  *string `json:"currentPeriodEnd"`
		CancelAtPeriodEnd bool    `json:"cancelAtPeriodEnd"`
	} `json:"subscription"`
}

func accountOf(t *testing.T, c *testClient) accountState {
	t.Helper()
	res := c.get("/account", "Accept", "application/json")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /account: status %d: %s", res.StatusCode, res.body)
	}
	var a accountState
	if err := json.Unmarshal([]byte(res.body), &a); err != nil {
		t.Fatalf("account JSON %q: %v", res.body, err)
	}
	return a
}

// waitMembership waits until the account JSON says the membership is status.
func waitMembership(t *testing.T, c *testClient, status string) accountState {
	t.Helper()
	var a accountState
	waitFor(t, "membership "+status, func() bool {
		a = accountOf(t, c)
		return a.Subscription != nil && a.Subscription.Status == status
	})
	return a
}

// subscribeThroughSimulator starts a membership checkout and pays it with card, returning the
// hosted page's answer.
func (s *simShop) subscribeThroughSimulator(t *testing.T, c *testClient, email, plan, card string) response {
	t.Helper()
	sessionID, payURL := sessionAnswer(t, c.post("/membership/checkout", url.Values{"plan": {plan}}, "Accept", "application/json"))
	if !strings.HasPrefix(payURL, s.sim.URL()+"/c/pay/") || sessionID == "" {
		t.Fatalf("membership checkout answered session %q url %q, want the simulator's hosted page", sessionID, payURL)
	}
	page := getURL(t, payURL)
	for _, want := range []string{"Subscribe", "Membership, " + plan} {
		if !strings.Contains(page, want) {
			t.Errorf("the hosted page does not show %q:\n%s", want, page)
		}
	}
	return simPay(t, payURL, simCardForm(email, card))
}

// simAPI calls the simulator's API as the shop's key would.
func (s *simShop) simAPI(t *testing.T, method, path string, form url.Values) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(method, s.sim.URL()+path, strings.NewReader(form.Encode()))
	req.SetBasicAuth("sk_test_sim", "")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: status %d: %v", method, path, res.StatusCode, out)
	}
	return out
}

func getURL(t *testing.T, u string) string {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}

// portalPost submits a form on the simulator's billing portal page, as a browser would.
func portalPost(t *testing.T, portalURL, action string, form url.Values) {
	t.Helper()
	res := simPay(t, portalURL+"/"+action, form)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("portal %s: status %d:\n%s", action, res.StatusCode, res.body)
	}
}

// TestMembershipLifecycleThroughSimulator: a shopper subscribes on the simulator's hosted page,
// becomes a member as the webhooks land, pays discounted prices, is sent to the portal when they
// subscribe again, switches to a card that fails, sees the renewal go past due and then unpaid,
// and fixes the card in the portal.
func TestMembershipLifecycleThroughSimulator(t *testing.T) {
	shop := newSimulatedShop(t, 0)
	ctx := context.Background()
	c := shop.client()
	u := c.signup("member@example.com")
	if a := accountOf(t, c); a.Subscription != nil {
		t.Fatalf("a new account has subscription %+v, want null", a.Subscription)
	}

	res := shop.subscribeThroughSimulator(t, c, "member@example.com", "monthly", "4242424242424242")
	if got, want := res.Header.Get("Location"), shop.srv.URL+"/account?joined=1"; res.StatusCode != http.StatusSeeOther || got != want {
		t.Fatalf("pay: status %d Location %q, want 303 to %q", res.StatusCode, got, want)
	}
	a := waitMembership(t, c, "active")
	if a.Subscription.Plan != "monthly" || a.Subscription.CurrentPeriodEnd == nil || a.Subscription.CancelAtPeriodEnd {
		t.Errorf("membership %+v, want monthly renewing with a period end", *a.Subscription)
	}
	end, _ := time.Parse(time.RFC3339, *a.Subscription.CurrentPeriodEnd)
	if d := time.Until(end); d < 27*24*time.Hour || d > 32*24*time.Hour {
		t.Errorf("current period ends %s, want about a month from now", end)
	}
	if page := c.get("/account").body; !strings.Contains(page, `class="member-badge"`) || !strings.Contains(page, "Renews on") {
		t.Errorf("the account page shows no member badge or renewal date:\n%s", page)
	}

	// The perk: 10% off, in the cart and in what Checkout charges; the webhook's amount check agrees.
	tote := c.addToCart("canvas-tote", 2)
	cart := c.get("/cart").body
	if !strings.Contains(cart, "Member discount (10%)") || !strings.Contains(cart, "$43.20") {
		t.Errorf("the cart does not show the member discount and a total of $43.20:\n%s", cart)
	}
	o, payURL := shop.startCheckout(t, c)
	if got, want := o.AmountTotal, store.Discounted(tote.Price, 10)*2; got != want {
		t.Errorf("order total %d, want %d", got, want)
	}
	simPay(t, payURL, simCardForm("member@example.com", "4242424242424242"))
	shop.waitOrderStatus(t, o.ID, store.StatusPaid)

	// Subscribing again leads to the portal, not a second subscription.
	var portal struct{ URL string }
	res = c.post("/membership/checkout", url.Values{"plan": {"yearly"}}, "Accept", "application/json")
	if err := json.Unmarshal([]byte(res.body), &portal); err != nil || !strings.HasPrefix(portal.URL, shop.sim.URL()+"/p/session/") {
		t.Fatalf("a member subscribing again got %d %s, want the billing portal", res.StatusCode, res.body)
	}
	m, err := shop.db.MembershipOf(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	subs := shop.simAPI(t, http.MethodGet, "/v1/subscriptions?customer="+customerOf(t, shop, u.ID), url.Values{})
	if n := len(subs["data"].([]any)); n != 1 {
		t.Fatalf("the customer has %d subscriptions, want 1", n)
	}

	// A card that attaches but cannot be charged; the renewal fails: past_due, then unpaid.
	if page := getURL(t, portal.URL); !strings.Contains(page, "Cancel at period end") || !strings.Contains(page, "Membership, yearly") {
		t.Errorf("the portal page offers no cancel or plan switch:\n%s", page)
	}
	portalPost(t, portal.URL, "card", simCardForm("", "4000000000000341"))
	advance := "/v1/test_helpers/subscriptions/" + m.SubscriptionID + "/advance"
	shop.simAPI(t, http.MethodPost, advance, url.Values{})
	waitMembership(t, c, "past_due")
	if percent, _ := shop.db.MemberDiscount(ctx, u.ID); percent != 10 {
		t.Errorf("a past-due member's discount is %d%%, want 10%% while the renewal is retried", percent)
	}
	shop.simAPI(t, http.MethodPost, advance, url.Values{})
	shop.simAPI(t, http.MethodPost, advance, url.Values{})
	waitMembership(t, c, "unpaid")
	if percent, _ := shop.db.MemberDiscount(ctx, u.ID); percent != 0 {
		t.Errorf("an unpaid member's discount is %d%%, want none", percent)
	}
	mails, err := shop.db.ListMail(ctx, store.MailPending, 10)
	if err != nil {
		t.Fatal(err)
	}
	renewals := 0
	for _, mail := range mails {
		if mail.Kind == store.MailRenewalFailed && mail.To == "member@example.com" {
			renewals++
		}
	}
	if renewals != 1 {
		t.Errorf("%d renewal-failed mails queued, want one for the one invoice", renewals)
	}

	// A good card pays the open invoice at once.
	portalPost(t, portal.URL, "card", simCardForm("", "4242424242424242"))
	a = waitMembership(t, c, "active")
	end2, _ := time.Parse(time.RFC3339, *a.Subscription.CurrentPeriodEnd)
	if !end2.After(end) {
		t.Errorf("after the renewal the period ends %s, want after %s", end2, end)
	}

	// Cancel at period end, then let the clock reach it: the membership ends.
	portalPost(t, portal.URL, "cancel", url.Values{"subscription": {m.SubscriptionID}})
	waitFor(t, "cancel at period end", func() bool {
		a := accountOf(t, c)
		return a.Subscription != nil && a.Subscription.CancelAtPeriodEnd
	})
	shop.simAPI(t, http.MethodPost, advance, url.Values{})
	waitMembership(t, c, "canceled")
	if page := c.get("/account").body; strings.Contains(page, `class="member-badge"`) {
		t.Errorf("an ended membership still shows the badge")
	}
	// Joining again starts a new checkout, not the first one's (paid) session.
	res = shop.subscribeThroughSimulator(t, c, "member@example.com", "yearly", "4242424242424242")
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("joining again: pay answered %d:\n%s", res.StatusCode, res.body)
	}
	if a := waitMembership(t, c, "active"); a.Subscription.Plan != "yearly" {
		t.Errorf("after joining again the plan is %q, want yearly", a.Subscription.Plan)
	}
}

func customerOf(t *testing.T, shop *simShop, userID int64) string {
	t.Helper()
	c, err := shop.db.ReserveCustomer(context.Background(), userID)
	if err != nil || c.CustomerID == "" {
		t.Fatalf("user %d has no customer (%v)", userID, err)
	}
	return c.CustomerID
}

// TestMembershipDoubleSubscribe: a burst of subscribe clicks makes one customer and one
// Checkout Session, so paying can make only one subscription.
func TestMembershipDoubleSubscribe(t *testing.T) {
	shop := newSimulatedShop(t, 0)
	c := shop.client()
	u := c.signup("twice@example.com")
	const clicks = 6
	sessions := make([]string, clicks)
	var wg sync.WaitGroup
	for i := range clicks {
		wg.Go(func() {
			res := c.post("/membership/checkout", url.Values{"plan": {"monthly"}}, "Accept", "application/json")
			var out struct{ SessionID string }
			json.Unmarshal([]byte(res.body), &out)
			sessions[i] = out.SessionID
		})
	}
	wg.Wait()
	for _, id := range sessions {
		if id == "" || id != sessions[0] {
			t.Fatalf("concurrent subscribes got sessions %q, want one", sessions)
		}
	}
	customer := customerOf(t, shop, u.ID)
	list := shop.simAPI(t, http.MethodGet, "/v1/customers?email=twice@example.com", url.Values{})
	if n := len(list["data"].([]any)); n != 1 {
		t.Errorf("the provider has %d customers for the user, want 1", n)
	}
	payURL := shop.sim.URL() + "/c/pay/" + sessions[0]
	var pays sync.WaitGroup
	for range 2 {
		pays.Go(func() { simPay(t, payURL, simCardForm("twice@example.com", "4242424242424242")) })
	}
	pays.Wait()
	waitMembership(t, c, "active")
	subs := shop.simAPI(t, http.MethodGet, "/v1/subscriptions?customer="+customer, url.Values{})
	if n := len(subs["data"].([]any)); n != 1 {
		t.Errorf("the customer has %d subscriptions, want 1", n)
	}
}

// TestMembershipCheckoutRefusals: bad plans and logged-out visitors change nothing.
func TestMembershipCheckoutRefusals(t *testing.T) {
	shop := newSimulatedShop(t, 0)
	anon := shop.client()
	if res := anon.post("/membership/checkout", url.Values{"plan": {"monthly"}}); res.StatusCode != http.StatusSeeOther ||
		!strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Errorf("logged out: status %d Location %q, want 303 to /login", res.StatusCode, res.Header.Get("Location"))
	}
	c := shop.client()
	u := c.signup("picky@example.com")
	for _, plan := range []string{"", "weekly", "monthly'--"} {
		res := c.post("/membership/checkout", url.Values{"plan": {plan}}, "Accept", "application/json")
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.body, "monthly or the yearly") {
			t.Errorf("plan %q: status %d %s, want 400 naming the plans", plan, res.StatusCode, res.body)
		}
	}
	if c, _ := shop.db.ReserveCustomer(context.Background(), u.ID); c.CustomerID != "" {
		t.Errorf("a refused subscribe created customer %s", c.CustomerID)
	}
	if res := c.post("/membership/portal", nil, "Accept", "application/json"); res.StatusCode != http.StatusConflict {
		t.Errorf("portal without a membership: status %d, want 409", res.StatusCode)
	}
	if page := c.get("/membership").body; !strings.Contains(page, "Membership, monthly") || !strings.Contains(page, "$5.00") {
		t.Errorf("the plans page does not offer the monthly plan at $5.00:\n%s", page)
	}
}
