package store

import (
	"context"
	"sync"
	"time"
)

// recentReads keeps the small reads every page makes (the catalogue's version; a logged-in
// shopper's account, cart count and member discount) until this process commits a write, and
// for at most recheckAfter. A shopper browsing then costs no database read per page and sees
// their own changes at once; a change committed by another process (a second instance, the
// command line, the sqlite3 shell) is seen within recheckAfter.
type recentReads struct {
	mu      sync.Mutex
	commits uint64
	m       map[string]recentRead
}

type recentRead struct {
	value any
	at    time.Time
}

const (
	recheckAfter   = 250 * time.Millisecond
	recentReadsMax = 16384
)

// recent returns the value kept under key, or reads it with read and keeps it.
func recent[T any](ctx context.Context, db *DB, key string, read func(context.Context) (T, error)) (T, error) {
	c := &db.recent
	commits, now := db.commits.Load(), time.Now()
	c.mu.Lock()
	if c.commits != commits || len(c.m) >= recentReadsMax {
		c.m, c.commits = nil, commits // something was written: read everything again
	}
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < recheckAfter {
		return e.value.(T), nil
	}
	v, err := read(ctx)
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.commits == commits { // nothing was written while reading
		if c.m == nil {
			c.m = make(map[string]recentRead)
		}
		c.m[key] = recentRead{value: v, at: now}
	}
	return v, nil
}
