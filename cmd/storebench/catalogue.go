package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// loadResult is what a fixed-duration GET load measured.
type loadResult struct {
	Requests int
	Errors   int
	Elapsed  time.Duration
	P50, P99 time.Duration
	PeakRSS  uint64 // highest VmRSS of the server during the load
}

// RPS is the successful requests per second.
func (r loadResult) RPS() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

// capture fetches a page once with the given headers ("Name: value"), to replay its bytes from
// the bare server.
func capture(ctx context.Context, addr, path string, headers ...string) (capturedPage, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	// The bytes as sent: no transparent decompression.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	defer client.CloseIdleConnections()
	res, err := client.Do(req)
	if err != nil {
		return capturedPage{}, fmt.Errorf("fetch %s: %w", path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return capturedPage{}, fmt.Errorf("fetch %s: %w", path, err)
	}
	if res.StatusCode != http.StatusOK {
		return capturedPage{}, fmt.Errorf("fetch %s: status %d", path, res.StatusCode)
	}
	h := res.Header.Clone()
	for _, k := range []string{"Date", "Content-Length", "Transfer-Encoding", "Connection"} {
		h.Del(k)
	}
	return capturedPage{Header: h, Body: body}, nil
}

// loadGET keeps conns keep-alive connections busy with GET path for d (after warmup, which is
// not counted) and samples the server's memory meanwhile. Each connection is a plain socket
// that writes a fixed request and parses the answer with http.ReadResponse: a client that
// costs little CPU, since on a small machine it shares the cores with the server.
func loadGET(ctx context.Context, addr, path string, headers []string, conns int, warmup, d time.Duration) (loadResult, error) {
	request := []byte("GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nUser-Agent: storebench\r\nAccept: text/html\r\n" +
		strings.Join(append(headers, ""), "\r\n") + "\r\n")
	if warmup > 0 {
		if _, err := runLoad(ctx, addr, request, conns, warmup); err != nil {
			return loadResult{}, err
		}
	}
	return runLoad(ctx, addr, request, conns, d)
}

func runLoad(ctx context.Context, addr string, request []byte, conns int, d time.Duration) (loadResult, error) {
	type worker struct {
		lat    []time.Duration
		errors int
		err    error
	}
	workers := make([]worker, conns)
	var wg sync.WaitGroup
	start := make(chan struct{})
	var began time.Time
	for i := range workers {
		wg.Add(1)
		go func(w *worker) {
			defer wg.Done()
			w.lat = make([]time.Duration, 0, 1<<14)
			var conn net.Conn
			var br *bufio.Reader
			defer func() {
				if conn != nil {
					conn.Close()
				}
			}()
			<-start
			end := began.Add(d)
			for ctx.Err() == nil {
				t0 := time.Now()
				if t0.After(end) {
					return
				}
				if conn == nil {
					c, err := net.Dial("tcp", addr)
					if err != nil {
						w.err = err
						return
					}
					conn, br = c, bufio.NewReaderSize(c, 32<<10)
				}
				ok, keep := roundTrip(conn, br, request)
				if ok {
					w.lat = append(w.lat, time.Since(t0))
				} else {
					w.errors++
				}
				if !keep {
					conn.Close()
					conn = nil
				}
			}
		}(&workers[i])
	}
	began = time.Now()
	close(start)
	wg.Wait()
	res := loadResult{Elapsed: time.Since(began)}
	var all []time.Duration
	for _, w := range workers {
		if w.err != nil {
			return res, fmt.Errorf("load %s: %w", addr, w.err)
		}
		all = append(all, w.lat...)
		res.Errors += w.errors
	}
	res.Requests = len(all)
	res.P50, res.P99 = percentile(all, 50), percentile(all, 99)
	return res, ctx.Err()
}

// roundTrip sends one request and reads the whole answer; ok means a 200, keep that the
// connection can carry the next request.
func roundTrip(conn net.Conn, br *bufio.Reader, request []byte) (ok, keep bool) {
	if _, err := conn.Write(request); err != nil {
		return false, false
	}
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		return false, false
	}
	_, err = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return err == nil && res.StatusCode == http.StatusOK, err == nil && !res.Close
}

// percentile returns the p-th percentile (nearest rank) of samples, sorting them in place.
func percentile(samples []time.Duration, p float64) time.Duration {
	if len(samples) == 0 {
		return 0
	}
	if !slices.IsSorted(samples) {
		slices.Sort(samples)
	}
	i := int(float64(len(samples))*p/100+0.5) - 1
	return samples[min(max(i, 0), len(samples)-1)]
}
