package simulator

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/a-h/templ"
)

// maxFormBody bounds hosted-page form posts, which are a few hundred bytes.
const maxFormBody = 64 << 10

// pageCSP allows only the simulator's own files: no inline script or style anywhere.
const pageCSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

// checkoutView is everything the hosted payment page shows.
type checkoutView struct {
	Action    string
	CancelURL string
	Items     []itemView
	Total     string
	Form      payForm
	Declined  string
	BankLabel string // the currency's bank debit, e.g. "SEPA Direct Debit"; "" when it has none
	Cards     []optionView
	Accounts  []optionView
	Interval  string // subscription mode: "month" or "year"; "" for a one-time payment
}

type itemView struct {
	Name        string
	Description string
	Quantity    int64
	UnitPrice   string
	Amount      string
}

type optionView struct {
	Number string
	Label  string
}

// statusView is a plain page saying why a session cannot be paid.
type statusView struct {
	Title    string
	Message  string
	LinkURL  string
	LinkText string
}

func (s *Simulator) checkoutView(sess *session, form payForm) checkoutView {
	v := checkoutView{
		Action: "/c/pay/" + sess.ID,
		Total:  formatMoney(sess.AmountTotal, sess.Currency),
		Form:   form,
	}
	if b, ok := bankMethods[sess.Currency]; ok && sess.Billing == nil {
		v.BankLabel = b.Label
	}
	if sess.Billing != nil && len(sess.LineItems) > 0 {
		// Subscription mode: the page shows the plan and its interval, and says "Subscribe".
		v.Interval = sess.LineItems[0].Interval
	}
	if sess.CancelURL != nil {
		v.CancelURL = *sess.CancelURL
	}
	for _, li := range sess.LineItems {
		v.Items = append(v.Items, itemView{
			Name: li.Name, Description: li.Description, Quantity: li.Quantity,
			UnitPrice: formatMoney(li.UnitAmount, li.Currency) + perInterval(li.Interval), Amount: formatMoney(li.amount(), li.Currency),
		})
	}
	for _, c := range testCards {
		v.Cards = append(v.Cards, optionView{Number: groupDigits(c.number), Label: c.label})
	}
	for _, a := range testAccounts {
		v.Accounts = append(v.Accounts, optionView{Number: a.number, Label: a.label})
	}
	return v
}

// pageSession loads a session for a hosted page, expiring it first if its time is up.
func (s *Simulator) pageSession(ctx context.Context, id string) (*session, error) {
	sess, err := loadSession(ctx, s.db, "id", id)
	if err != nil {
		return nil, err
	}
	if sess.Status == statusOpen && !s.now().Before(sess.ExpiresAt) {
		expired, err := s.expireSession(ctx, id, origin{})
		if err != nil && !errors.Is(err, errNotOpen) {
			return nil, err
		}
		if expired != nil {
			sess = expired
		}
	}
	return sess, nil
}

