package handlers

import (
	"context"
	"errors"
	"net/http"

	"storefront/components"
	"storefront/payments"
	"storefront/store"
)

// MembershipGateway is the payment provider as memberships need it (payments.Gateway).
type MembershipGateway interface {
	CreateCustomer(ctx context.Context, req payments.CustomerRequest) (string, error)
	PlanPrices(ctx context.Context, plans []payments.PlanPrice) (map[string]string, error)
	CreateSubscriptionCheckout(ctx context.Context, req payments.SubscriptionCheckoutRequest) (payments.CheckoutSession, error)
	CreatePortalSession(ctx context.Context, customer, returnURL string) (string, error)
	ExpireCheckoutSession(ctx context.Context, id string) error
}

// memberships is the provider's membership side: the payment gateway itself, when it offers
// one (payments.Gateway does), so no extra wiring is needed; nil when it does not.
func (s *server) memberships() MembershipGateway {
	g, _ := s.Payments.(MembershipGateway)
	return g
}

const membershipUnavailable = "We could not reach our payment provider, so nothing was charged. Please try again in a moment."

// isMember reports whether the user gets the membership's perks now (for the header badge).
func (s *server) isMember(ctx context.Context, userID int64) bool {
	return s.discountOf(ctx, userID) > 0
}

// memberDiscount is the visitor's discount in percent: 0 for guests and non-members.
func (s *server) memberDiscount(ctx context.Context, v *visitor) int {
	if v.user == nil {
		return 0
	}
	return s.discountOf(ctx, v.user.ID)
}

// bestPlanDiscount is the largest discount a plan gives, to offer non-members in the cart.
func (s *server) bestPlanDiscount(ctx context.Context) int {
	plans, err := s.Store.Plans(ctx)
	if err != nil {
		s.Logger.Error("list plans", "error", err)
		return 0
	}
	best := 0
	for _, p := range plans {
		best = max(best, p.DiscountPercent)
	}
	return best
}

func (s *server) discountOf(ctx context.Context, userID int64) int {
	percent, err := s.Store.MemberDiscount(ctx, userID)
	if err != nil {
		s.Logger.Error("read member discount", "error", err, "user_id", userID)
		return 0
	}
	return percent
}

// handleMembership shows the plans, or a member's way to manage their membership.
func (s *server) handleMembership() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := s.visitorOf(r)
		plans, err := s.Store.Plans(r.Context())
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		var m components.Membership
		if v.user != nil {
			sm, err := s.Store.MembershipOf(r.Context(), v.user.ID)
			if err != nil {
				s.serverError(w, r, err)
				return
			}
			m = membershipView(sm)
		}
		views := make([]components.Plan, len(plans))
		for i, p := range plans {
			views[i] = components.Plan{Code: p.Code, Name: p.Name, Interval: p.Interval, Amount: p.Amount, Currency: p.Currency, DiscountPercent: p.DiscountPercent}
		}
		s.render(w, r, http.StatusOK, components.MembershipPage(s.page(r.Context(), v, "Membership"), views, m, v.user != nil))
	}
}

// handleMembershipCheckout starts a membership: Checkout in subscription mode for the user's
// one Stripe Customer. A user with a subscription to manage is sent to the portal instead, and
// concurrent requests share one Checkout Session (store.StartMembershipCheckout), so a double
// click cannot make two subscriptions.
func (s *server) handleMembershipCheckout() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, ok := s.requireUser(w, r)
		if !ok {
			return
		}
		ctx := r.Context()
		plan, err := s.Store.PlanByCode(ctx, r.PostFormValue("plan"))
		if errors.Is(err, store.ErrNotFound) {
			s.errorPage(w, r, http.StatusBadRequest, "Choose a plan", "Choose the monthly or the yearly plan.")
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		gw := s.memberships()
		if gw == nil {
			s.errorPage(w, r, http.StatusServiceUnavailable, "Memberships are unavailable", "Memberships are not available at the moment.")
			return
		}
		m, err := s.Store.MembershipOf(ctx, v.user.ID)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if m.Manageable() {
			s.Logger.Info("already a member; sent to the portal", "user_id", v.user.ID, "subscription_id", m.SubscriptionID)
			s.openPortal(w, r, v)
			return
		}
		if s.tooManyCheckouts(w, r) {
			return
		}
		customer, err := s.customerFor(ctx, v)
		if err != nil {
			s.Logger.Error("create customer", "error", err, "user_id", v.user.ID, "stripe_request_id", payments.RequestID(err))
			s.errorPage(w, r, http.StatusBadGateway, "Membership checkout is unavailable", membershipUnavailable)
			return
		}
		c, err := s.Store.StartMembershipCheckout(ctx, v.user.ID, plan.Code)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if c.Superseded != "" {
			// Another plan's checkout was open: close it, so that only one can be paid.
			if err := gw.ExpireCheckoutSession(context.WithoutCancel(ctx), c.Superseded); err != nil {
				s.Logger.Warn("expire superseded membership checkout", "error", err, "session_id", c.Superseded)
			}
		}
		if c.URL != "" {
			s.Logger.Info("membership checkout reused", "user_id", v.user.ID, "session_id", c.SessionID)
			s.checkoutStarted(w, r, c.SessionID, c.URL)
			return
		}
		s.countCheckout(r)
		prices, err := s.planPrices(ctx, gw)
		if err != nil {
			s.Logger.Error("price membership plans", "error", err, "stripe_request_id", payments.RequestID(err))
			s.errorPage(w, r, http.StatusBadGateway, "Membership checkout is unavailable", membershipUnavailable)
			return
		}
		cs, err := gw.CreateSubscriptionCheckout(ctx, payments.SubscriptionCheckoutRequest{
			UserID: v.user.ID, Customer: customer, Plan: plan.Code, Price: prices[plan.Code], IdempotencyKey: c.IdempotencyKey(),
			SuccessURL: s.BaseURL.JoinPath("/account").String() + "?joined=1",
			CancelURL:  s.BaseURL.JoinPath("/membership").String(),
		})
		if err != nil {
			s.Logger.Error("create membership checkout", "error", err, "user_id", v.user.ID, "stripe_request_id", payments.RequestID(err))
			s.errorPage(w, r, http.StatusBadGateway, "Membership checkout is unavailable", membershipUnavailable)
			return
		}
		err = s.Store.AttachMembershipCheckout(ctx, c, cs.ID, cs.URL, cs.ExpiresAt)
		if errors.Is(err, store.ErrConflict) {
			// The user chose another plan meanwhile, in another tab: this session must not be paid.
			if xerr := gw.ExpireCheckoutSession(context.WithoutCancel(ctx), cs.ID); xerr != nil {
				s.Logger.Warn("expire replaced membership checkout", "error", xerr, "session_id", cs.ID)
			}
			s.errorPage(w, r, http.StatusConflict, "Another plan was chosen", "You chose another plan in another window; continue there, or try again.")
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.Logger.Info("membership checkout started", "user_id", v.user.ID, "plan", plan.Code, "session_id", cs.ID)
		s.checkoutStarted(w, r, cs.ID, cs.URL)
	}
}

