package simulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/a-h/templ"
)

// The Stripe.js stand-in: GET /v3/ is a script with the calls a shop's payment page makes
// (Stripe(pk), elements, create('payment'), mount, confirmPayment, retrievePaymentIntent). The
// Payment Element is a frame from this origin that talks to the shop's page by postMessage, and
// 3-D Secure is a second frame over the page, as with Stripe.

// elementView is what the Payment Element's frame shows.
type elementView struct {
	Origin       string // the shop page's origin, the only one the frame talks to
	ClientSecret string
	BankLabel    string
	Cards        []optionView
	Accounts     []optionView
}

// authView is the 3-D Secure challenge of one intent.
type authView struct {
	ID           string
	ClientSecret string
	Origin       string // "" when the challenge is a full page reached by redirect_to_url
	Amount       string
	Last4        string
}

// handleStripeJS serves the stand-in script at the URL a shop loads it from.
func (s *Simulator) handleStripeJS(w http.ResponseWriter, r *http.Request) {
	b, err := staticFiles.ReadFile("static/stripe-v3.js")
	if err != nil {
		http.Error(w, "script missing", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	w.Write(b)
}

// frameOrigin reads the origin of the page embedding a frame: an http(s) origin and nothing more.
func frameOrigin(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", false
	}
	o := u.Scheme + "://" + u.Host
	return o, o == raw
}

// browserIntent loads the intent a client secret names, refusing a wrong secret as not found.
func (s *Simulator) browserIntent(ctx context.Context, id, secret string) (*intent, error) {
	if id == "" || intentIDFromSecret(secret) != id {
		return nil, errNoIntent
	}
	in, err := loadIntent(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	if !in.secretMatches(secret) {
		return nil, errNoIntent
	}
	return in, nil
}

// handleElementFrame renders the Payment Element for ?client_secret=…&origin=….
func (s *Simulator) handleElementFrame(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	origin, ok := frameOrigin(q.Get("origin"))
	if !ok {
		http.Error(w, "The Payment Element needs the origin of the page it is mounted on.", http.StatusBadRequest)
		return
	}
	secret := q.Get("client_secret")
	in, err := s.browserIntent(r.Context(), intentIDFromSecret(secret), secret)
	if err != nil {
		s.frameError(w, r, err)
		return
	}
	v := elementView{Origin: origin, ClientSecret: secret}
	if b, ok := bankMethods[in.Currency]; ok && slices.Contains(in.MethodTypes, b.Type) {
		v.BankLabel = b.Label
	}
	for _, c := range elementCards {
		v.Cards = append(v.Cards, optionView{Number: groupDigits(c.number), Label: c.label})
	}
	for _, a := range testAccounts {
		v.Accounts = append(v.Accounts, optionView{Number: a.number, Label: a.label})
	}
	s.renderFrame(w, r, http.StatusOK, origin, elementPage(v))
}

// clientError is the error Stripe.js hands a page: a card decline, or what is wrong with a field.
type clientError struct {
	Type        string            `json:"type"`
	Code        string            `json:"code,omitempty"`
	DeclineCode string            `json:"decline_code,omitempty"`
	Message     string            `json:"message"`
	Param       string            `json:"param,omitempty"`
	Fields      map[string]string `json:"fields,omitempty"` // every field in error, for the element to mark
}

// elementAnswer is what the element's frame receives from a confirm.
type elementAnswer struct {
	PaymentIntent *paymentIntentJSON `json:"paymentIntent,omitempty"`
	Error         *clientError       `json:"error,omitempty"`
}

// handleElementConfirm confirms the intent with what the customer typed into the element's
// frame (fields client_secret, method, card_number, expiry, cvc, account_number). It answers
// the intent after the attempt, declined or not; only a form in error or an intent that cannot
// be confirmed is an error.
func (s *Simulator) handleElementConfirm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, elementAnswer{Error: &clientError{Type: "invalid_request_error", Message: "The payment details could not be read."}})
		return
	}
	secret := r.PostForm.Get("client_secret")
	in, err := s.browserIntent(r.Context(), intentIDFromSecret(secret), secret)
	if err != nil {
		s.browserFailure(w, err)
		return
	}
	form := readPayForm(r.PostForm)
	p, ok := form.validateElement(r.PostForm.Get("cvc"), s.now(), in)
	if !ok {
		ce := &clientError{Type: "validation_error", Fields: form.Errors}
		for _, name := range []string{"method", "card_number", "expiry", "cvc", "account_number"} {
			if msg := form.Errors[name]; msg != "" && ce.Message == "" {
				ce.Message, ce.Param = msg, name
			}
		}
		writeJSON(w, http.StatusBadRequest, elementAnswer{Error: ce})
		return
	}
	in, err = s.confirmIntent(r.Context(), in.ID, p, "", origin{})
	if err != nil {
		s.browserFailure(w, err)
		return
	}
	s.log.Info("simulated payment element confirm", "payment_intent", in.ID, "status", in.Status)
	obj := s.clientIntent(in)
	writeJSON(w, http.StatusOK, elementAnswer{PaymentIntent: &obj})
}

