package handlers

import (
	"sync"

	"storefront/store"
)

// memberHub carries committed membership changes to the pages watching them, by user. It is
// in-process, like the order broker for SQLite; its zero value is ready to use.
type memberHub struct {
	mu   sync.Mutex
	subs map[int64]map[chan *store.Membership]struct{}
}

// subscribe returns the user's changes as they come and a function that stops them. The channel
// is closed when the watcher falls behind (its page reconnects and gets the current state) or
// when the user's sessions end (end).
func (h *memberHub) subscribe(userID int64) (<-chan *store.Membership, func()) {
	ch := make(chan *store.Membership, streamBuffer)
	h.mu.Lock()
	if h.subs == nil {
		h.subs = make(map[int64]map[chan *store.Membership]struct{})
	}
	if h.subs[userID] == nil {
		h.subs[userID] = make(map[chan *store.Membership]struct{})
	}
	h.subs[userID][ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.dropLocked(userID, ch)
	}
}

// dropLocked removes and closes one subscription, once; h.mu must be held.
func (h *memberHub) dropLocked(userID int64, ch chan *store.Membership) {
	if _, ok := h.subs[userID][ch]; !ok {
		return
	}
	delete(h.subs[userID], ch)
	if len(h.subs[userID]) == 0 {
		delete(h.subs, userID)
	}
	close(ch)
}

// publish sends a committed change to its member's watchers, never blocking.
func (h *memberHub) publish(m *store.Membership) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[m.UserID] {
		select {
		case ch <- m:
		default:
			h.dropLocked(m.UserID, ch)
		}
	}
}

// end stops every watcher of the user's, e.g. when their sessions end at logout.
func (h *memberHub) end(userID int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[userID] {
		h.dropLocked(userID, ch)
	}
}
