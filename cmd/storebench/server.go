package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// benchWebhookSecret signs the bench's webhooks; the shop under test is started with it.
const benchWebhookSecret = "whsec_storebench_0123456789abcdef0123456789abcdef"

// child is a server process started by the bench.
type child struct {
	cmd  *exec.Cmd
	addr string
	out  *tail
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done is closed
}

// shopProcess describes how to start the storefront binary on one database and address.
type shopProcess struct {
	bin    string
	dbPath string // an SQLite file, or a PostgreSQL URL
	addr   string
	apiURL string   // an unused local port: real-Stripe mode without reaching Stripe
	extra  []string // settings beyond the defaults, such as LOG_LEVEL=warn or MAX_STREAMS
}

func newShopProcess(bin, dbPath string) (*shopProcess, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	api, err := freeAddr()
	if err != nil {
		return nil, err
	}
	return &shopProcess{bin: bin, dbPath: dbPath, addr: addr, apiURL: "http://" + api}, nil
}

// with is a copy of p listening on its own free port, with extra settings added.
func (p *shopProcess) with(extra ...string) (*shopProcess, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	q := *p
	q.addr = addr
	q.extra = append(append([]string(nil), p.extra...), extra...)
	return &q, nil
}

// env is the default configuration a user runs, in real-Stripe mode (so no simulator runs in
// the process) with the bench's webhook secret; the log level is the default, info.
func (p *shopProcess) env() []string {
	database := "DB_PATH=" + p.dbPath
	if strings.HasPrefix(p.dbPath, "postgres") {
		database = "DATABASE_URL=" + p.dbPath
	}
	env := append(cleanEnv(),
		"ADDR="+p.addr,
		database,
		"STRIPE_SECRET_KEY=sk_test_bench",
		"STRIPE_PUBLISHABLE_KEY=pk_test_bench",
		"STRIPE_WEBHOOK_SECRET="+benchWebhookSecret,
		"STRIPE_API_BASE="+p.apiURL,
		// Simulated shoppers come through a reverse proxy, each from an address of their own,
		// so that per-address limits apply to each of them as in a deployment.
		"TRUSTED_PROXIES=127.0.0.1",
	)
	return append(env, p.extra...)
}

// start launches the shop and returns once the catalogue `/` answers 200, with the time that
// took from just before the launch: the first page a shopper could get.
func (p *shopProcess) start(ctx context.Context) (*child, time.Duration, error) {
	return startChild(ctx, p.bin, nil, p.env(), p.addr, "/")
}

// cleanEnv is the bench's environment without anything that configures the shop.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "STRIPE_"), name == "ADDR", name == "DB_PATH", name == "DATABASE_URL", name == "BASE_URL",
			name == "SESSION_KEY", name == "LOG_LEVEL", name == "SIMULATOR_ADDR", name == "MAX_STREAMS",
			name == "TRUSTED_PROXIES", name == "PAYMENT_UI", name == "RECONCILE_EVERY":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// startChild runs bin and polls http://addr+path until it answers 200.
func startChild(ctx context.Context, bin string, args, env []string, addr, path string) (*child, time.Duration, error) {
	c := &child{cmd: exec.Command(bin, args...), addr: addr, out: &tail{max: 16 << 10}, done: make(chan struct{})}
	c.cmd.Env = env
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	// The child must not outlive the bench, even if the bench is killed.
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	health := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	url := "http://" + addr + path

	began := time.Now()
	if err := c.cmd.Start(); err != nil {
		return nil, 0, fmt.Errorf("start %s: %w", filepath.Base(bin), err)
	}
	go func() { c.err = c.cmd.Wait(); close(c.done) }()
	for {
		res, err := health.Get(url)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return c, time.Since(began), nil
			}
		}
		select {
		case <-c.done:
			return nil, 0, fmt.Errorf("%s exited before answering %s (%v):\n%s", filepath.Base(bin), path, c.err, c.out)
		case <-ctx.Done():
			c.kill()
			return nil, 0, ctx.Err()
		case <-time.After(500 * time.Microsecond):
		}
		if time.Since(began) > 30*time.Second {
			c.kill()
			return nil, 0, fmt.Errorf("%s did not answer %s within 30 s:\n%s", filepath.Base(bin), path, c.out)
		}
	}
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// stop asks the process to shut down (SIGTERM) and waits; after 15 s it is killed.
func (c *child) stop() error {
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(15 * time.Second):
		c.kill()
		return fmt.Errorf("server did not stop within 15 s of SIGTERM:\n%s", c.out)
	}
	var exit *exec.ExitError
	if c.err != nil && !errors.As(c.err, &exit) {
		return c.err
	}
	if c.err != nil {
		return fmt.Errorf("server exited with %v:\n%s", c.err, c.out)
	}
	return nil
}

func (c *child) kill() {
	c.cmd.Process.Kill()
	<-c.done
}

// freeAddr returns a loopback address with a port that is free now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
}

// tail keeps the last max bytes written to it, to show when a child fails.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// contains reports whether the kept output contains s.
func (t *tail) contains(s string) bool { return strings.Contains(t.String(), s) }
