package handlers

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"storefront/components"
	"storefront/store"
)

const (
	minPasswordLen = 8
	maxPasswordLen = 72 // bcrypt reads at most 72 bytes
)

// dummyHash is compared against when an email is unknown, so that a login takes as long
// whether or not the account exists. It is a constant (bcrypt.DefaultCost, a password nobody
// has) rather than computed at start-up, which would cost a tenth of a second on every launch.
var dummyHash = []byte("$2a$10$4Ay0/0VhSyf28u3a86/9TOUqaqqwyhIBPsXscRL05lAvIK6M3pGEW")

func (s *server) handleSignupForm() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := s.visitorOf(r)
		if v.user != nil {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		s.renderAuth(w, r, http.StatusOK, "signup", components.AuthForm{Next: r.URL.Query().Get("next")})
	}
}

func (s *server) handleSignup() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := s.visitorOf(r)
		email, emailErr := normaliseEmail(r.PostFormValue("email"))
		password := r.PostFormValue("password")
		f := components.AuthForm{Email: r.PostFormValue("email"), Next: r.PostFormValue("next"), EmailError: emailErr,
			PasswordError: passwordProblem(password)}
		if f.EmailError != "" || f.PasswordError != "" {
			s.renderAuth(w, r, http.StatusUnprocessableEntity, "signup", f)
			return
		}
		// Hashing a password is meant to be slow: limit how often one address can ask for it.
		if ok, wait := s.limiter.take(r.Context(), "signup:"+clientAddr(r), signupPerAddress, signupWindow); !ok {
			retryAfter(w, wait)
			f.Error = fmt.Sprintf("Too many sign-ups from your network. Please try again in %d minutes.", int(math.Ceil(wait.Minutes())))
			s.Logger.Warn("sign-up rate limited", "addr", clientAddr(r))
			s.renderAuth(w, r, http.StatusTooManyRequests, "signup", f)
			return
		}
		hash, ok := s.hashPassword(w, r, password)
		if !ok {
			return
		}
		u, err := s.Store.CreateUser(r.Context(), email, hash)
		if errors.Is(err, store.ErrConflict) {
			f.EmailError, f.AccountExists = "An account with this email already exists.", true
			s.renderAuth(w, r, http.StatusConflict, "signup", f)
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if err := s.startSession(w, r, v, u); err != nil {
			s.serverError(w, r, err)
			return
		}
		s.Logger.Info("account created", "user_id", u.ID)
		s.setFlash(w, r, v, "Welcome! Your account is ready and you are logged in.")
		redirect(w, r, localPath(f.Next))
	}
}

func (s *server) handleLoginForm() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := s.visitorOf(r)
		next := r.URL.Query().Get("next")
		if v.user != nil {
			http.Redirect(w, r, localPath(next), http.StatusSeeOther)
			return
		}
		s.renderAuth(w, r, http.StatusOK, "login", components.AuthForm{Next: next})
	}
}

func (s *server) handleLogin() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := s.visitorOf(r)
		email, emailErr := normaliseEmail(r.PostFormValue("email"))
		password := r.PostFormValue("password")
		f := components.AuthForm{Email: r.PostFormValue("email"), Next: r.PostFormValue("next")}
		if ok, wait := s.mayTryLogin(r, email, emailErr == ""); !ok {
			retryAfter(w, wait)
			f.Error = fmt.Sprintf("Too many login attempts. Please wait %d minutes and try again.", int(math.Ceil(wait.Minutes())))
			s.Logger.Warn("login rate limited", "addr", clientAddr(r))
			s.renderAuth(w, r, http.StatusTooManyRequests, "login", f)
			return
		}

		var u store.User
		err := store.ErrNotFound
		if emailErr == "" {
			u, err = s.Store.UserByEmail(r.Context(), email)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				s.serverError(w, r, err)
				return
			}
		}
		hash := dummyHash
		if err == nil {
			hash = []byte(u.PasswordHash)
		}
		// bcrypt reads only 72 bytes, so a longer password would match on its first 72. Such a
		// password cannot have been set here: refuse it, after the same work as any other try.
		// (Something that is no email address is no account: there is nothing to time.)
		matches := false
		if emailErr == "" {
			ok, herr := s.hasher.compare(r.Context(), hash, password)
			if herr != nil {
				s.tooBusy(w, r)
				return
			}
			matches = ok && len(password) <= maxPasswordLen
		}
		if !matches || err != nil {
			f.Error = "That email and password do not match an account."
			s.renderAuth(w, r, http.StatusUnauthorized, "login", f)
			return
		}
		s.limiter.reset(r.Context(), loginPairKey(r, email))
		if err := s.startSession(w, r, v, u); err != nil {
			s.serverError(w, r, err)
			return
		}
		s.setFlash(w, r, v, "You are logged in as "+u.Email+".")
		redirect(w, r, localPath(f.Next))
	}
}

