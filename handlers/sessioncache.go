package handlers

import (
	"maps"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/sessions"
)

// Decoding a session cookie (an HMAC check and a gob decode that compiles its types every time)
// was a fifth of a logged-in page's cost. A cookie's value fixes its content, so decoded values
// are kept by cookie value for a short while; a new login, logout or change writes a new value.
const (
	sessionCacheFor  = time.Minute
	sessionCacheSize = 4096
)

type sessionCache struct {
	mu sync.Mutex
	m  map[string]cachedSession
}

type cachedSession struct {
	values map[any]any
	until  time.Time
}

// session returns the session the request's cookie (whose value is cookie) carries, or nil
// when it cannot be decoded.
func (s *server) session(r *http.Request, cookie string) *sessions.Session {
	c := &s.sessions
	now := time.Now()
	c.mu.Lock()
	e, ok := c.m[cookie]
	c.mu.Unlock()
	if ok && now.Before(e.until) {
		sess := s.newSession()
		sess.IsNew = false
		sess.Values = maps.Clone(e.values)
		return sess
	}
	sess, err := s.Sessions.Get(r, SessionName)
	if err != nil || sess.IsNew {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= sessionCacheSize {
		c.m = make(map[string]cachedSession) // start over rather than track which is oldest
	}
	c.m[cookie] = cachedSession{values: maps.Clone(sess.Values), until: now.Add(sessionCacheFor)}
	return sess
}
