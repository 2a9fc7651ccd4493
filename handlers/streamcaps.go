package handlers

import (
	"sync"
	"time"
)

// Caps on open event streams: each holds a connection and a file descriptor for as long as a
// page stays open, so nobody may open them without end.
const (
	streamsPerUser    = 20
	streamsPerAddress = 100
	defaultMaxStreams = 10_000
	streamRetryAfter  = 30 * time.Second
)

// openStreams counts the open event streams per user, per client address and in all, and
// can end a user's streams (at logout).
type openStreams struct {
	mu     sync.Mutex
	max    int
	total  int
	byAddr map[string]int
	byUser map[int64]map[*streamSlot]struct{}
}

// streamSlot is one admitted stream; ended is closed when the stream must stop.
type streamSlot struct {
	user  int64
	addr  string
	ended chan struct{}
	once  sync.Once
}

func newOpenStreams(max int) *openStreams {
	if max <= 0 {
		max = defaultMaxStreams
	}
	return &openStreams{max: max, byAddr: make(map[string]int), byUser: make(map[int64]map[*streamSlot]struct{})}
}

// admit takes a slot for a stream from addr, of user (0 for a guest), or says which cap is full.
func (o *openStreams) admit(user int64, addr string) (*streamSlot, string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case o.total >= o.max:
		return nil, "the shop has too many open live pages right now"
	case o.byAddr[addr] >= streamsPerAddress:
		return nil, "too many live pages are open from your network"
	case user != 0 && len(o.byUser[user]) >= streamsPerUser:
		return nil, "too many live pages are open for your account: close some tabs"
	}
	sl := &streamSlot{user: user, addr: addr, ended: make(chan struct{})}
	o.total++
	o.byAddr[addr]++
	if user != 0 {
		if o.byUser[user] == nil {
			o.byUser[user] = make(map[*streamSlot]struct{})
		}
		o.byUser[user][sl] = struct{}{}
	}
	return sl, ""
}

// release gives the slot back; the stream has ended.
func (o *openStreams) release(sl *streamSlot) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.total--
	if o.byAddr[sl.addr]--; o.byAddr[sl.addr] <= 0 {
		delete(o.byAddr, sl.addr)
	}
	if sl.user != 0 {
		delete(o.byUser[sl.user], sl)
		if len(o.byUser[sl.user]) == 0 {
			delete(o.byUser, sl.user)
		}
	}
	sl.end()
}

// endUser ends every open stream of the user, e.g. when their sessions end at logout.
func (o *openStreams) endUser(user int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for sl := range o.byUser[user] {
		sl.end()
	}
}

func (sl *streamSlot) end() { sl.once.Do(func() { close(sl.ended) }) }
