package handlers

import (
	"fmt"
	"net/http"
	"unicode/utf8"

	"storefront/components"
)

// accountJSON is the account as clients asking with `Accept: application/json` read it; its
// field names are a contract. Subscription is null for a user who never subscribed.
type accountJSON struct {
	Email        string `json:"email"`
	Admin        bool   `json:"admin"`
	Subscription any    `json:"subscription"`
}

func (s *server) handleAccount() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, ok := s.requireUser(w, r)
		if !ok {
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Add("Vary", "Accept")
		if wantsJSON(r) {
			m, err := s.Store.MembershipOf(r.Context(), v.user.ID)
			if err != nil {
				s.serverError(w, r, err)
				return
			}
			s.writeJSON(w, r, http.StatusOK, accountJSON{Email: v.user.Email, Admin: v.user.Admin, Subscription: subscriptionOf(m)})
			return
		}
		s.renderAccount(w, r, v, http.StatusOK, components.AccountForm{})
	}
}

func (s *server) renderAccount(w http.ResponseWriter, r *http.Request, v *visitor, status int, f components.AccountForm) {
	f.Email = v.user.Email
	if m, err := s.Store.MembershipOf(r.Context(), v.user.ID); err == nil {
		f.Membership = membershipView(m)
	} else {
		s.Logger.Error("read membership", "error", err, "user_id", v.user.ID)
	}
	f.Membership.Joining = r.URL.Query().Get("joined") != ""
	f.MembershipStream = "/account/events"
	if f.Membership.Joining {
		f.MembershipStream += "?joined=1"
	}
	s.render(w, r, status, components.AccountPage(s.page(r.Context(), v, "Your account"), f))
}

// checkPassword reports whether password is the user's; false with an error when hashing is
// saturated (the caller answers tooBusy).
func (s *server) checkPassword(r *http.Request, v *visitor, password string) (bool, error) {
	ok, err := s.hasher.compare(r.Context(), []byte(v.user.PasswordHash), password)
	return ok && len(password) <= maxPasswordLen, err
}

// handleChangePassword changes the password after checking the current one. Every other
// session of the account ends; this one starts afresh.
func (s *server) handleChangePassword() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, ok := s.requireUser(w, r)
		if !ok {
			return
		}
		current, next := r.PostFormValue("current_password"), r.PostFormValue("new_password")
		var f components.AccountForm
		switch {
		case utf8.RuneCountInString(next) < minPasswordLen:
			f.NewError = fmt.Sprintf("Use at least %d characters.", minPasswordLen)
		case len(next) > maxPasswordLen:
			f.NewError = fmt.Sprintf("Use at most %d bytes (accented letters and emoji take two to four each).", maxPasswordLen)
		}
		if ok, wait := s.limiter.take(r.Context(), loginPairKey(r, v.user.Email), loginFailuresPerKey, loginWindow); !ok {
			retryAfter(w, wait)
			f.CurrentError = "Too many attempts. Please wait a few minutes and try again."
			s.renderAccount(w, r, v, http.StatusTooManyRequests, f)
			return
		}
		matches, err := s.checkPassword(r, v, current)
		if err != nil {
			s.tooBusy(w, r)
			return
		}
		if !matches {
			f.CurrentError = "That is not your current password."
		}
		if f.CurrentError != "" || f.NewError != "" {
			s.renderAccount(w, r, v, http.StatusUnprocessableEntity, f)
			return
		}
		s.limiter.reset(r.Context(), loginPairKey(r, v.user.Email))
		hash, ok := s.hashPassword(w, r, next)
		if !ok {
			return
		}
		u, err := s.Store.SetPassword(r.Context(), v.user.ID, hash)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		s.streams.endUser(u.ID) // pages open elsewhere stop following the account
		if err := s.startSession(w, r, v, u); err != nil {
			s.serverError(w, r, err)
			return
		}
		s.Logger.Info("password changed", "user_id", u.ID)
		s.setFlash(w, r, v, "Your password is changed. Other devices have been logged out.")
		redirect(w, r, "/account")
	}
}

// handleDeleteAccount deletes the account after checking its password; its orders stay,
// anonymised.
func (s *server) handleDeleteAccount() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, ok := s.requireUser(w, r)
		if !ok {
			return
		}
		if ok, wait := s.limiter.take(r.Context(), loginPairKey(r, v.user.Email), loginFailuresPerKey, loginWindow); !ok {
			retryAfter(w, wait)
			s.renderAccount(w, r, v, http.StatusTooManyRequests, components.AccountForm{DeleteError: "Too many attempts. Please wait a few minutes and try again."})
			return
		}
		matches, err := s.checkPassword(r, v, r.PostFormValue("password"))
		if err != nil {
			s.tooBusy(w, r)
			return
		}
		if !matches {
			s.renderAccount(w, r, v, http.StatusUnprocessableEntity, components.AccountForm{DeleteError: "That is not your password, so nothing was deleted."})
			return
		}
		// A running membership would go on charging the card of an account that is gone.
		if m, err := s.Store.MembershipOf(r.Context(), v.user.ID); err != nil {
			s.serverError(w, r, err)
			return
		} else if m.Manageable() {
			s.renderAccount(w, r, v, http.StatusConflict, components.AccountForm{DeleteError: "Your membership is still running, so nothing was deleted. " +
				"Cancel it with Manage membership; once it has ended you can delete your account."})
			return
		}
		id := v.user.ID
		if err := s.Store.DeleteUser(r.Context(), id); err != nil {
			s.serverError(w, r, err)
			return
		}
		s.streams.endUser(id)
		v.session.Values = map[any]any{}
		v.session.Options.MaxAge = -1
		v.user = nil
		s.Logger.Info("account deleted", "user_id", id)
		s.setFlash(w, r, v, "Your account is deleted. Your past orders are kept without your name or email.")
		redirect(w, r, "/")
	}
}
