package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// topicResult is what the many-streams run measured: streams on a few guest checkouts'
// status panels, each checkout watched by thousands of streams (one shopper's tabs, as far as
// the shop can tell: one topic), from many client addresses.
type topicResult struct {
	Topics, PerTopic   int
	Streams            int
	Addresses          int
	RSSBefore, RSSOpen uint64
	OpenTime           time.Duration
	P50, P99, Max      time.Duration // webhook sent → paid panel, over every stream of every topic
	Missing            int
}

// PerStream is the resident memory one open stream costs, on average.
func (r topicResult) PerStream() uint64 {
	if r.Streams == 0 || r.RSSOpen < r.RSSBefore {
		return 0
	}
	return (r.RSSOpen - r.RSSBefore) / uint64(r.Streams)
}

// streamAddresses is how many client addresses the many streams come from: the shop allows
// 100 open streams per address.
func streamAddresses(streams int) int { return max(1, (streams+49)/50) }

// benchTopicStreams opens perTopic streams on each order's checkout session, reads the server's
// memory, then confirms the orders one at a time and times every stream's paid panel.
func benchTopicStreams(ctx context.Context, srv *child, orders []benchOrder, perTopic int) (topicResult, error) {
	res := topicResult{Topics: len(orders), PerTopic: perTopic}
	var err error
	if res.RSSBefore, err = rss(srv.pid()); err != nil {
		return res, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	total := len(orders) * perTopic
	res.Addresses = streamAddresses(total)
	arrivals := make([]chan time.Time, len(orders))
	ready := make(chan error, total)
	conns := make(chan net.Conn, total)
	gate := make(chan struct{}, 32) // connect a few at a time, as browsers arriving would
	// The streams are read by a few goroutines waiting on epoll, as an event-driven client
	// would, not a goroutine per stream: with thousands of streams on the same 2 cores as the
	// shop, waking and scheduling one goroutine per stream would be a large share of what is
	// timed, and it is the bench's cost, not the shop's.
	watcher, err := newPanelWatcher(ctx)
	if err != nil {
		return res, err
	}
	var wg sync.WaitGroup
	began := time.Now()
	for t, o := range orders {
		arrivals[t] = make(chan time.Time, perTopic)
		path := "/orders/events?session_id=" + url.QueryEscape(o.SessionID)
		for i := range perTopic {
			n := t*perTopic + i
			addr := fmt.Sprintf("10.200.%d.%d", n%res.Addresses>>8, n%res.Addresses&255)
			wg.Add(1)
			go func() {
				defer wg.Done()
				gate <- struct{}{}
				c, st, err := openPanel(srv.addr, path, addr)
				<-gate
				if err == nil {
					conns <- c
					st.paid = arrivals[t]
					err = watcher.watch(c, st)
				}
				ready <- err
			}()
		}
	}
	defer func() {
		cancel()
		watcher.close() // before the sockets close: their numbers may be reused
		close(conns)
		for c := range conns {
			c.Close()
		}
		wg.Wait()
	}()
	for range total {
		select {
		case err := <-ready:
			if err != nil {
				return res, fmt.Errorf("open stream: %w", err)
			}
			res.Streams++
		case <-time.After(60 * time.Second):
			return res, fmt.Errorf("only %d of %d streams opened within a minute", res.Streams, total)
		}
	}
	res.OpenTime = time.Since(began)
	time.Sleep(500 * time.Millisecond) // let the server settle before reading its memory
	if res.RSSOpen, err = rss(srv.pid()); err != nil {
		return res, err
	}

	client := &http.Client{Timeout: 10 * time.Second}
	var lat []time.Duration
	for t, o := range orders {
		w := signWebhook(completedEvent(o, fmt.Sprintf("evt_bench_topic_%d", o.ID)))
		sent := time.Now()
		applied, err := postWebhook(ctx, client, srv.addr, w)
		if err == nil && !applied {
			err = fmt.Errorf("not applied")
		}
		if err != nil {
			return res, fmt.Errorf("webhook for order %d: %w", o.ID, err)
		}
		deadline := time.After(10 * time.Second)
	collect:
		for range perTopic {
			select {
			case at := <-arrivals[t]:
				lat = append(lat, at.Sub(sent))
			case <-deadline:
				break collect
			}
		}
	}
	res.Missing = total - len(lat)
	res.P50, res.P99, res.Max = percentile(lat, 50), percentile(lat, 99), percentile(lat, 100)
	return res, nil
}

// openPanel opens an event stream on a plain socket, as a browser behind the shop's proxy
// would (X-Forwarded-For), and reads it up to its first message (the current state). It
// returns the connection and what followed that message. A plain socket keeps the bench's own
// memory and CPU small with ten thousand streams open.
func openPanel(addr, path, clientAddr string) (net.Conn, *panelState, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (net.Conn, *panelState, error) {
		c.Close()
		return nil, nil, err
	}
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nAccept: text/event-stream\r\nX-Forwarded-For: " + clientAddr + "\r\n\r\n"
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		return fail(err)
	}
	br := bufio.NewReaderSize(c, 4<<10)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		return fail(err)
	}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		return fail(fmt.Errorf("GET %s: status %d, %s", path, res.StatusCode, res.Header.Get("Content-Type")))
	}
	// The body runs until the connection closes, unframed: it is what the reader holds and
	// what the socket sends next.
	var st panelState
	first := false
	buf := make([]byte, 4<<10)
	for !first {
		n, err := br.Read(buf)
		st.feed(buf[:n], func([]byte) { first = true })
		if err != nil && !first {
			return fail(fmt.Errorf("stream ended before its first message: %w", err))
		}
	}
	rest, _ := br.Peek(br.Buffered())
	st.pending = append(st.pending, rest...)
	c.SetDeadline(time.Time{})
	return c, &st, nil
}

// panelState is what has arrived on one status-panel stream: the start of a message not yet
// whole, and where to report the paid panel's arrival.
type panelState struct {
	pending []byte
	paid    chan<- time.Time
}

// feed takes bytes read from the stream and calls message for every whole message with data
// (not the retry: field, nor a keep-alive comment).
func (st *panelState) feed(b []byte, message func(data []byte)) {
	st.pending = append(st.pending, b...)
	for {
		i := bytes.Index(st.pending, []byte("\n\n"))
		if i < 0 {
			return
		}
		if msg := st.pending[:i]; bytes.Contains(msg, []byte("data:")) {
			message(msg)
		}
		st.pending = st.pending[:copy(st.pending, st.pending[i+2:])]
	}
}

// read feeds what was read, and sends the time the first message showing the checkout paid
// arrived.
func (st *panelState) read(b []byte) {
	st.feed(b, func(msg []byte) {
		if st.paid != nil && bytes.Contains(msg, []byte(`data-status="paid"`)) {
			st.paid <- time.Now()
			st.paid = nil // only the first paid message counts
		}
	})
}