// mayTryLogin applies the login limits and counts the attempt: attempts per address, attempts
// per address and account (forgotten when that address logs in), and, for an account under
// attack from many addresses, a single try per address. An address that has not tried an
// account is never refused for that account's sake, so nobody without the password can lock
// its owner out. Checking and counting happen together, so guesses sent side by side cannot
// all slip past.
func (s *server) mayTryLogin(r *http.Request, email string, isAccount bool) (bool, time.Duration) {
	if ok, wait := s.limiter.take(r.Context(), "login:"+clientAddr(r), loginPerAddress, loginWindow); !ok {
		return false, wait
	}
	if !isAccount {
		return true, 0
	}
	limit := loginFailuresPerKey
	if s.limiter.count(r.Context(), "login-account:"+email, loginWindow) >= loginFailuresUnderAttack {
		limit = 1
	}
	if ok, wait := s.limiter.take(r.Context(), loginPairKey(r, email), limit, loginWindow); !ok {
		return false, wait
	}
	s.limiter.add(r.Context(), "login-account:"+email, loginWindow)
	return true, 0
}

func loginPairKey(r *http.Request, email string) string {
	return "login:" + clientAddr(r) + " " + email
}

func (s *server) handleLogout() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := s.visitorOf(r)
		if err := s.endSession(w, r, v); err != nil {
			s.serverError(w, r, err)
			return
		}
		s.setFlash(w, r, v, "You are logged out. See you soon!")
		redirect(w, r, "/")
	}
}

// renderAuth shows the signup or login form: the whole page, or for htmx just the form.
func (s *server) renderAuth(w http.ResponseWriter, r *http.Request, status int, which string, f components.AuthForm) {
	f.Next = strings.TrimSpace(f.Next)
	if f.Next != "" && localPath(f.Next) != f.Next {
		f.Next = ""
	}
	form, page, title := components.LoginForm(f), components.LoginPage, "Log in"
	if which == "signup" {
		form, page, title = components.SignupForm(f), components.SignupPage, "Sign up"
	}
	if isHTMX(r) {
		s.render(w, r, status, form)
		return
	}
	s.render(w, r, status, page(s.page(r.Context(), s.visitorOf(r), title), f))
}

// passwordProblem says what is wrong with a new password, or returns "" when it will do.
func passwordProblem(password string) string {
	switch {
	case password == "":
		return "Choose a password."
	case utf8.RuneCountInString(password) < minPasswordLen:
		return fmt.Sprintf("Use at least %d characters.", minPasswordLen)
	case len(password) > maxPasswordLen:
		return fmt.Sprintf("Use at most %d bytes (accented letters and emoji take two to four each).", maxPasswordLen)
	}
	return ""
}

// normaliseEmail trims and lower-cases an address and checks that it is one; the second result
// is a message for the shopper when it is not.
func normaliseEmail(raw string) (string, string) {
	email := strings.ToLower(strings.TrimSpace(raw))
	if email == "" {
		return "", "Enter your email address."
	}
	addr, err := mail.ParseAddress(email)
	at := strings.LastIndexByte(email, '@')
	if err != nil || addr.Address != email || len(email) > 254 || at < 1 || !strings.Contains(email[at+1:], ".") {
		return email, "Enter an email address like name@example.com."
	}
	return email, ""
}

// tooBusy answers a login or sign-up that found every password check taken.
func (s *server) tooBusy(w http.ResponseWriter, r *http.Request) {
	s.Logger.Warn("password hashing saturated", "addr", clientAddr(r), "path", r.URL.Path)
	retryAfter(w, 10*time.Second)
	s.errorPage(w, r, http.StatusServiceUnavailable, "Busy", "We are very busy right now. Nothing was changed; please try again in a few seconds.")
}
