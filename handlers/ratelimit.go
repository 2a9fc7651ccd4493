package handlers

import (
	"sync"
	"time"
)

// Login attempt limits: generous for people, tight for password guessing. A successful login
// clears its account's count.
const (
	loginPerIP        = 20 // attempts per IP per window
	loginPerAccount   = 5  // attempts per account per window
	loginWindow       = 15 * time.Minute
	limiterSweepEvery = 1024
)

// loginLimiter counts login attempts per key (an IP, or an account) in fixed windows.
type loginLimiter struct {
	mu    sync.Mutex
	now   func() time.Time
	hits  map[string]window
	calls int
}

type window struct {
	start time.Time
	count int
}

func newLoginLimiter() *loginLimiter {
	return &loginLimiter{now: time.Now, hits: make(map[string]window)}
}

// take counts one attempt for key and reports whether it is within limit, and if not, how long
// until it is. Checking and counting happen together, so concurrent guesses cannot slip past.
func (l *loginLimiter) take(key string, limit int) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	w := l.hits[key]
	if now.Sub(w.start) >= loginWindow {
		w = window{start: now}
	}
	if w.count >= limit {
		return false, loginWindow - now.Sub(w.start)
	}
	w.count++
	l.hits[key] = w
	if l.calls++; l.calls%limiterSweepEvery == 0 {
		for k, w := range l.hits {
			if now.Sub(w.start) >= loginWindow {
				delete(l.hits, k)
			}
		}
	}
	return true, 0
}

// reset forgets key, e.g. an account's failures after a successful login.
func (l *loginLimiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.hits, key)
}
