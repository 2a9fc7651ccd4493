package handlers

import (
	"context"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limits on what one client address (or one account) may do in a window. They are generous for
// people and tight for scripts. Keys are short and bounded: an address, an account's normalised
// email (at most 254 bytes) or both, never raw input.
const (
	loginWindow         = 15 * time.Minute
	loginPerAddress     = 20 // login attempts per address
	loginFailuresPerKey = 5  // attempts per address and account, until that address logs in
	// Once an account has this many attempts from all addresses in the window, an address that
	// has already tried it gets no further tries; one that has not still may.
	loginFailuresUnderAttack = 50

	signupWindow     = time.Hour
	signupPerAddress = 10 // sign-up attempts that reach password hashing

	cartWindow     = time.Hour
	cartsPerAddr   = 30 // new anonymous carts per address
	checkoutWindow = 15 * time.Minute
	checkoutsPerIP = 20 // checkout sessions created per address

	limiterSweepEvery = 1024
	limiterMaxKeys    = 200_000 // beyond this, the oldest windows are forgotten first
)

// limits counts what clients do, per key, in fixed windows. Checking and counting happen
// together, so concurrent requests cannot slip past a limit. One instance counts in memory
// (limiter); instances sharing a database count in it (sharedLimits), so that a limit holds for
// the shop rather than for each instance.
type limits interface {
	// take counts one event for key and reports whether it is within limit, and if not, how
	// long until it is.
	take(ctx context.Context, key string, limit int, span time.Duration) (bool, time.Duration)
	// count returns how many events key has in its current window, without counting one.
	count(ctx context.Context, key string, span time.Duration) int
	// add counts one event for key with no limit (failures are counted after the fact).
	add(ctx context.Context, key string, span time.Duration)
	// reset forgets key, e.g. an address's failures on an account after it logs in.
	reset(ctx context.Context, key string)
}

// limiter counts in memory, for one instance.
type limiter struct {
	mu    sync.Mutex
	now   func() time.Time
	hits  map[string]window
	calls int
}

type window struct {
	start time.Time
	span  time.Duration
	count int
}

func newLimiter() *limiter {
	return &limiter{now: time.Now, hits: make(map[string]window)}
}

func (l *limiter) take(_ context.Context, key string, limit int, span time.Duration) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	w := l.current(key, span, now)
	if w.count >= limit {
		return false, w.span - now.Sub(w.start)
	}
	w.count++
	l.hits[key] = w
	l.sweep(now)
	return true, 0
}

func (l *limiter) count(_ context.Context, key string, span time.Duration) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.current(key, span, l.now()).count
}

func (l *limiter) add(_ context.Context, key string, span time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	w := l.current(key, span, now)
	w.count++
	l.hits[key] = w
	l.sweep(now)
}

func (l *limiter) reset(_ context.Context, key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.hits, key)
}

func (l *limiter) current(key string, span time.Duration, now time.Time) window {
	w, ok := l.hits[key]
	if !ok || now.Sub(w.start) >= w.span {
		return window{start: now, span: span}
	}
	return w
}

// sweep drops finished windows now and then, and keeps the table bounded: a flood of distinct
// keys costs the flood's oldest entries, never memory without end.
func (l *limiter) sweep(now time.Time) {
	l.calls++
	if l.calls%limiterSweepEvery != 0 && len(l.hits) <= limiterMaxKeys {
		return
	}
	for k, w := range l.hits {
		if now.Sub(w.start) >= w.span {
			delete(l.hits, k)
		}
	}
	for len(l.hits) > limiterMaxKeys {
		var oldest string
		var at time.Time
		n := 0
		for k, w := range l.hits { // a sample of map order is enough to pick an old one
			if n == 0 || w.start.Before(at) {
				oldest, at = k, w.start
			}
			if n++; n == 64 {
				break
			}
		}
		delete(l.hits, oldest)
	}
}

// retryAfter sets Retry-After to wait, in whole seconds (at least one).
func retryAfter(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
}

// clientAddr is the key a client's requests are limited by: its IP address, or for IPv6 its
// /64 network, which one household or one server usually has whole.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}

// fromTrustedProxy takes the client's address from X-Forwarded-For when the request comes
// from one of the shop's own reverse proxies, so that limits apply to shoppers rather than to
// the proxy. The rightmost address not itself a trusted proxy is the client: anything left of
// it was written by the client and proves nothing.
func (s *server) fromTrustedProxy(next http.Handler) http.Handler {
	if len(s.TrustedProxies) == 0 {
		return next
	}
	trusted := func(ip netip.Addr) bool {
		for _, p := range s.TrustedProxies {
			if p.Contains(ip.Unmap()) {
				return true
			}
		}
		return false
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer, err := netip.ParseAddrPort(r.RemoteAddr)
		if err != nil || !trusted(peer.Addr()) {
			next.ServeHTTP(w, r)
			return
		}
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			ip, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break
			}
			if !trusted(ip) {
				r2 := *r
				r2.RemoteAddr = netip.AddrPortFrom(ip, 0).String()
				r = &r2
				break
			}
		}
		next.ServeHTTP(w, r)
	})
}
