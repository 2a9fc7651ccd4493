package simulator

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// DefaultAddr is the loopback address the simulator listens on when Config.Addr is empty.
const DefaultAddr = "127.0.0.1:12180"

// Defaults applied by New to zero Config fields.
const (
	defaultSessionTTL = 24 * time.Hour
	defaultAsyncDelay = 3 * time.Second
	defaultRetryBase  = 500 * time.Millisecond
	defaultRetryMax   = 30 * time.Second
)

// Config configures a Simulator; zero values take the documented defaults.
type Config struct {
	// Addr is the listen address; it must be loopback (127.0.0.1:PORT,
	// localhost:PORT, [::1]:PORT), port 0 picks a free port. Default DefaultAddr.
	Addr string
	// DBPath is the SQLite file holding sessions, scheduled work and pending deliveries. Required.
	DBPath string
	// WebhookURL is where events are POSTed, e.g. http://127.0.0.1:8000/webhook/. Required.
	WebhookURL string
	// WebhookSecret (whsec_…) signs every event. Required.
	WebhookSecret string
	// SecretKey is the API key the storefront will use; it must be a test key (sk_test_…) when set.
	SecretKey string
	// SessionTTL is how long a session stays open before it expires; default 24h.
	SessionTTL time.Duration
	// AsyncDelay is the delay before a bank transfer's asynchronous result; default 3s.
	AsyncDelay time.Duration
	// WebhookDelay holds each event back this long before its first delivery, as Stripe's
	// webhooks usually trail the redirect by a moment; zero sends at once.
	WebhookDelay time.Duration
	// RetryBase is the first retry delay of a failed delivery, doubled at each retry; default 500ms.
	RetryBase time.Duration
	// RetryMax caps the retry delay; default 30s.
	RetryMax time.Duration
	// Logger receives the simulator's logs; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock for object timestamps and session expiry; nil means time.Now.
	Now func() time.Time
	// Faults switches on webhook fault injection at start, in the syntax of FaultsEnv
	// ("drop:0.2,duplicate:0.1,delay:2s,reorder,newer-api-version"); empty means the value of
	// the FaultsEnv environment variable, and "off" none. The dev page switches faults at run time.
	Faults string
	// FaultSeed seeds the chance-based faults so a run can be repeated; 0 picks a random seed.
	FaultSeed uint64
}

// withDefaults validates c and fills in its defaults.
func (c Config) withDefaults() (Config, error) {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if err := checkLoopback(c.Addr); err != nil {
		return c, err
	}
	if strings.TrimSpace(c.DBPath) == "" {
		return c, errors.New("simulator: DBPath is required")
	}
	if c.WebhookURL == "" {
		return c, errors.New("simulator: WebhookURL is required")
	}
	u, err := url.Parse(c.WebhookURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("simulator: WebhookURL %q must be an absolute http(s) URL", c.WebhookURL)
	}
	if c.WebhookSecret == "" {
		return c, errors.New("simulator: WebhookSecret is required to sign events")
	}
	if err := checkTestKey(c.SecretKey); err != nil {
		return c, err
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"SessionTTL", &c.SessionTTL, defaultSessionTTL},
		{"AsyncDelay", &c.AsyncDelay, defaultAsyncDelay},
		{"RetryBase", &c.RetryBase, defaultRetryBase},
		{"RetryMax", &c.RetryMax, defaultRetryMax},
	} {
		if *d.v < 0 {
			return c, fmt.Errorf("simulator: %s must not be negative (got %s)", d.name, *d.v)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if c.RetryMax < c.RetryBase {
		c.RetryMax = c.RetryBase
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Faults == "" {
		c.Faults = os.Getenv(FaultsEnv)
	}
	if _, err := parseFaults(c.Faults); err != nil {
		return c, err
	}
	return c, nil
}

// checkTestKey refuses live keys, because the simulator must never be mistaken for a way to take real money.
func checkTestKey(key string) error {
	switch {
	case key == "":
		return nil
	case strings.HasPrefix(key, "sk_live_"), strings.HasPrefix(key, "rk_live_"):
		return errors.New("simulator: refusing a live API key (sk_live_…): the checkout simulator is test-mode only; use an sk_test_… key or unset STRIPE_SECRET_KEY")
	case !strings.HasPrefix(key, "sk_test_"):
		return fmt.Errorf("simulator: SecretKey must be a test secret key starting with sk_test_ (got %q…)", truncate(key, 8))
	}
	return nil
}

// checkLoopback refuses addresses reachable from other machines: the simulator has no real authentication.
func checkLoopback(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("simulator: Addr %q is not host:port: %w", addr, err)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("simulator: Addr %q has an invalid port", addr)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("simulator: Addr %q is not a loopback address; the simulator only listens on 127.0.0.1, [::1] or localhost", addr)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
