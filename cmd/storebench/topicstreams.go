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
				c, body, err := openRawStream(srv.addr, path, addr)
				<-gate
				if err != nil {
					ready <- err
					return
				}
				conns <- c
				watchPanel(body, arrivals[t], ready)
			}()
		}
	}
	defer func() {
		cancel()
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

// openRawStream opens an event stream on a plain socket, as a browser behind the shop's
// proxy would (X-Forwarded-For), and returns the connection and the stream's body. A plain
// socket keeps the bench's own memory and CPU small with ten thousand streams open.
func openRawStream(addr, path, clientAddr string) (net.Conn, io.Reader, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, nil, err
	}
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nAccept: text/event-stream\r\nX-Forwarded-For: " + clientAddr + "\r\n\r\n"
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		c.Close()
		return nil, nil, err
	}
	res, err := http.ReadResponse(bufio.NewReaderSize(c, 4<<10), nil)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		c.Close()
		return nil, nil, fmt.Errorf("GET %s: status %d, %s", path, res.StatusCode, res.Header.Get("Content-Type"))
	}
	c.SetDeadline(time.Time{})
	return c, res.Body, nil
}

// watchPanel reads a status-panel stream: its first message reports the stream ready, and the
// first message showing the checkout paid sends the time it arrived.
func watchPanel(body io.Reader, paid chan<- time.Time, ready chan<- error) {
	br := bufio.NewReaderSize(body, 4<<10)
	first := true
	var msg bytes.Buffer
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			msg.Write(line)
			continue
		}
		if err != nil {
			if first {
				ready <- fmt.Errorf("stream ended before its first message: %w", err)
			}
			return
		}
		if len(bytes.TrimRight(line, "\r\n")) > 0 {
			msg.Write(line)
			continue
		}
		if !bytes.Contains(msg.Bytes(), []byte("data:")) {
			msg.Reset()
			continue // the retry: field, or a keep-alive comment
		}
		if first {
			first = false
			ready <- nil
		} else if paid != nil && bytes.Contains(msg.Bytes(), []byte(`data-status="paid"`)) {
			paid <- time.Now()
			paid = nil // only the first paid message counts (a nil channel is never sent on again)
		}
		msg.Reset()
	}
}
