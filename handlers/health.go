package handlers

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// healthFresh is how long one health check's verdict is reused: the check commits a write (with
// its disk sync), and a load balancer polling often, or a flood of requests, should not add more.
const healthFresh = time.Second

// healthCheck remembers the last verdict on the database.
type healthCheck struct {
	mu  sync.Mutex
	at  time.Time
	err error
}

// handleHealth answers 200 when the database answers reads and commits writes, else 503. On
// PostgreSQL it answers 503 too until the instance listens to the others' notes: a load balancer
// sends it no shopper before its pages can show what the other instances change.
func (s *server) handleHealth() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		select {
		case <-s.Store.Listening():
		default:
			http.Error(w, "starting: not yet listening to the other instances", http.StatusServiceUnavailable)
			return
		}
		if err := s.checkHealth(r); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	}
}

func (s *server) checkHealth(r *http.Request) error {
	h := &s.health
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.at.IsZero() && time.Since(h.at) < healthFresh {
		return h.err
	}
	// A caller hanging up must not leave a failed verdict for the next ones.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
	defer cancel()
	h.err, h.at = s.Store.Ping(ctx), time.Now()
	if h.err != nil {
		s.Logger.Error("health check failed", "error", h.err)
	}
	return h.err
}
