package simulator

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"time"
)

// billingRoutes serves the billing API beside the Checkout API.
func (s *Simulator) billingRoutes(api *http.ServeMux) {
	api.HandleFunc("POST /v1/customers", s.idempotent(s.apiCreateCustomer))
	api.HandleFunc("GET /v1/customers", s.api(s.apiListCustomers))
	api.HandleFunc("GET /v1/customers/{id}", s.api(s.apiGetCustomer))
	api.HandleFunc("POST /v1/prices", s.idempotent(s.apiCreatePrice))
	api.HandleFunc("GET /v1/prices", s.api(s.apiListPrices))
	api.HandleFunc("GET /v1/prices/{id}", s.api(s.apiGetPrice))
	api.HandleFunc("GET /v1/subscriptions", s.api(s.apiListSubscriptions))
	api.HandleFunc("GET /v1/subscriptions/{id}", s.api(s.apiGetSubscription))
	api.HandleFunc("GET /v1/invoices/{id}", s.api(s.apiGetInvoice))
	api.HandleFunc("POST /v1/billing_portal/sessions", s.idempotent(s.apiCreatePortalSession))
	api.HandleFunc("POST /v1/test_helpers/subscriptions/{id}/advance", s.idempotent(s.apiAdvanceSubscription))
}

// portalRoutes serves the Billing Portal's hosted page and the dev page's test clock.
func (s *Simulator) portalRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /p/session/{id}", s.handlePortalPage)
	mux.HandleFunc("POST /p/session/{id}/{action}", s.handlePortalAction)
	mux.HandleFunc("POST /dev/renew/{id}", s.handleDevRenew)
}

// portalLifetime is how long a portal link works, as Stripe's short-lived sessions do.
const portalLifetime = time.Hour

// portalView is the Billing Portal page.
type portalView struct {
	Action     string // the page's own path, which its forms post to
	ReturnURL  string
	Email      string
	Card       string // "Visa •••• 4242 (12/34)"; "" without a card
	Subs       []portalSub
	CardForm   payForm
	Notice     string
	Cards      []optionView
	ShowCardUI bool // the card form is open: there is no card, or one failed, or the member asked
}

type portalSub struct {
	ID                string
	Name              string
	Price             string
	Status            string
	PeriodEnd         string
	CancelAtPeriodEnd bool
	Switches          []portalPrice
	Live              bool // not canceled: it can be managed
}

type portalPrice struct {
	ID    string
	Label string
}

