package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// runningShop is the whole program started through run, as main starts it.
type runningShop struct {
	URL  string // the shop's base URL
	Sim  string // the checkout simulator's URL ("" with real Stripe)
	Dir  string // the data folder
	stop func() error
	logs *logSink
}

// logSink collects a process's output; safe for concurrent writes. Every test here logs through it.
type logSink struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logSink) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.buf.String() }

// startShop calls run on free ports with a temporary database; env adds or overrides variables.
func startShop(t *testing.T, env map[string]string) *runningShop {
	t.Helper()
	dir := t.TempDir()
	vars := map[string]string{
		"ADDR":           "127.0.0.1:0",
		"SIMULATOR_ADDR": "127.0.0.1:0",
		"DB_PATH":        filepath.Join(dir, "storefront.db"),
	}
	for k, v := range env {
		vars[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	shop := &runningShop{Dir: dir, logs: &logSink{}}
	errc := make(chan error, 1)
	go func() {
		errc <- run(ctx, nil, func(k string) string { return vars[k] }, pw, pw)
		pw.Close()
	}()
	started := make(chan struct{})
	go func() {
		urlRe := regexp.MustCompile(`msg="storefront started" url=(\S+)`)
		simRe := regexp.MustCompile(`simulator=(http://\S+)`)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			shop.logs.Write([]byte(line + "\n"))
			if m := simRe.FindStringSubmatch(line); m != nil && shop.Sim == "" {
				shop.Sim = m[1]
			}
			if m := urlRe.FindStringSubmatch(line); m != nil {
				shop.URL = m[1]
				close(started)
			}
		}
	}()
	select {
	case <-started:
	case err := <-errc:
		t.Fatalf("run returned before starting: %v\n%s", err, shop.logs.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("shop did not start within 20 s\n%s", shop.logs.String())
	}
	var once sync.Once
	var stopErr error
	shop.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-errc:
			case <-time.After(15 * time.Second):
				stopErr = context.DeadlineExceeded
			}
		})
		return stopErr
	}
	t.Cleanup(func() {
		if err := shop.stop(); err != nil {
			t.Errorf("run did not stop cleanly: %v", err)
		}
		if t.Failed() {
			t.Logf("shop log:\n%s", shop.logs.String())
		}
	})
	return shop
}

func TestRunServesHealthAndCatalogue(t *testing.T) {
	shop := startShop(t, nil)
	res, err := http.Get(shop.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %d", res.StatusCode)
	}
	res, err = http.Get(shop.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{"Canvas Tote Bag", "Payments are simulated"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("catalogue lacks %q", want)
		}
	}
	if err := shop.stop(); err != nil {
		t.Fatal(err)
	}
	// The generated session key is kept for the next start, readable by the owner only.
	info, err := os.Stat(filepath.Join(shop.Dir, "session.key"))
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("session.key mode %v, want 0600", perm)
	}
}

func TestRunRefusesBadConfiguration(t *testing.T) {
	// A path below a regular file cannot be created, even by root.
	notADir := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notADir, nil, 0o600)
	emptyKeyDir := t.TempDir()
	os.WriteFile(filepath.Join(emptyKeyDir, "session.key"), []byte("\n"), 0o600)
	emptyKeyDB := filepath.Join(emptyKeyDir, "shop.db")
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"ShortSessionKey", map[string]string{"SESSION_KEY": "abcd"}, "SESSION_KEY"},
		{"MalformedSessionKey", map[string]string{"SESSION_KEY": "not a key!"}, "SESSION_KEY"},
		{"UnwritableDB", map[string]string{"DB_PATH": filepath.Join(notADir, "x.db")}, "DB_PATH"},
		{"BadAddr", map[string]string{"ADDR": "8000"}, "ADDR"},
		{"BadBaseURL", map[string]string{"BASE_URL": "localhost:8000"}, "BASE_URL"},
		{"SecretKeyWithoutWebhookSecret", map[string]string{"STRIPE_SECRET_KEY": "sk_test_x"}, "STRIPE_WEBHOOK_SECRET"},
		{"LiveKeyWithSimulator", map[string]string{"STRIPE_PUBLISHABLE_KEY": "pk_live_x"}, "live"},
		{"LiveKeyOverPlainHTTP", map[string]string{"STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_WEBHOOK_SECRET": "whsec_x",
			"STRIPE_API_BASE": "http://api.example.com"}, "STRIPE_API_BASE"},
		{"APIBaseNotAURL", map[string]string{"STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_WEBHOOK_SECRET": "whsec_x",
			"STRIPE_API_BASE": "notaurl"}, "STRIPE_API_BASE"},
		{"WebhookSecretForRealShopWithoutKey", map[string]string{"STRIPE_WEBHOOK_SECRET": "whsec_real",
			"BASE_URL": "https://shop.example.com"}, "STRIPE_WEBHOOK_SECRET"},
		{"BadMaxStreams", map[string]string{"MAX_STREAMS": "lots"}, "MAX_STREAMS"},
		{"BadPaymentUI", map[string]string{"PAYMENT_UI": "paypal"}, "PAYMENT_UI"},
		{"BadReconcileEvery", map[string]string{"RECONCILE_EVERY": "hourly"}, "RECONCILE_EVERY"},
		{"BadTrustedProxies", map[string]string{"TRUSTED_PROXIES": "localhost"}, "TRUSTED_PROXIES"},
		{"EmptySessionKeyFile", map[string]string{"DB_PATH": emptyKeyDB}, "empty"},
		{"BadSMTPURL", map[string]string{"SMTP_URL": "http://user:pw@mail.example.com"}, "SMTP_URL"},
		{"BadMailFrom", map[string]string{"MAIL_FROM": "not an address"}, "MAIL_FROM"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{"ADDR": "127.0.0.1:0", "SIMULATOR_ADDR": "127.0.0.1:0", "DB_PATH": filepath.Join(t.TempDir(), "x.db")}
			for k, v := range tc.env {
				vars[k] = v
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var out strings.Builder
			err := run(ctx, nil, func(k string) string { return vars[k] }, &out, &out)
			if err == nil {
				t.Fatal("run started with bad configuration")
			}
			if msg := err.Error(); !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Fatalf("error %q should be one line naming %s", msg, tc.want)
			}
		})
	}
}

// TestShutdownCutsOffSlowClients: a client sending its body a byte at a time does not hold the
// shop up after the grace period, and stopping is still a clean exit.
func TestShutdownCutsOffSlowClients(t *testing.T) {
	shop := startShop(t, map[string]string{"SHUTDOWN_GRACE": "300ms"})
	u, _ := url.Parse(shop.URL)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The server answers "100 Continue" when the handler starts reading the body: from then on
	// the request is in flight, and its body never comes but for one byte.
	fmt.Fprintf(conn, "POST /login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
		"Content-Length: 1000\r\nExpect: 100-continue\r\n\r\n", u.Host)
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.Contains(line, "100 Continue") {
		t.Fatalf("read %q (%v), want 100 Continue", line, err)
	}
	conn.Write([]byte("e"))
	done := make(chan error, 1)
	go func() { done <- shop.stop() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v, want a clean stop", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the shop had not stopped 10s after being asked to")
	}
}
