package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"storefront/store"
)

// sseResult is what the live-update run measured.
type sseResult struct {
	Users, StreamsPerUser int
	Streams               int // streams open when the webhooks were sent
	Orders                int // orders confirmed while the streams were open
	P50, P99, Max         time.Duration
	AllP99                time.Duration // until the last of the owner's streams had the message
	Missing               int           // (order, stream) pairs that never got the message
	RSSBefore, RSSOpen    uint64        // server memory before opening the streams, and with them open
	SignupTime            time.Duration
}

// sseUser is an account with its session cookie and the order that will be confirmed.
type sseUser struct {
	email  string
	addr   string // the shopper's own address, as a reverse proxy would forward it
	cookie *http.Cookie
	order  benchOrder
}

// benchSSE signs up users, gives each a pending order, opens streamsPerUser order streams per
// user, then confirms the orders one at a time with signed webhooks and times, for each, from
// just before sending the webhook to the first stream message showing the order paid.
func benchSSE(ctx context.Context, srv *child, dbPath string, users, streamsPerUser int) (sseResult, error) {
	res := sseResult{Users: users, StreamsPerUser: streamsPerUser}
	began := time.Now()
	accounts, err := signupUsers(ctx, srv.addr, users)
	if err != nil {
		return res, err
	}
	res.SignupTime = time.Since(began)
	// The bench writes the orders itself, next to the running shop: WAL and busy_timeout allow it.
	if err := giveOrders(ctx, dbPath, accounts); err != nil {
		return res, err
	}
	if res.RSSBefore, err = rss(srv.pid()); err != nil {
		return res, err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	track := newTracker()
	streamClient := &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: -1}}
	ready := make(chan error, users*streamsPerUser)
	var wg sync.WaitGroup
	gate := make(chan struct{}, 32) // connect a few at a time, as browsers arriving would
	for _, u := range accounts {
		for range streamsPerUser {
			wg.Add(1)
			go func() {
				defer wg.Done()
				gate <- struct{}{}
				body, err := openStream(ctx, streamClient, srv.addr, u)
				<-gate
				if err != nil {
					ready <- err
					return
				}
				defer body.Close()
				readStream(body, track, ready)
			}()
		}
	}
	for range users * streamsPerUser {
		select {
		case err := <-ready:
			if err != nil {
				return res, fmt.Errorf("open stream: %w", err)
			}
			res.Streams++
		case <-time.After(30 * time.Second):
			return res, fmt.Errorf("only %d of %d streams opened within 30 s", res.Streams, users*streamsPerUser)
		}
	}
	time.Sleep(200 * time.Millisecond) // let the server settle before reading its memory
	if res.RSSOpen, err = rss(srv.pid()); err != nil {
		return res, err
	}

	client := &http.Client{Timeout: 10 * time.Second}
	var first, all []time.Duration
	for _, u := range accounts {
		w := signWebhook(completedEvent(u.order, fmt.Sprintf("evt_bench_sse_%d", u.order.ID)))
		r := track.expect(u.order.ID, streamsPerUser)
		r.sent = time.Now()
		applied, err := postWebhook(ctx, client, srv.addr, w)
		if err == nil && !applied {
			err = errors.New("not applied")
		}
		if err != nil {
			return res, fmt.Errorf("webhook for order %d: %w", u.order.ID, err)
		}
		select {
		case <-r.done:
		case <-time.After(5 * time.Second):
		}
		f, l, got := track.result(u.order.ID)
		if got == 0 {
			return res, fmt.Errorf("order %d: no stream of its owner got the paid message within 5 s", u.order.ID)
		}
		res.Missing += streamsPerUser - got
		first = append(first, f.Sub(r.sent))
		if got == streamsPerUser {
			all = append(all, l.Sub(r.sent))
		}
		res.Orders++
	}
	res.P50, res.P99, res.Max = percentile(first, 50), percentile(first, 99), percentile(first, 100)
	res.AllP99 = percentile(all, 99)
	cancel()
	streamClient.CloseIdleConnections()
	wg.Wait()
	return res, nil
}

