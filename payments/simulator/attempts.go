package simulator

import (
	"sync"
	"time"
)

// Failed payment attempts are kept this long, and at most this many, for the page they redirect to.
const (
	attemptTTL  = 15 * time.Minute
	maxAttempts = 1000
)

// failedAttempt is what a refused payment POST hands to the GET it redirects to (post/redirect/get),
// so Back and reload never ask to resubmit the form. The CVC is never kept.
type failedAttempt struct {
	sessionID string
	form      payForm
	declined  string
	at        time.Time
}

// attemptStore holds failed attempts in memory by a random token; after a restart the page simply
// shows an empty form again.
type attemptStore struct {
	mu sync.Mutex
	m  map[string]failedAttempt
}

// put keeps fa and returns its token, forgetting attempts that are too old or too many.
func (a *attemptStore) put(fa failedAttempt) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil {
		a.m = map[string]failedAttempt{}
	}
	for token, old := range a.m {
		if fa.at.Sub(old.at) > attemptTTL || len(a.m) >= maxAttempts {
			delete(a.m, token)
		}
	}
	token := newID("", 24)
	a.m[token] = fa
	return token
}

// get finds the attempt a token names, only for the session it was made on.
func (a *attemptStore) get(token, sessionID string, now time.Time) (failedAttempt, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	fa, ok := a.m[token]
	if !ok || fa.sessionID != sessionID || now.Sub(fa.at) > attemptTTL {
		return failedAttempt{}, false
	}
	return fa, true
}
