package handlers

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/sessions"

	"storefront/store"
)

// SessionName is the name of the shop's session cookie.
const SessionName = "storefront"

// Session values.
const (
	keyUserID  = "uid"
	keyVersion = "ver"
	keyCart    = "cart"
)

// visitor is who is making the request: a logged-in user, or an anonymous shopper whose
// cart is found through a random token in the session cookie.
type visitor struct {
	user      *store.User
	cartToken string
	session   *sessions.Session
	flash     string // a one-time confirmation to show on this page
}

func (v *visitor) cartRef() store.CartRef {
	if v.user != nil {
		return store.CartRef{UserID: v.user.ID}
	}
	return store.CartRef{Token: v.cartToken}
}

type visitorKey struct{}

// withVisitor loads who is asking (the session cookie, and the user it names) once, before the
// handler runs; handlers read it with visitorOf.
func (s *server) withVisitor(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := s.loadVisitor(r)
		s.takeFlash(w, r, v)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), visitorKey{}, v)))
	})
}

// visitorOf returns the visitor withVisitor loaded. Routes that serve no pages (assets, the
// webhook) skip the middleware; should one of them show a page, such as a 404, the visitor is
// read then.
func (s *server) visitorOf(r *http.Request) *visitor {
	if v, ok := r.Context().Value(visitorKey{}).(*visitor); ok {
		return v
	}
	return s.loadVisitor(r)
}

// loadVisitor reads the session cookie. A cookie whose session version no longer matches the
// user's (after logout) counts as anonymous.
func (s *server) loadVisitor(r *http.Request) *visitor {
	v := &visitor{}
	// A missing or undecodable cookie (say, after a key rotation) gives a fresh, empty session.
	if _, err := r.Cookie(SessionName); err == nil {
		v.session, _ = s.Sessions.Get(r, SessionName)
	}
	if v.session == nil {
		v.session = s.newSession()
	}
	v.cartToken, _ = v.session.Values[keyCart].(string)
	if uid, ok := v.session.Values[keyUserID].(int64); ok {
		u, err := s.Store.UserByID(r.Context(), uid)
		ver, _ := v.session.Values[keyVersion].(int64)
		switch {
		case err == nil && u.SessionVersion == ver:
			v.user = &u
		case err != nil && !errors.Is(err, store.ErrNotFound) && r.Context().Err() == nil:
			s.Logger.Error("load session user", "error", err)
		}
	}
	return v
}

// ensureCartToken gives an anonymous visitor a cart token, saved in their cookie.
func (s *server) ensureCartToken(w http.ResponseWriter, r *http.Request, v *visitor) error {
	if v.user != nil || v.cartToken != "" {
		return nil
	}
	v.cartToken = randomToken()
	v.session.Values[keyCart] = v.cartToken
	return v.session.Save(r, w)
}

// startSession logs the user in with a fresh session: nothing from the anonymous session
// survives but the cart, which is merged into the user's own.
func (s *server) startSession(w http.ResponseWriter, r *http.Request, v *visitor, u store.User) error {
	if err := s.Store.MergeCart(r.Context(), v.cartToken, u.ID); err != nil {
		return err
	}
	sess := s.newSession()
	sess.Values[keyUserID] = u.ID
	sess.Values[keyVersion] = u.SessionVersion
	v.session, v.user, v.cartToken = sess, &u, ""
	return sess.Save(r, w)
}

// endSession invalidates every session of the user server-side and deletes the cookie.
func (s *server) endSession(w http.ResponseWriter, r *http.Request, v *visitor) error {
	if v.user != nil {
		if err := s.Store.EndSessions(r.Context(), v.user.ID); err != nil {
			return err
		}
		s.streams.endUser(v.user.ID) // its live pages stop following the account too
		s.members.end(v.user.ID)
	}
	v.session.Values = map[any]any{}
	v.session.Options.MaxAge = -1
	v.user = nil
	return v.session.Save(r, w)
}

// newSession is an empty session with the store's cookie options.
func (s *server) newSession() *sessions.Session {
	sess := sessions.NewSession(s.Sessions, SessionName)
	opts := *s.Sessions.Options
	sess.Options = &opts
	sess.IsNew = true
	return sess
}

func randomToken() string {
	b := make([]byte, 18)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// localPath returns next if it is a path on this site, else "/": redirects never leave the shop.
// Browsers drop tabs and newlines from URLs and read \ as /, so those are refused outright.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		return "/"
	}
	for i := 0; i < len(next); i++ {
		if c := next[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return "/"
		}
	}
	if u, err := url.Parse(next); err != nil || u.Scheme != "" || u.Host != "" {
		return "/"
	}
	return next
}
