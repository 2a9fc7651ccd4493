package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// abTarget is one server and one kind of request in the interleaved catalogue runs.
type abTarget struct {
	key     string
	addr    string
	pid     int
	headers []string
}

// abRuns are the runs of one target, one per round.
type abRuns []loadResult

// median is the target's median run: the median throughput and, separately, the median
// latencies; the peak memory is the highest seen.
func (a abRuns) median() loadResult {
	if len(a) == 0 {
		return loadResult{}
	}
	var rps []float64
	var p50, p99 []time.Duration
	var m loadResult
	for _, r := range a {
		rps = append(rps, r.RPS())
		p50, p99 = append(p50, r.P50), append(p99, r.P99)
		m.PeakRSS = max(m.PeakRSS, r.PeakRSS)
		m.Errors += r.Errors
	}
	slices.Sort(rps)
	m.Elapsed = time.Second
	m.Requests = int(rps[len(rps)/2] + 0.5)
	m.P50, m.P99 = median(p50), median(p99)
	return m
}

// benchCatalogue loads every target for d, one after the other, and does that rounds times, so
// that whatever else the machine is doing weighs on every target alike. Each target first gets
// warmup of load that is not counted.
func benchCatalogue(ctx context.Context, gen loadGenerator, targets []abTarget, rounds int, warmup, d time.Duration) (map[string]abRuns, error) {
	out := map[string]abRuns{}
	for _, t := range targets {
		if _, err := gen.load(ctx, t.addr, "/", t.headers, warmup, t.pid); err != nil {
			return nil, fmt.Errorf("warm up %s: %w", t.key, err)
		}
	}
	for round := range rounds {
		for _, t := range targets {
			progress("catalogue round %d of %d: %s", round+1, rounds, t.key)
			r, err := gen.load(ctx, t.addr, "/", t.headers, d, t.pid)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", t.key, err)
			}
			out[t.key] = append(out[t.key], r)
		}
	}
	return out, nil
}

// shopperWithCart signs up a shopper through the shop, puts two products in their cart and
// opens one page, as a browser would, so that the confirmations shown once are gone; it returns
// the session cookie as a request header line.
func shopperWithCart(ctx context.Context, addr string, productIDs []int64) (string, error) {
	client := &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var cookie string
	do := func(method, path string, form url.Values) (int, error) {
		req, _ := http.NewRequestWithContext(ctx, method, "http://"+addr+path, strings.NewReader(form.Encode()))
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.Header.Set("X-Forwarded-For", "10.250.0.1")
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		res, err := client.Do(req)
		if err != nil {
			return 0, fmt.Errorf("%s %s: %w", method, path, err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		for _, c := range res.Cookies() {
			if c.Name == "storefront" {
				cookie = c.Name + "=" + c.Value // the browser keeps what the shop sets
			}
		}
		if res.StatusCode >= 400 {
			return res.StatusCode, fmt.Errorf("%s %s: status %d", method, path, res.StatusCode)
		}
		return res.StatusCode, nil
	}
	email := "bench-cart-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "@example.com"
	status, err := do(http.MethodPost, "/signup", url.Values{"email": {email}, "password": {"correct horse battery"}})
	if err != nil {
		return "", fmt.Errorf("sign up: %w", err)
	}
	if status != http.StatusSeeOther || cookie == "" {
		return "", fmt.Errorf("sign up: status %d, cookie %t", status, cookie != "")
	}
	for i, id := range productIDs[:min(2, len(productIDs))] {
		if _, err := do(http.MethodPost, "/cart/items", url.Values{"product_id": {strconv.FormatInt(id, 10)}, "quantity": {strconv.Itoa(i + 1)}}); err != nil {
			return "", fmt.Errorf("add to cart: %w", err)
		}
	}
	if _, err := do(http.MethodGet, "/", nil); err != nil {
		return "", err
	}
	return "Cookie: " + cookie, nil
}
