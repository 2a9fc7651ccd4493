package handlers

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Live stream settings.
const (
	heartbeatEvery = 15 * time.Second
	reconnectAfter = 2 * time.Second
	streamBuffer   = 8                // changes a stream may fall behind before it is dropped
	streamWrite    = 10 * time.Second // a client that takes longer to accept a message is dropped
)

var (
	keepAlive      = []byte(": keep-alive\n\n")
	errStreamEnded = errors.New("stream ended")
)

// liveStream is one open event stream's connection and queue of messages.
//
// No goroutine waits on an open stream. A publisher pushes a message (a function that renders
// it), which queues it; a short-lived goroutine (flush) writes the queue out and exits. On
// HTTP/1.1 the stream owns the connection (takeConnection), and one parked read notices the
// browser leaving.
type liveStream struct {
	s           *server
	slot        *streamSlot
	unsubscribe func() // stops the publisher's pushes

	conn net.Conn                 // the connection, once taken from the HTTP server
	w    http.ResponseWriter      // else the response, written while serveOnRequest waits
	rc   *http.ResponseController //
	done chan struct{}            // closed when a stream on the response ends

	mu      sync.Mutex
	queue   []message // messages to write; nil is a keep-alive
	writing bool      // a flush is running (or the current state is not out yet)
	ended   bool

	wmu sync.Mutex // held while writing
}

// message renders one SSE message; messages shared by many streams render once.
type message func() ([]byte, error)

// newLiveStream is a stream in slot whose pushes wait until start, once the current state is out.
func newLiveStream(s *server, slot *streamSlot) *liveStream {
	return &liveStream{s: s, slot: slot, writing: true}
}

// takeConnection answers the request on the raw connection when the server speaks HTTP/1.1,
// writing the response head (the headers set so far, and Connection: close, since the body
// runs until the connection ends) into first. Otherwise the stream writes to the response.
func (st *liveStream) takeConnection(w http.ResponseWriter, first *bytes.Buffer) {
	rc := http.NewResponseController(w)
	if conn, _, err := rc.Hijack(); err == nil {
		conn.SetDeadline(time.Time{}) // the server's deadlines were for a request, not a stream
		st.conn = conn
		first.WriteString("HTTP/1.1 200 OK\r\n")
		w.Header().Write(first)
		first.WriteString("Connection: close\r\n\r\n")
		return
	}
	st.w, st.rc, st.done = w, rc, make(chan struct{})
	rc.SetWriteDeadline(time.Time{})
	w.WriteHeader(http.StatusOK)
}

// open answers the request with an event stream whose first message is current (the state
// the page starts from), then lets pushed messages flow. It returns false, having ended the
// stream, when the browser is already gone.
func (st *liveStream) open(w http.ResponseWriter, current []byte) bool {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	first := buffers.Get().(*bytes.Buffer)
	defer buffers.Put(first)
	first.Reset()
	st.takeConnection(w, first)
	first.WriteString("retry: " + strconv.Itoa(int(reconnectAfter.Milliseconds())) + "\n\n")
	first.Write(current)
	if st.write(first.Bytes()) != nil {
		st.end()
		return false
	}
	st.start()
	return true
}

// start lets queued messages flow once the current state is out, and watches for the end.
func (st *liveStream) start() {
	st.slot.run(st)
	if st.conn != nil {
		go func() {
			var b [1]byte
			st.conn.Read(b[:]) // a browser sends nothing more: this returns when it leaves
			st.end()
		}()
	}
	select {
	case <-st.s.Done:
		st.end()
	default:
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.queue) == 0 {
		st.writing = false
	} else if !st.ended {
		go st.flush()
	}
}

// serveOnRequest holds the request open for a stream that writes to the response, until the
// browser leaves or the stream ends.
func (st *liveStream) serveOnRequest(r *http.Request) {
	select {
	case <-r.Context().Done():
		st.end()
	case <-st.done:
	}
	st.wmu.Lock() // a write in flight finishes before the handler returns
	st.wmu.Unlock()
}

// push queues a message. Publishers call it under the broker's lock: it never blocks.
func (st *liveStream) push(m message) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ended {
		return
	}
	if len(st.queue) >= streamBuffer {
		go st.end() // too far behind: the browser reconnects and gets the current state
		return
	}
	st.queue = append(st.queue, m)
	if !st.writing {
		st.writing = true
		go st.flush()
	}
}

// queueKeepAlive queues a comment line, unless something is being written anyway.
func (st *liveStream) queueKeepAlive() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ended || st.writing {
		return
	}
	st.queue = append(st.queue, nil)
	st.writing = true
	go st.flush()
}

// flush writes the queue out, then exits.
func (st *liveStream) flush() {
	for {
		st.mu.Lock()
		if st.ended || len(st.queue) == 0 {
			st.writing = false
			st.queue = nil
			st.mu.Unlock()
			return
		}
		m := st.queue[0]
		st.queue = st.queue[1:]
		st.mu.Unlock()
		msg, err := keepAlive, error(nil)
		if m != nil {
			msg, err = m()
		}
		if err == nil && len(msg) > 0 {
			err = st.write(msg)
		}
		if err != nil {
			st.end()
			return
		}
	}
}

// write writes raw SSE bytes to the browser.
func (st *liveStream) write(b []byte) error {
	st.wmu.Lock()
	defer st.wmu.Unlock()
	st.mu.Lock()
	ended := st.ended
	st.mu.Unlock()
	if ended {
		return errStreamEnded
	}
	if st.conn != nil {
		st.conn.SetWriteDeadline(time.Now().Add(streamWrite))
		_, err := st.conn.Write(b)
		return err
	}
	st.rc.SetWriteDeadline(time.Now().Add(streamWrite))
	if _, err := st.w.Write(b); err != nil {
		return err
	}
	return st.rc.Flush()
}

// end stops the stream: it unsubscribes, gives its slot back and closes the connection. It is
// safe to call more than once and from any goroutine, but not under the broker's lock.
func (st *liveStream) end() {
	st.mu.Lock()
	if st.ended {
		st.mu.Unlock()
		return
	}
	st.ended, st.queue = true, nil
	st.mu.Unlock()
	if st.unsubscribe != nil {
		st.unsubscribe()
	}
	st.s.streams.release(st.slot)
	switch {
	case st.conn != nil:
		st.conn.Close()
	case st.done != nil:
		close(st.done)
	}
}

// tendStreams sends every open stream a keep-alive now and then (proxies close quiet
// connections, and a write is how a stream learns its browser left), and ends them all when
// the server shuts down.
func (s *server) tendStreams() {
	t := time.NewTicker(heartbeatEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.streams.each((*streamSlot).beat)
		case <-s.Done:
			s.streams.each((*streamSlot).end)
			return
		}
	}
}
