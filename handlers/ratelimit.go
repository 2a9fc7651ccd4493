package handlers

import (
	"sync"
	"time"
)

// Login attempt limits: generous for people, tight for password guessing.
const (
	loginPerIP        = 20 // attempts per IP per window
	loginPerAccount   = 5  // failed attempts per account per window
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

// allowed reports whether key is under limit, and if not, how long until it is.
func (l *loginLimiter) allowed(key string, limit int) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w, now := l.hits[key], l.now()
	if now.Sub(w.start) >= loginWindow {
		return true, 0
	}
	if w.count >= limit {
		return false, loginWindow - now.Sub(w.start)
	}
	return true, 0
}

// add counts one attempt for key.
func (l *loginLimiter) add(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	w := l.hits[key]
	if now.Sub(w.start) >= loginWindow {
		w = window{start: now}
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
}

// reset forgets key, e.g. an account's failures after a successful login.
func (l *loginLimiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.hits, key)
}
