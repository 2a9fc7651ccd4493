package handlers

import (
	"context"
	"log/slog"
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
// can end a user's streams (at logout) or every stream (at shutdown). When instances share the
// database, a user's streams are also counted in it, so that the cap per user holds across
// instances; the caps per address and in all protect this instance and stay its own.
type openStreams struct {
	mu     sync.Mutex
	max    int
	all    map[*streamSlot]struct{}
	byAddr map[string]int
	byUser map[int64]map[*streamSlot]struct{}

	shared sharedStreams // nil: one instance
	log    *slog.Logger
}

// sharedStreams counts users' open streams on every instance (store.DB on PostgreSQL).
type sharedStreams interface {
	OpenStream(ctx context.Context, userID int64, limit int) (bool, error)
	CloseStream(ctx context.Context, userID int64) error
}

// streamSlot is one admitted stream. Ending the slot stops its stream.
type streamSlot struct {
	user    int64
	addr    string
	counted bool // counted in sharedStreams too

	mu     sync.Mutex
	ended  bool
	stream *liveStream // set once the stream runs
}

func newOpenStreams(max int) *openStreams {
	if max <= 0 {
		max = defaultMaxStreams
	}
	return &openStreams{max: max, all: make(map[*streamSlot]struct{}), byAddr: make(map[string]int),
		byUser: make(map[int64]map[*streamSlot]struct{})}
}

const tooManyForUser = "too many live pages are open for your account: close some tabs"

// admit takes a slot for a stream from addr, of user (0 for a guest), or says which cap is full.
func (o *openStreams) admit(ctx context.Context, user int64, addr string) (*streamSlot, string) {
	sl, full := o.admitHere(user, addr)
	if sl == nil || user == 0 || o.shared == nil {
		return sl, full
	}
	ok, err := o.shared.OpenStream(ctx, user, streamsPerUser)
	switch {
	case err != nil: // the cap on this instance still holds
		o.log.Warn("open streams: counting on this instance alone", "error", err)
	case !ok:
		o.release(sl)
		return nil, tooManyForUser
	default:
		sl.counted = true
	}
	return sl, ""
}

func (o *openStreams) admitHere(user int64, addr string) (*streamSlot, string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case len(o.all) >= o.max:
		return nil, "the shop has too many open live pages right now"
	case o.byAddr[addr] >= streamsPerAddress:
		return nil, "too many live pages are open from your network"
	case user != 0 && len(o.byUser[user]) >= streamsPerUser:
		return nil, tooManyForUser
	}
	sl := &streamSlot{user: user, addr: addr}
	o.all[sl] = struct{}{}
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
	if o.releaseHere(sl) && sl.counted {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := o.shared.CloseStream(ctx, sl.user); err != nil {
			o.log.Warn("open streams: a closed stream still counts until this instance restarts", "error", err)
		}
	}
}

func (o *openStreams) releaseHere(sl *streamSlot) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.all[sl]; !ok {
		return false
	}
	delete(o.all, sl)
	if o.byAddr[sl.addr]--; o.byAddr[sl.addr] <= 0 {
		delete(o.byAddr, sl.addr)
	}
	if sl.user != 0 {
		delete(o.byUser[sl.user], sl)
		if len(o.byUser[sl.user]) == 0 {
			delete(o.byUser, sl.user)
		}
	}
	return true
}

// endUser ends every open stream of the user, e.g. when their sessions end at logout.
func (o *openStreams) endUser(user int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for sl := range o.byUser[user] {
		sl.end()
	}
}

// each calls fn for every open stream.
func (o *openStreams) each(fn func(*streamSlot)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for sl := range o.all {
		fn(sl)
	}
}

// run attaches the slot's stream; a slot ended before that ends the stream at once.
func (sl *streamSlot) run(st *liveStream) {
	sl.mu.Lock()
	ended := sl.ended
	sl.stream = st
	sl.mu.Unlock()
	if ended {
		go st.end()
	}
}

// end stops the slot's stream. It runs under openStreams.mu, so the stream ends on its own
// goroutine (ending releases the slot).
func (sl *streamSlot) end() {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	if sl.ended {
		return
	}
	sl.ended = true
	if sl.stream != nil {
		go sl.stream.end()
	}
}

// beat queues a keep-alive on the slot's stream.
func (sl *streamSlot) beat() {
	sl.mu.Lock()
	st := sl.stream
	sl.mu.Unlock()
	if st != nil {
		st.queueKeepAlive()
	}
}
