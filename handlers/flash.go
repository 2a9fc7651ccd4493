package handlers

import (
	"net/http"
	"strings"
)

// keyFlash is the session value holding a one-time confirmation for the next page.
const keyFlash = "flash"

// setFlash keeps a confirmation ("You are logged in.") in the session for the next page the
// visitor sees, which is usually the one a redirect leads to. It replaces a session cookie the
// response already sets (a login's new session, a logout's deletion), so the browser gets one.
func (s *server) setFlash(w http.ResponseWriter, r *http.Request, v *visitor, msg string) {
	if v.session.Options.MaxAge < 0 {
		v.session = s.newSession() // after logout: a fresh, anonymous session carries the message
	}
	v.session.Values[keyFlash] = msg
	dropSetCookie(w.Header(), SessionName)
	if err := v.session.Save(r, w); err != nil {
		s.Logger.Error("save flash message", "error", err)
	}
}

// takeFlash moves the session's confirmation, if any, onto the visitor for this page and removes
// it from the session, so it shows once. Only full pages take it: a fragment or a redirect
// would swallow it unseen.
func (s *server) takeFlash(w http.ResponseWriter, r *http.Request, v *visitor) {
	msg, ok := v.session.Values[keyFlash].(string)
	if !ok || r.Method != http.MethodGet || isHTMX(r) || wantsJSON(r) {
		return
	}
	delete(v.session.Values, keyFlash)
	if err := v.session.Save(r, w); err != nil {
		s.Logger.Error("clear flash message", "error", err)
		return
	}
	v.flash = msg
}

// dropSetCookie removes the Set-Cookie headers already set for the cookie name.
func dropSetCookie(h http.Header, name string) {
	kept := h["Set-Cookie"][:0]
	for _, c := range h["Set-Cookie"] {
		if !strings.HasPrefix(c, name+"=") {
			kept = append(kept, c)
		}
	}
	if len(kept) == 0 {
		h.Del("Set-Cookie")
		return
	}
	h["Set-Cookie"] = kept
}