// signupUsers creates accounts through POST /signup, which answers with a logged-in cookie.
// A few at a time: each signup is a bcrypt hash on the server.
func signupUsers(ctx context.Context, addr string, n int) ([]*sseUser, error) {
	client := &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	stamp := strconv.FormatInt(time.Now().UnixNano(), 36)
	users := make([]*sseUser, n)
	errs := make(chan error, n)
	gate := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gate <- struct{}{}
			defer func() { <-gate }()
			u := &sseUser{email: fmt.Sprintf("bench-%s-%d@example.com", stamp, i), addr: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)}
			form := url.Values{"email": {u.email}, "password": {"correct horse battery"}}
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/signup", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Forwarded-For", u.addr)
			res, err := client.Do(req)
			if err != nil {
				errs <- err
				return
			}
			res.Body.Close()
			if res.StatusCode != http.StatusSeeOther {
				errs <- fmt.Errorf("signup %s: status %d", u.email, res.StatusCode)
				return
			}
			for _, c := range res.Cookies() {
				if c.Name == "storefront" {
					u.cookie = c
				}
			}
			if u.cookie == nil {
				errs <- fmt.Errorf("signup %s: no session cookie", u.email)
				return
			}
			users[i] = u
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, fmt.Errorf("sign up: %w", err)
	}
	return users, nil
}

// giveOrders makes one pending order with an attached Checkout Session for each user.
func giveOrders(ctx context.Context, dbPath string, users []*sseUser) error {
	db, err := store.Open(ctx, dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	products, err := db.Products(ctx)
	if err != nil || len(products) == 0 {
		return fmt.Errorf("give orders: no products (%v)", err)
	}
	for i, u := range users {
		acct, err := db.UserByEmail(ctx, u.email)
		if err != nil {
			return fmt.Errorf("give orders: %s: %w", u.email, err)
		}
		if u.order, err = prepareOrder(ctx, db, store.CartRef{UserID: acct.ID}, products, i); err != nil {
			return fmt.Errorf("give orders: %s: %w", u.email, err)
		}
	}
	return nil
}

func openStream(ctx context.Context, client *http.Client, addr string, u *sseUser) (io.ReadCloser, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/orders/events", nil)
	req.Header.Set("X-Forwarded-For", u.addr)
	req.Header.Set("Accept", "text/event-stream")
	req.AddCookie(u.cookie)
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		res.Body.Close()
		return nil, fmt.Errorf("GET /orders/events: status %d, %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	return res.Body, nil
}

// paidRow finds an order row showing the order paid in a stream message.
var paidRow = regexp.MustCompile(`id="order-(\d+)"[^>]*data-status="paid"`)

// readStream reads SSE messages: the first (the snapshot) reports the stream ready, every
// later one is checked for orders turned paid.
func readStream(body io.Reader, track *tracker, ready chan<- error) {
	br := bufio.NewReaderSize(body, 16<<10)
	var data bytes.Buffer
	snapshot := true
	for {
		line, err := br.ReadBytes('\n')
		if err != nil {
			if snapshot {
				ready <- fmt.Errorf("stream ended before its first message: %w", err)
			}
			return
		}
		line = bytes.TrimRight(line, "\r\n")
		switch {
		case len(line) == 0:
			if data.Len() == 0 {
				continue // the retry: field, or an empty snapshot
			}
			if snapshot {
				snapshot = false
				ready <- nil
			} else {
				now := time.Now()
				for _, m := range paidRow.FindAllSubmatch(data.Bytes(), -1) {
					id, _ := strconv.ParseInt(string(m[1]), 10, 64)
					track.arrive(id, now)
				}
			}
			data.Reset()
		case bytes.HasPrefix(line, []byte("data:")):
			data.Write(bytes.TrimPrefix(bytes.TrimPrefix(line, []byte("data:")), []byte(" ")))
			data.WriteByte('\n')
		}
	}
}

// tracker collects when each expected order's paid message reached the streams.
type tracker struct {
	mu       sync.Mutex
	receipts map[int64]*receipt
}

type receipt struct {
	sent, first, last time.Time
	got, need         int
	done              chan struct{}
}

func newTracker() *tracker { return &tracker{receipts: map[int64]*receipt{}} }

func (t *tracker) expect(orderID int64, streams int) *receipt {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := &receipt{need: streams, done: make(chan struct{})}
	t.receipts[orderID] = r
	return r
}

func (t *tracker) arrive(orderID int64, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.receipts[orderID]
	if r == nil || r.got == r.need {
		return
	}
	if r.got == 0 {
		r.first = at
	}
	r.last = at
	r.got++
	if r.got == r.need {
		close(r.done)
	}
}

func (t *tracker) result(orderID int64) (first, last time.Time, got int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.receipts[orderID]
	return r.first, r.last, r.got
}