// validateElement checks the element's fields: a card from elementCards, or a bank debit where
// the intent offers one. The element collects no email.
func (f *payForm) validateElement(cvc string, now time.Time, in *intent) (payment, bool) {
	p := payment{method: f.Method}
	switch f.Method {
	case methodCard, "":
		p.method = methodCard
		p.card, p.expMonth, p.expYear = f.validateCard(strings.TrimSpace(cvc), now, elementCards)
	case methodBankTransfer:
		if b, ok := bankMethods[in.Currency]; !ok || !slices.Contains(in.MethodTypes, b.Type) {
			f.Errors["method"] = "Bank transfers are not available for this payment: pay by card."
			break
		}
		p.account = f.validateAccount()
	default:
		f.Errors["method"] = "Choose a payment method."
	}
	return p, len(f.Errors) == 0
}

// handleRetrieveIntent is stripe.retrievePaymentIntent(clientSecret): the client's view of an
// intent, readable from any origin by whoever holds its client secret.
func (s *Simulator) handleRetrieveIntent(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	secret := r.URL.Query().Get("client_secret")
	in, err := s.browserIntent(r.Context(), r.PathValue("id"), secret)
	if err != nil {
		s.browserFailure(w, err)
		return
	}
	obj := s.clientIntent(in)
	writeJSON(w, http.StatusOK, elementAnswer{PaymentIntent: &obj})
}

// clientIntent is the intent as a publishable key sees it: without metadata.
func (s *Simulator) clientIntent(in *intent) paymentIntentJSON {
	obj := s.intentObject(in)
	obj.Metadata = nil
	return obj
}

// browserFailure answers a frame's request for an intent that is missing or cannot be confirmed.
func (s *Simulator) browserFailure(w http.ResponseWriter, err error) {
	var unexpected *errUnexpectedState
	switch {
	case errors.Is(err, errNoIntent):
		writeJSON(w, http.StatusNotFound, elementAnswer{Error: &clientError{Type: "invalid_request_error", Code: "resource_missing",
			Message: "No such payment_intent: the client secret does not match one."}})
	case errors.As(err, &unexpected):
		se := unexpected.stripeError()
		writeJSON(w, http.StatusBadRequest, elementAnswer{Error: &clientError{Type: se.Type, Code: se.Code, Message: se.Message}})
	default:
		s.log.Error("payment element request failed", "error", err)
		writeJSON(w, http.StatusInternalServerError, elementAnswer{Error: &clientError{Type: "api_error", Message: "The checkout simulator failed; its log says why."}})
	}
}

// handleAuthPage shows the 3-D Secure challenge, in a frame over the shop's page (?origin=…) or
// as a full page reached through next_action.redirect_to_url.
func (s *Simulator) handleAuthPage(w http.ResponseWriter, r *http.Request) {
	v, in, ok := s.authRequest(w, r, r.URL.Query())
	if !ok {
		return
	}
	if in.Status != piRequiresAction {
		s.renderFrame(w, r, http.StatusConflict, v.Origin, statusPage(statusView{Title: "Nothing to authenticate",
			Message: "This payment is not waiting for authentication (its status is " + in.Status + ")."}))
		return
	}
	s.renderFrame(w, r, http.StatusOK, v.Origin, authPage(v))
}

