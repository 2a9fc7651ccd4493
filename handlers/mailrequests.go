package handlers

import (
	"context"
	"fmt"
	"math"
	"net/http"

	"github.com/a-h/templ"

	"storefront/components"
)

// Requests that send mail (a password reset, an order lookup) are limited per address, so
// nobody can flood someone's inbox, and per client address, so nobody can probe many.
const (
	mailRequestsPerAddress = 3
	mailRequestsPerIP      = 20
)

// emailRequest is a form that takes an email address and has the shop write to it: the same
// answer whether or not the address has an account or orders, since the store does the same
// work for both and the mail is sent later by the outbox worker.
type emailRequest struct {
	name    string // names the limit, e.g. "forgot"
	title   string
	page    func(components.Page, components.EmailForm) templ.Component
	form    func(components.EmailForm) templ.Component
	request func(ctx context.Context, email string) error
}

func (s *server) handleEmailRequestForm(req emailRequest) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.renderEmailRequest(w, r, http.StatusOK, req, components.EmailForm{Email: r.URL.Query().Get("email")})
	}
}

func (s *server) handleEmailRequest(req emailRequest) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		email, emailErr := normaliseEmail(r.PostFormValue("email"))
		f := components.EmailForm{Email: r.PostFormValue("email"), EmailError: emailErr}
		if emailErr != "" {
			s.renderEmailRequest(w, r, http.StatusUnprocessableEntity, req, f)
			return
		}
		okIP, wait := s.limiter.take(r.Context(), req.name+"-ip:"+clientAddr(r), mailRequestsPerIP, loginWindow)
		okAddress := false
		if okIP {
			okAddress, wait = s.limiter.take(r.Context(), req.name+":"+email, mailRequestsPerAddress, loginWindow)
		}
		if !okIP || !okAddress {
			retryAfter(w, wait)
			f.Error = fmt.Sprintf("Too many requests for now. Please wait %d minutes and try again.", int(math.Ceil(wait.Minutes())))
			s.Logger.Warn("mail request rate limited", "form", req.name, "addr", clientAddr(r))
			s.renderEmailRequest(w, r, http.StatusTooManyRequests, req, f)
			return
		}
		if err := req.request(r.Context(), email); err != nil {
			s.serverError(w, r, err)
			return
		}
		if s.MailQueued != nil {
			s.MailQueued()
		}
		f.Email, f.Sent = email, true
		s.renderEmailRequest(w, r, http.StatusOK, req, f)
	}
}

func (s *server) renderEmailRequest(w http.ResponseWriter, r *http.Request, status int, req emailRequest, f components.EmailForm) {
	w.Header().Set("Cache-Control", "no-store")
	if isHTMX(r) {
		s.render(w, r, status, req.form(f))
		return
	}
	s.render(w, r, status, req.page(s.page(r.Context(), s.visitorOf(r), req.title), f))
}
