package main

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// wrkPath is where Debian's wrk package installs the load generator the issue measures with.
const wrkPath = "/usr/bin/wrk"

// loadGenerator drives a fixed-duration GET load: wrk when installed, else the bench's own client.
type loadGenerator struct {
	wrk     string // path of wrk; empty: the bench's own client
	conns   int
	threads int
}

func newLoadGenerator(conns int, ownClient bool) loadGenerator {
	g := loadGenerator{conns: conns, threads: 2}
	if !ownClient {
		if p, err := exec.LookPath(wrkPath); err == nil {
			g.wrk = p
		}
	}
	return g
}

// name says which tool measured, for the report.
func (g loadGenerator) name() string {
	if g.wrk != "" {
		return fmt.Sprintf("`wrk -t%d -c%d` (%s)", g.threads, g.conns, g.wrk)
	}
	return fmt.Sprintf("the bench's own client (%d connections; wrk is not installed: `apt-get install wrk`)", g.conns)
}

// load runs GET path on addr for d with the given extra headers, sampling pid's memory.
func (g loadGenerator) load(ctx context.Context, addr, path string, headers []string, d time.Duration, pid int) (loadResult, error) {
	sampler := sampleRSS(pid)
	var res loadResult
	var err error
	if g.wrk != "" {
		res, err = g.runWrk(ctx, addr, path, headers, d)
	} else {
		res, err = loadGET(ctx, addr, path, headers, g.conns, 0, d)
	}
	res.PeakRSS = sampler.stop()
	if err == nil && res.Errors > 0 {
		err = fmt.Errorf("GET %s on %s: %d answers were not 200", path, addr, res.Errors)
	}
	return res, err
}

var (
	wrkRPS      = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkRequests = regexp.MustCompile(`(\d+) requests in ([0-9.]+\w+),`)
	wrkPct      = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s)\s*$`)
	wrkNon2xx   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	wrkSocket   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

func (g loadGenerator) runWrk(ctx context.Context, addr, path string, headers []string, d time.Duration) (loadResult, error) {
	args := []string{"-t" + strconv.Itoa(g.threads), "-c" + strconv.Itoa(g.conns),
		"-d" + strconv.Itoa(int(d.Round(time.Second).Seconds())) + "s", "--latency"}
	for _, h := range headers {
		args = append(args, "-H", h)
	}
	args = append(args, "http://"+addr+path)
	out, err := exec.CommandContext(ctx, g.wrk, args...).CombinedOutput()
	if err != nil {
		return loadResult{}, fmt.Errorf("wrk: %w\n%s", err, out)
	}
	return parseWrk(string(out))
}

// parseWrk reads the figures of wrk's --latency report.
func parseWrk(out string) (loadResult, error) {
	var r loadResult
	m := wrkRPS.FindStringSubmatch(out)
	n := wrkRequests.FindStringSubmatch(out)
	if m == nil || n == nil {
		return r, fmt.Errorf("wrk printed no throughput:\n%s", out)
	}
	rps, _ := strconv.ParseFloat(m[1], 64)
	r.Requests, _ = strconv.Atoi(n[1])
	r.Elapsed = time.Duration(float64(r.Requests) / rps * float64(time.Second))
	for _, p := range wrkPct.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(p[2], 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[p[3]]
		d := time.Duration(v * float64(unit))
		if p[1] == "50" {
			r.P50 = d
		} else {
			r.P99 = d
		}
	}
	if e := wrkNon2xx.FindStringSubmatch(out); e != nil {
		r.Errors, _ = strconv.Atoi(e[1])
	}
	if e := wrkSocket.FindStringSubmatch(out); e != nil {
		// Failed connections and requests unanswered within wrk's 2 s count; read and write
		// errors are the connections wrk itself cuts when its time is up.
		for _, s := range []string{e[1], e[4]} {
			k, _ := strconv.Atoi(s)
			r.Errors += k
		}
	}
	if !strings.Contains(out, "Latency Distribution") {
		return r, fmt.Errorf("wrk printed no latency distribution:\n%s", out)
	}
	return r, nil
}