// handleAuthenticate completes or fails the challenge (outcome=complete|fail). In a frame the
// answer is a page handing the intent back to the shop's page; as a full page, a redirect to
// the return_url the confirm named, as Stripe's redirect does.
func (s *Simulator) handleAuthenticate(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "The form could not be read.", http.StatusBadRequest)
		return
	}
	v, _, ok := s.authRequest(w, r, r.PostForm)
	if !ok {
		return
	}
	outcome := r.PostForm.Get("outcome")
	if outcome != "complete" && outcome != "fail" {
		http.Error(w, "outcome must be complete or fail", http.StatusBadRequest)
		return
	}
	in, err := s.authenticateIntent(r.Context(), v.ID, outcome == "complete")
	var unexpected *errUnexpectedState
	if errors.As(err, &unexpected) {
		in, err = unexpected.in, nil // a second click: hand back the intent as the first one left it
	}
	if err != nil {
		s.log.Error("simulated authentication failed", "error", err, "payment_intent", v.ID)
		http.Error(w, "The checkout simulator failed; its log says why.", http.StatusInternalServerError)
		return
	}
	s.log.Info("simulated 3-D Secure", "payment_intent", in.ID, "outcome", outcome, "status", in.Status)
	if v.Origin == "" {
		http.Redirect(w, r, returnURL(in), http.StatusSeeOther)
		return
	}
	obj := s.clientIntent(in)
	result, err := json.Marshal(elementAnswer{PaymentIntent: &obj})
	if err != nil {
		http.Error(w, "could not encode the result", http.StatusInternalServerError)
		return
	}
	s.renderFrame(w, r, http.StatusOK, v.Origin, authDonePage(v, string(result)))
}

// authRequest reads and checks the intent, client secret and origin of a challenge request.
func (s *Simulator) authRequest(w http.ResponseWriter, r *http.Request, q url.Values) (authView, *intent, bool) {
	v := authView{ID: r.PathValue("id"), ClientSecret: q.Get("client_secret")}
	if raw := q.Get("origin"); raw != "" {
		origin, ok := frameOrigin(raw)
		if !ok {
			http.Error(w, "origin must be the origin of the shop's page, like http://localhost:8000", http.StatusBadRequest)
			return v, nil, false
		}
		v.Origin = origin
	}
	in, err := s.browserIntent(r.Context(), v.ID, v.ClientSecret)
	if err != nil {
		s.frameError(w, r, err)
		return v, nil, false
	}
	v.Amount = formatMoney(in.Amount, in.Currency)
	if len(in.PendingCard) >= 4 {
		v.Last4 = in.PendingCard[len(in.PendingCard)-4:]
	}
	return v, in, true
}

// returnURL is where a redirect-based authentication sends the customer back, with the
// parameters Stripe adds.
func returnURL(in *intent) string {
	u, err := url.Parse(in.ReturnURL)
	if err != nil {
		return in.ReturnURL
	}
	q := u.Query()
	q.Set("payment_intent", in.ID)
	q.Set("payment_intent_client_secret", in.ClientSecret)
	status := "failed"
	switch in.Status {
	case piSucceeded:
		status = "succeeded"
	case piProcessing:
		status = "processing"
	}
	q.Set("redirect_status", status)
	u.RawQuery = q.Encode()
	return u.String()
}

func (s *Simulator) frameError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errNoIntent) {
		http.Error(w, "No payment intent matches this client secret.", http.StatusNotFound)
		return
	}
	s.log.Error("payment element frame failed", "error", err)
	http.Error(w, "The checkout simulator failed; its log says why.", http.StatusInternalServerError)
}

// renderFrame writes a page that only ancestor may frame ("" : a full page nobody may frame).
func (s *Simulator) renderFrame(w http.ResponseWriter, r *http.Request, status int, ancestor string, c templ.Component) {
	var buf bytes.Buffer
	if err := c.Render(r.Context(), &buf); err != nil {
		s.log.Error("render simulator frame", "error", err)
		http.Error(w, "could not render the page", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	if ancestor == "" {
		h.Set("Content-Security-Policy", pageCSP)
		h.Set("X-Frame-Options", "DENY")
	} else {
		h.Set("Content-Security-Policy", strings.Replace(pageCSP, "frame-ancestors 'none'", "frame-ancestors "+ancestor, 1))
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"type":"api_error","message":"could not encode the answer"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b)
}