// handlePayPage shows the payment form: empty, or as a failed attempt left it when the URL names
// one (?attempt=…), with its errors or decline message.
func (s *Simulator) handlePayPage(w http.ResponseWriter, r *http.Request) {
	sess, err := s.pageSession(r.Context(), r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if sess.Status != statusOpen {
		s.renderClosed(w, r, sess)
		return
	}
	form := payForm{Method: methodCard, Errors: map[string]string{}}
	if sess.CustomerEmail != nil {
		form.Email = *sess.CustomerEmail
	}
	if b := sess.Billing; b != nil && b.Customer != "" {
		// Checkout shows the customer's own email when the session names a customer.
		if c, err := loadCustomer(r.Context(), s.db, b.Customer); err == nil {
			form.Email = c.Email
		}
	}
	declined := ""
	if fa, ok := s.attempts.get(r.URL.Query().Get("attempt"), sess.ID, time.Now()); ok {
		form, declined = fa.form, fa.declined
	}
	v := s.checkoutView(sess, form)
	v.Declined = declined
	s.render(w, r, http.StatusOK, checkoutPage(v))
}

// handlePay takes the plain form POST from the hosted page: fields email, method, card_number,
// expiry, cvc, account_number. Every answer is a redirect (post/redirect/get): to the shop on
// success, else back to the page, which shows what went wrong, so Back and reload never resubmit.
func (s *Simulator) handlePay(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		s.render(w, r, http.StatusBadRequest, statusPage(statusView{Title: "Bad request", Message: "The payment form could not be read. Go back and try again."}))
		return
	}
	sess, err := s.pageSession(ctx, id)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if sess.Status != statusOpen {
		s.renderClosed(w, r, sess)
		return
	}
	form := readPayForm(r.PostForm)
	_, banks := bankMethods[sess.Currency]
	banks = banks && sess.Billing == nil // Checkout starts subscriptions by card only
	p, ok := form.validate(r.PostForm.Get("cvc"), s.now(), banks)
	if !ok {
		s.retry(w, r, failedAttempt{sessionID: id, form: form})
		return
	}
	res, err := s.confirm(ctx, id, p)
	if errors.Is(err, errNotOpen) {
		s.renderClosed(w, r, res.sess)
		return
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if res.declined != "" {
		s.log.Info("simulated card declined", "session_id", id)
		s.retry(w, r, failedAttempt{sessionID: id, form: form, declined: res.declined})
		return
	}
	s.log.Info("simulated checkout completed", "session_id", id, "method", p.method, "payment_status", res.sess.PaymentStatus)
	http.Redirect(w, r, successURL(res.sess), http.StatusSeeOther)
}

// retry sends the customer back to the payment page to show a failed attempt.
func (s *Simulator) retry(w http.ResponseWriter, r *http.Request, fa failedAttempt) {
	fa.at = time.Now()
	token := s.attempts.put(fa)
	http.Redirect(w, r, "/c/pay/"+fa.sessionID+"?attempt="+token, http.StatusSeeOther)
}

// successURL fills in Stripe's {CHECKOUT_SESSION_ID} template variable.
func successURL(sess *session) string {
	return strings.ReplaceAll(sess.SuccessURL, "{CHECKOUT_SESSION_ID}", sess.ID)
}

// renderClosed answers for a session that can no longer be paid. A completed one sends a second
// submission (a double click) on to the shop, as the first one was.
func (s *Simulator) renderClosed(w http.ResponseWriter, r *http.Request, sess *session) {
	switch {
	case sess.Status == statusComplete && r.Method == http.MethodPost:
		http.Redirect(w, r, successURL(sess), http.StatusSeeOther)
	case sess.Status == statusComplete:
		s.render(w, r, http.StatusOK, statusPage(statusView{
			Title:    "This payment is already complete",
			Message:  "This checkout session has already been paid for (or its bank transfer is under way). Nothing more to do here.",
			LinkURL:  successURL(sess),
			LinkText: "Return to the shop",
		}))
	default:
		v := statusView{
			Title:   "This checkout session has expired",
			Message: "This checkout session has expired, so it can no longer be paid. Go back to the shop and check out again.",
		}
		if sess.CancelURL != nil {
			v.LinkURL, v.LinkText = *sess.CancelURL, "Return to the shop"
		}
		s.render(w, r, http.StatusGone, statusPage(v))
	}
}

func (s *Simulator) pageError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errNoSession) {
		s.render(w, r, http.StatusNotFound, statusPage(statusView{
			Title:   "Checkout session not found",
			Message: "There is no checkout session at this address. Check the link, or go back to the shop and check out again.",
		}))
		return
	}
	s.log.Error("hosted checkout page failed", "error", err, "session_id", r.PathValue("id"))
	s.render(w, r, http.StatusInternalServerError, statusPage(statusView{
		Title:   "Something went wrong",
		Message: "The checkout simulator could not handle this request. Its log says why.",
	}))
}

// render writes a page with the simulator's security headers, buffering so an error never leaves half a page.
func (s *Simulator) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	s.renderFrame(w, r, status, "", c)
}

// describedBy lists the ids that describe a field in error: its hint, if any, then the error.
func describedBy(f fieldView) string {
	if f.Hint != "" {
		return "f-" + f.Name + "-hint f-" + f.Name + "-error"
	}
	return "f-" + f.Name + "-error"
}
