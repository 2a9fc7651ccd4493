// Command storesoak replays the known attacks on the shop against a running server for a few
// minutes (huge and oversized forms, sign-up, cart and checkout floods, stream floods, password
// guessing from many addresses, slow clients) while it watches what every shopper would notice:
// /healthz stays fast, the owner can still log in, and memory stays bounded. `make soak-attack`
// runs it. Attackers use many loopback source addresses (127.x.y.z), as a botnet would.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	duration := flag.Duration("duration", 3*time.Minute, "how long to attack")
	maxRSS := flag.Int("max-rss-mib", 150, "fail when the server's resident memory exceeds this")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := soak(ctx, *duration, uint64(*maxRSS)<<20); err != nil {
		fmt.Fprintf(os.Stderr, "storesoak: %v\n", err)
		os.Exit(1)
	}
}

func soak(ctx context.Context, d time.Duration, maxRSS uint64) error {
	dir, err := os.MkdirTemp("", "storesoak-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "storefront")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/storefront")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	srv := exec.Command(bin)
	srv.Env = append(os.Environ(), "ADDR="+addr, "SIMULATOR_ADDR=127.0.0.1:0", "DB_PATH="+filepath.Join(dir, "shop.db"), "LOG_LEVEL=error")
	var logs bytes.Buffer
	srv.Stdout, srv.Stderr = &logs, &logs
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { srv.Process.Signal(syscall.SIGTERM); srv.Wait() }()
	base := "http://" + addr
	if err := waitHealthy(ctx, base); err != nil {
		return fmt.Errorf("%w\n%s", err, logs.String())
	}

	// The owner's account, which the guessing attack targets.
	owner := newClient("127.9.9.9")
	if code := owner.post(base+"/signup", url.Values{"email": {"owner@example.com"}, "password": {"owner's long password"}}); code != http.StatusSeeOther {
		return fmt.Errorf("owner sign-up: status %d", code)
	}

	actx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	tally := newTally()
	var wg sync.WaitGroup
	for name, attack := range attacks(base) {
		for worker := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; actx.Err() == nil; n++ {
					tally.add(name, attack(actx, worker, n))
				}
			}()
		}
	}
	wg.Add(1)
	go func() { defer wg.Done(); slowClients(actx, addr, 200) }()

	began := time.Now()
	var health []time.Duration
	var healthFailures, ownerOK, ownerRefused int
	var ownerCodes []int
	var rssSamples []uint64
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for i := 0; actx.Err() == nil; i++ {
		select {
		case <-actx.Done():
		case <-tick.C:
		}
		start := time.Now()
		res, err := http.Get(base + "/healthz")
		health = append(health, time.Since(start))
		if err != nil || res.StatusCode != http.StatusOK {
			healthFailures++
		}
		if res != nil {
			res.Body.Close()
		}
		if i%4 == 0 {
			if r, err := rss(srv.Process.Pid); err == nil {
				rssSamples = append(rssSamples, r)
			}
		}
		if i%40 == 0 { // every ten seconds the owner logs in, from an address that never guessed
			c := newClient("127.9.9." + strconv.Itoa(10+i/40%200))
			if code := c.post(base+"/login", url.Values{"email": {"owner@example.com"}, "password": {"owner's long password"}}); code == http.StatusSeeOther {
				ownerOK++
			} else {
				ownerRefused++
				ownerCodes = append(ownerCodes, code)
			}
		}
		if i%240 == 0 {
			fmt.Fprintf(os.Stderr, "storesoak [%4.0fs]: rss %s, healthz last %v\n", time.Since(began).Seconds(), mib(last(rssSamples)), health[len(health)-1].Round(time.Microsecond))
		}
	}
	wg.Wait()

	slices.Sort(health)
	fmt.Printf("storesoak: %v of attacks on %s\n\n", time.Since(began).Round(time.Second), base)
	fmt.Print(tally.String())
	fmt.Printf("\n/healthz every 250 ms: %d checks, p50 %v, p99 %v, max %v, %d failed\n", len(health),
		pct(health, 50), pct(health, 99), health[len(health)-1].Round(time.Microsecond), healthFailures)
	fmt.Printf("owner logins from fresh addresses: %d ok, %d refused %v\n", ownerOK, ownerRefused, ownerCodes)
	if l, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Printf("load average at the end: %s", l)
	}
	fmt.Printf("server RSS: start %s, max %s, end %s\n", mib(first(rssSamples)), mib(slices.Max(rssSamples)), mib(last(rssSamples)))
	var problems []string
	if healthFailures > 0 {
		problems = append(problems, fmt.Sprintf("%d health checks failed", healthFailures))
	}
	if ownerRefused > 0 {
		problems = append(problems, "the owner was refused")
	}
	if m := slices.Max(rssSamples); m > maxRSS {
		problems = append(problems, "RSS reached "+mib(m))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}

// attack is one request of an attack; it returns the status (0 for a transport error).
type attack func(ctx context.Context, worker, n int) int

