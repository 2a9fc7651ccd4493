package handlers

import (
	"errors"
	"net/http"

	"storefront/components"
	"storefront/store"
)

// forgotPassword is the form that mails a reset link.
func (s *server) forgotPassword() emailRequest {
	return emailRequest{name: "forgot", title: "Forgot password", page: components.ForgotPasswordPage,
		form: components.ForgotPasswordForm, request: s.Store.RequestPasswordReset}
}

// handleResetPasswordForm shows the new password form for a reset link's token. The token is in
// the address, so the page sends no Referer anywhere.
func (s *server) handleResetPasswordForm() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Cache-Control", "no-store")
		token := r.URL.Query().Get("token")
		if !s.Store.CheckPasswordReset(r.Context(), token) {
			s.resetLinkInvalid(w, r)
			return
		}
		s.renderResetForm(w, r, http.StatusOK, components.ResetForm{Token: token})
	}
}

// handleResetPassword sets the new password, ends every other session of the account and logs
// this browser in.
func (s *server) handleResetPassword() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Referrer-Policy", "no-referrer")
		v := s.visitorOf(r)
		token, password := r.PostFormValue("token"), r.PostFormValue("password")
		f := components.ResetForm{Token: token, PasswordError: passwordProblem(password)}
		if f.PasswordError != "" {
			s.renderResetForm(w, r, http.StatusUnprocessableEntity, f)
			return
		}
		hash, ok := s.hashPassword(w, r, password)
		if !ok {
			return
		}
		u, err := s.Store.ResetPassword(r.Context(), token, hash)
		if errors.Is(err, store.ErrResetToken) {
			s.resetLinkInvalid(w, r)
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.limiter.reset(r.Context(), loginPairKey(r, u.Email)) // the owner is back: this address's failed logins no longer count
		s.streams.endUser(u.ID)                                // live pages of the ended sessions stop too
		if err := s.startSession(w, r, v, u); err != nil {
			s.serverError(w, r, err)
			return
		}
		s.Logger.Info("password reset", "user_id", u.ID)
		redirect(w, r, "/")
	}
}

func (s *server) renderResetForm(w http.ResponseWriter, r *http.Request, status int, f components.ResetForm) {
	if isHTMX(r) {
		s.render(w, r, status, components.ResetPasswordForm(f))
		return
	}
	s.render(w, r, status, components.ResetPasswordPage(s.page(r.Context(), s.visitorOf(r), "Choose a new password"), f))
}

func (s *server) resetLinkInvalid(w http.ResponseWriter, r *http.Request) {
	msg := store.ErrResetToken.Error()
	if isHTMX(r) {
		s.render(w, r, http.StatusBadRequest, components.CheckoutError(msg))
		return
	}
	s.render(w, r, http.StatusBadRequest, components.ResetLinkInvalidPage(s.page(r.Context(), s.visitorOf(r), "Reset link expired"), msg))
}