// planPrices prices every plan at the provider (once per process), so that the Billing Portal
// can offer switching between them.
func (s *server) planPrices(ctx context.Context, gw MembershipGateway) (map[string]string, error) {
	plans, err := s.Store.Plans(ctx)
	if err != nil {
		return nil, err
	}
	pp := make([]payments.PlanPrice, len(plans))
	for i, p := range plans {
		pp[i] = payments.PlanPrice{Code: p.Code, Name: p.Name, Interval: p.Interval, Amount: p.Amount, Currency: p.Currency}
	}
	return gw.PlanPrices(ctx, pp)
}

// customerFor returns the user's Stripe Customer, creating it once: the row is reserved first
// and the creation's idempotency key comes from it, so racing requests get the same customer.
func (s *server) customerFor(ctx context.Context, v *visitor) (string, error) {
	c, err := s.Store.ReserveCustomer(ctx, v.user.ID)
	if err != nil || c.CustomerID != "" {
		return c.CustomerID, err
	}
	id, err := s.memberships().CreateCustomer(ctx, payments.CustomerRequest{UserID: v.user.ID, Email: v.user.Email, IdempotencyKey: c.IdempotencyKey()})
	if err != nil {
		return "", err
	}
	if err := s.Store.SetCustomer(ctx, v.user.ID, id); err != nil {
		return "", err
	}
	return id, nil
}

// handleMembershipPortal sends a member to the Billing Portal to cancel, resume, change card
// or switch plan.
func (s *server) handleMembershipPortal() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, ok := s.requireUser(w, r)
		if !ok {
			return
		}
		s.openPortal(w, r, v)
	}
}

// openPortal answers with a Billing Portal session for the user's customer, in the shape the
// client asked for (JSON {"url"}, an htmx redirect, or a 303).
func (s *server) openPortal(w http.ResponseWriter, r *http.Request, v *visitor) {
	ctx := r.Context()
	gw := s.memberships()
	c, err := s.Store.ReserveCustomer(ctx, v.user.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if gw == nil || c.CustomerID == "" {
		s.errorPage(w, r, http.StatusConflict, "No membership to manage", "You have no membership to manage yet. Choose a plan to join.")
		return
	}
	url, err := gw.CreatePortalSession(ctx, c.CustomerID, s.BaseURL.JoinPath("/account").String())
	if err != nil {
		s.Logger.Error("create billing portal session", "error", err, "user_id", v.user.ID, "stripe_request_id", payments.RequestID(err))
		s.errorPage(w, r, http.StatusBadGateway, "Membership settings are unavailable", membershipUnavailable)
		return
	}
	switch {
	case wantsJSON(r):
		s.writeJSON(w, r, http.StatusOK, map[string]string{"url": url})
	default:
		redirect(w, r, url)
	}
}

// membershipView is the account page's view of a membership.
func membershipView(m store.Membership) components.Membership {
	view := components.Membership{Status: string(m.Status), PlanName: m.Plan.Name, PlanInterval: m.Plan.Interval,
		CurrentPeriodEnd: m.CurrentPeriodEnd, CancelAtPeriodEnd: m.CancelAtPeriodEnd, DiscountPercent: m.Plan.DiscountPercent}
	for _, in := range m.Invoices {
		view.Invoices = append(view.Invoices, components.Invoice{Paid: in.Paid, Amount: in.Amount, Currency: in.Currency,
			PeriodEnd: in.PeriodEnd, Created: in.Created, URL: in.HostedURL})
	}
	return view
}

// subscriptionJSON is the account JSON's "subscription": null for a user who never subscribed.
type subscriptionJSON struct {
	Status            string  `json:"status"`
	Plan              string  `json:"plan"`
	CurrentPeriodEnd  *string `json:"currentPeriodEnd"`
	CancelAtPeriodEnd bool    `json:"cancelAtPeriodEnd"`
}

func subscriptionOf(m store.Membership) any {
	if !m.Exists() {
		return nil
	}
	out := subscriptionJSON{Status: string(m.Status), Plan: m.Plan.Code, CancelAtPeriodEnd: m.CancelAtPeriodEnd}
	if !m.CurrentPeriodEnd.IsZero() {
		end := m.CurrentPeriodEnd.UTC().Format("2006-01-02T15:04:05Z")
		out.CurrentPeriodEnd = &end
	}
	return out
}