func attacks(base string) map[string]attack {
	product := url.Values{"product_id": {"1"}, "quantity": {"1"}}
	hugeEmail := strings.Repeat("a", 60<<10) + "@example.com"
	return map[string]attack{
		"login, 60 KiB email": func(ctx context.Context, w, n int) int {
			return newClient(addrOf(1, w, n)).post(base+"/login", url.Values{"email": {hugeEmail}, "password": {"x"}})
		},
		"login, 9.9 MB body": func(ctx context.Context, w, n int) int {
			return newClient(addrOf(2, w, n)).postBody(base+"/login", "application/x-www-form-urlencoded",
				bytes.NewReader(append([]byte("email="), bytes.Repeat([]byte{'a'}, 9_900_000)...)))
		},
		"cart, 8 MB multipart": func(ctx context.Context, w, n int) int {
			var body bytes.Buffer
			mw := multipart.NewWriter(&body)
			mw.WriteField("product_id", "1")
			part, _ := mw.CreateFormFile("f", "big")
			part.Write(bytes.Repeat([]byte{'x'}, 8<<20))
			mw.Close()
			return newClient(addrOf(3, w, n)).postBody(base+"/cart/items", mw.FormDataContentType(), &body)
		},
		"password guessing": func(ctx context.Context, w, n int) int {
			return newClient(addrOf(4, w, n)).post(base+"/login", url.Values{"email": {"owner@example.com"}, "password": {"guess " + strconv.Itoa(n)}})
		},
		"sign-ups": func(ctx context.Context, w, n int) int {
			return newClient(addrOf(5, w, n/20)).post(base+"/signup", url.Values{"email": {fmt.Sprintf("bot%d.%d@example.com", w, n)}, "password": {"botpassword"}})
		},
		"anonymous carts": func(ctx context.Context, w, n int) int {
			return newClient(addrOf(6, w, n/50)).post(base+"/cart/items", product)
		},
		"checkouts": func(ctx context.Context, w, n int) int {
			c := newClient(addrOf(7, w, n/50))
			c.post(base+"/cart/items", product)
			return c.post(base+"/create-checkout-session/", url.Values{})
		},
		"event streams": func(ctx context.Context, w, n int) int {
			c := newClient(addrOf(8, w, n/200))
			c.post(base+"/signup", url.Values{"email": {fmt.Sprintf("streamer%d.%d@example.com", w, n)}, "password": {"botpassword"}})
			return c.holdStreams(ctx, base+"/orders/events", 25)
		},
	}
}

// addrOf spreads an attack over loopback source addresses: 127.kind.worker.(n mod 250).
func addrOf(kind, worker, n int) string {
	return fmt.Sprintf("127.%d.%d.%d", kind, worker, n%250+1)
}

// client is a browser-like client with its own cookies, connecting from a given source address.
type client struct{ http *http.Client }

func newClient(from string) *client {
	jar, _ := cookiejar.New(nil)
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	return &client{http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		Transport:     &http.Transport{DialContext: dialer.DialContext, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *client) post(target string, form url.Values) int {
	return c.postBody(target, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
}

func (c *client) postBody(target, contentType string, body io.Reader) int {
	req, _ := http.NewRequest(http.MethodPost, target, body)
	req.Header.Set("Content-Type", contentType)
	res, err := c.http.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// holdStreams opens up to n event streams at once, holds them a moment, and returns the status
// of the last one opened (429 once a cap is reached).
func (c *client) holdStreams(ctx context.Context, target string, n int) int {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	status := 0
	for range n {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		res, err := c.http.Do(req)
		if err != nil {
			return status
		}
		status = res.StatusCode
		if status != http.StatusOK {
			res.Body.Close()
			return status
		}
		defer res.Body.Close()
	}
	<-ctx.Done()
	return status
}

// slowClients keeps n connections sending a request one byte a second.
func slowClients(ctx context.Context, addr string, n int) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(addrOf(9, i/250, i))}}
				conn, err := d.DialContext(ctx, "tcp", addr)
				if err != nil {
					time.Sleep(time.Second)
					continue
				}
				req := "POST /login HTTP/1.1\r\nHost: shop\r\nContent-Length: 100000\r\n\r\n"
				for j := 0; ctx.Err() == nil; j++ {
					b := []byte{'x'}
					if j < len(req) {
						b = []byte{req[j]}
					}
					if _, err := conn.Write(b); err != nil {
						break
					}
					select {
					case <-ctx.Done():
					case <-time.After(time.Second):
					}
				}
				conn.Close()
			}
		}()
	}
	wg.Wait()
}

// tally counts answers per attack and status.
type tally struct {
	mu     sync.Mutex
	counts map[string]map[int]int
	total  atomic.Int64
}

func newTally() *tally { return &tally{counts: map[string]map[int]int{}} }

func (t *tally) add(name string, status int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.counts[name] == nil {
		t.counts[name] = map[int]int{}
	}
	t.counts[name][status]++
	t.total.Add(1)
}

func (t *tally) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var b strings.Builder
	names := make([]string, 0, len(t.counts))
	for n := range t.counts {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		var parts []string
		statuses := make([]int, 0, len(t.counts[n]))
		for s := range t.counts[n] {
			statuses = append(statuses, s)
		}
		slices.Sort(statuses)
		for _, s := range statuses {
			label := strconv.Itoa(s)
			if s == 0 {
				label = "conn error"
			}
			parts = append(parts, fmt.Sprintf("%s×%d", label, t.counts[n][s]))
		}
		fmt.Fprintf(&b, "%-22s %s\n", n, strings.Join(parts, ", "))
	}
	return b.String()
}

func waitHealthy(ctx context.Context, base string) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if res, err := http.Get(base + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("the shop did not become healthy within 60 s")
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// rss is the process's resident memory in bytes, from /proc.
func rss(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}

func pct(sorted []time.Duration, p int) time.Duration {
	return sorted[min(len(sorted)-1, len(sorted)*p/100)].Round(time.Microsecond)
}

func mib(b uint64) string { return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) + " MiB" }

func first(s []uint64) uint64 {
	if len(s) == 0 {
		return 0
	}
	return s[0]
}

func last(s []uint64) uint64 {
	if len(s) == 0 {
		return 0
	}
	return s[len(s)-1]
}