// portalCustomer finds the customer a portal link is for; errNoBillingObject when the link is
// unknown or too old.
func (s *Simulator) portalCustomer(ctx context.Context, id string) (*customer, string, error) {
	var customerID, returnURL string
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT customer, return_url, created FROM portal_sessions WHERE id = ?`, id).Scan(&customerID, &returnURL, &created)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && s.now().Sub(time.Unix(created, 0)) > portalLifetime) {
		return nil, "", errNoBillingObject
	}
	if err != nil {
		return nil, "", err
	}
	c, err := loadCustomer(ctx, s.db, customerID)
	return c, returnURL, err
}

func (s *Simulator) portalView(ctx context.Context, id string, c *customer, returnURL string) (portalView, error) {
	v := portalView{Action: "/p/session/" + id, ReturnURL: returnURL, Email: c.Email, CardForm: payForm{Errors: map[string]string{}}}
	if card, ok := cardOf(c); ok {
		v.Card = card.brand + " •••• " + card.number[len(card.number)-4:] + " (" + c.CardExp + ")"
	}
	for _, card := range testCards {
		if attaches(card) {
			v.Cards = append(v.Cards, optionView{Number: groupDigits(card.number), Label: card.label})
		}
	}
	subs, err := subscriptionsWhere(ctx, s.db, "customer = ?", c.ID)
	if err != nil {
		return v, err
	}
	for _, sub := range subs {
		pr, err := loadPrice(ctx, s.db, sub.Price)
		if err != nil {
			return v, err
		}
		ps := portalSub{ID: sub.ID, Name: pr.ProductName, Price: formatMoney(pr.UnitAmount, pr.Currency) + perInterval(pr.Interval),
			Status: sub.Status, PeriodEnd: time.Unix(sub.PeriodEnd, 0).UTC().Format("2 January 2006"),
			CancelAtPeriodEnd: sub.CancelAtPeriodEnd, Live: sub.Status != subCanceled}
		others, err := recurringPrices(ctx, s.db, pr.Currency)
		if err != nil {
			return v, err
		}
		for _, o := range others {
			if o.ID != pr.ID {
				ps.Switches = append(ps.Switches, portalPrice{ID: o.ID, Label: o.ProductName + ", " + formatMoney(o.UnitAmount, o.Currency) + perInterval(o.Interval)})
			}
		}
		if sub.Status == subPastDue || sub.Status == subUnpaid {
			v.ShowCardUI = true
		}
		v.Subs = append(v.Subs, ps)
	}
	if v.Card == "" {
		v.ShowCardUI = true
	}
	return v, nil
}

// handlePortalPage shows the customer's subscriptions with what they can do about them.
func (s *Simulator) handlePortalPage(w http.ResponseWriter, r *http.Request) {
	s.renderPortal(w, r, http.StatusOK, payForm{Errors: map[string]string{}}, portalNotices[r.URL.Query().Get("done")])
}

func (s *Simulator) renderPortal(w http.ResponseWriter, r *http.Request, status int, form payForm, notice string) {
	id := r.PathValue("id")
	c, returnURL, err := s.portalCustomer(r.Context(), id)
	if errors.Is(err, errNoBillingObject) {
		s.render(w, r, http.StatusNotFound, statusPage(statusView{Title: "This link has expired",
			Message: "Billing portal links work for an hour. Go back to the shop and open your membership settings again."}))
		return
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	v, err := s.portalView(r.Context(), id, c, returnURL)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	v.Notice, v.CardForm = notice, form
	if len(form.Errors) > 0 {
		v.ShowCardUI = true
	}
	s.render(w, r, status, portalPage(v))
}

// portalNotices are the confirmations a portal action redirects back with (post/redirect/get).
var portalNotices = map[string]string{
	"cancel": "Your subscription will end at the end of the current period.",
	"resume": "Your subscription will renew as before.",
	"card":   "Your card is updated.",
	"switch": "Your plan is changed.",
}

// handlePortalAction takes the portal's forms: cancel, resume, card (card_number, expiry, cvc)
// and switch (price). Each answers with a redirect back to the page, which says what happened.
func (s *Simulator) handlePortalAction(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, action := r.PathValue("id"), r.PathValue("action")
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		s.render(w, r, http.StatusBadRequest, statusPage(statusView{Title: "Bad request", Message: "The form could not be read. Go back and try again."}))
		return
	}
	c, _, err := s.portalCustomer(ctx, id)
	if err != nil {
		s.renderPortal(w, r, http.StatusNotFound, payForm{Errors: map[string]string{}}, "")
		return
	}
	var sub *subscription
	if action != "card" {
		sub, err = loadSubscription(ctx, s.db, r.PostForm.Get("subscription"))
		if err != nil || sub.Customer != c.ID {
			s.renderPortal(w, r, http.StatusBadRequest, payForm{Errors: map[string]string{}}, "That subscription is not yours to change.")
			return
		}
	}
	switch action {
	case "cancel", "resume":
		err = s.setCancelAtPeriodEnd(ctx, sub, action == "cancel")
	case "switch":
		err = s.switchPrice(ctx, sub, r.PostForm.Get("price"))
		if errors.Is(err, errNoBillingObject) {
			s.renderPortal(w, r, http.StatusBadRequest, payForm{Errors: map[string]string{}}, "Choose one of the plans listed.")
			return
		}
	case "card":
		form := readPayForm(r.PostForm)
		form.Email, form.Method = c.Email, methodCard // the portal asks only for the card
		if form.Email == "" {
			form.Email = "customer@example.com" // only to pass the form's check: the card is what is saved
		}
		p, _ := form.validate(r.PostForm.Get("cvc"), s.now(), false)
		if len(form.Errors) == 0 && !attaches(p.card) {
			form.Errors["card_number"] = p.card.message + " Try another card."
		}
		if len(form.Errors) > 0 {
			s.renderPortal(w, r, http.StatusUnprocessableEntity, form, "")
			return
		}
		err = s.updateCard(ctx, c.ID, p)
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.log.Info("billing portal action", "action", action, "customer", c.ID)
	http.Redirect(w, r, "/p/session/"+id+"?done="+action, http.StatusSeeOther)
}

// handleDevRenew is the dev page's test clock: "Advance to next renewal".
func (s *Simulator) handleDevRenew(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	sub, err := s.advance(r.Context(), id)
	switch {
	case errors.Is(err, errNoBillingObject):
		s.renderDev(w, r, http.StatusNotFound, "No such subscription: "+id)
	case errors.Is(err, errNothingToBill):
		s.renderDev(w, r, http.StatusBadRequest, "Subscription "+id+" is "+sub.Status+": it has no renewal or retry to bill.")
	case err != nil:
		s.pageError(w, r, err)
	default:
		s.log.Info("subscription advanced to its next renewal", "subscription", id, "status", sub.Status)
		http.Redirect(w, r, "/", http.StatusSeeOther)
	}
}

// devSubscription is one row of the dev page's subscriptions table.
type devSubscription struct {
	ID        string
	Email     string
	Plan      string
	Status    string
	PeriodEnd string
	Card      string
	CanRenew  bool
}

// devSubscriptions lists recent subscriptions for the dev page.
func (s *Simulator) devSubscriptions(ctx context.Context) ([]devSubscription, error) {
	subs, err := subscriptionsWhere(ctx, s.db, "1")
	if err != nil {
		return nil, err
	}
	var out []devSubscription
	for _, sub := range subs {
		pr, err := loadPrice(ctx, s.db, sub.Price)
		if err != nil {
			return nil, err
		}
		c, err := loadCustomer(ctx, s.db, sub.Customer)
		if err != nil {
			return nil, err
		}
		row := devSubscription{ID: sub.ID, Email: c.Email, Plan: pr.ProductName + ", " + formatMoney(pr.UnitAmount, pr.Currency) + perInterval(pr.Interval),
			Status: sub.Status, PeriodEnd: time.Unix(sub.PeriodEnd, 0).UTC().Format("2006-01-02"),
			CanRenew: sub.Status == subActive || sub.Status == subPastDue}
		if sub.CancelAtPeriodEnd && sub.Status == subActive {
			row.Status += " (ends at period end)"
		}
		if card, ok := cardOf(c); ok {
			row.Card = "•••• " + card.number[len(card.number)-4:]
		}
		out = append(out, row)
	}
	return out, nil
}
