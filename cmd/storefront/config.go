package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	netmail "net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"storefront/mail"
)

// defaultMailFrom is the sender when MAIL_FROM is unset.
const defaultMailFrom = "Storefront <shop@localhost>"

// config is the validated configuration; see the table in README.md.
type config struct {
	addr           string
	baseURL        *url.URL // nil: derived from the listening port
	dbPath         string
	databaseURL    string // PostgreSQL; set, it is used instead of the SQLite file at dbPath
	sessionKey     string // comma-separated; empty: generated once and kept next to the database
	logLevel       slog.Level
	stripeSecret   string
	stripePublic   string
	webhookSecret  []string
	apiBase        string
	simulatorAddr  string
	simulatorDelay time.Duration
	simulatorAsync time.Duration // how long a simulated bank transfer takes to settle; 0: the simulator's default
	maxStreams     int
	shutdownGrace  time.Duration
	trustedProxies []netip.Prefix
	reconcileEvery time.Duration
	paymentUI      string
	smtp           *mail.SMTPConfig // nil: no SMTP server (the simulator's mailbox, or mail waits)
	mailFrom       string
}

// simulated reports whether the checkout simulator stands in for Stripe.
func (c config) simulated() bool { return c.stripeSecret == "" }

func loadConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	env := func(key, def string) string {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return v
		}
		return def
	}
	c := config{}
	fs := flag.NewFlagSet("storefront", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", env("ADDR", ":8000"), "listen address (ADDR)")
	baseURL := fs.String("base-url", env("BASE_URL", ""), "public URL of the shop (BASE_URL); default http://localhost:<port>")
	fs.StringVar(&c.dbPath, "db", env("DB_PATH", "./data/storefront.db"), "SQLite database file (DB_PATH)")
	logLevel := fs.String("log-level", env("LOG_LEVEL", "info"), "debug, info, warn or error (LOG_LEVEL)")
	fs.StringVar(&c.simulatorAddr, "simulator-addr", env("SIMULATOR_ADDR", "127.0.0.1:12180"), "checkout simulator address (SIMULATOR_ADDR)")
	simDelay := fs.String("simulator-webhook-delay", env("SIMULATOR_WEBHOOK_DELAY", "1s"), "how long simulated webhooks trail the payment (SIMULATOR_WEBHOOK_DELAY)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	c.databaseURL = env("DATABASE_URL", "")
	c.sessionKey = env("SESSION_KEY", "")
	c.stripeSecret = env("STRIPE_SECRET_KEY", "")
	c.stripePublic = env("STRIPE_PUBLISHABLE_KEY", "")
	c.apiBase = strings.TrimRight(env("STRIPE_API_BASE", ""), "/")
	for _, s := range strings.Split(env("STRIPE_WEBHOOK_SECRET", ""), ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.webhookSecret = append(c.webhookSecret, s)
		}
	}

	if c.databaseURL != "" {
		if !strings.HasPrefix(c.databaseURL, "postgres://") && !strings.HasPrefix(c.databaseURL, "postgresql://") {
			return c, errors.New("DATABASE_URL must be a PostgreSQL URL such as postgres://shop:secret@db.internal:5432/shop (unset, the shop uses the SQLite file DB_PATH)")
		}
		if c.sessionKey == "" {
			return c, errors.New("DATABASE_URL is set: set SESSION_KEY too (see the README), so that every instance of the shop signs cookies with the same key")
		}
	}
	if _, _, err := net.SplitHostPort(c.addr); err != nil {
		return c, fmt.Errorf("ADDR %q is not a listen address like :8000 or 127.0.0.1:8000", c.addr)
	}
	if *baseURL != "" {
		u, err := url.Parse(strings.TrimRight(*baseURL, "/"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return c, fmt.Errorf("BASE_URL %q must be an absolute http(s) URL such as https://shop.example.com", *baseURL)
		}
		c.baseURL = u
	}
	d, err := time.ParseDuration(*simDelay)
	if err != nil || d < 0 {
		return c, fmt.Errorf("SIMULATOR_WEBHOOK_DELAY %q must be a duration such as 1s or 0s", *simDelay)
	}
	c.simulatorDelay = d
	if v := env("SIMULATOR_ASYNC_DELAY", ""); v != "" {
		if c.simulatorAsync, err = time.ParseDuration(v); err != nil || c.simulatorAsync <= 0 {
			return c, fmt.Errorf("SIMULATOR_ASYNC_DELAY %q must be a duration such as 3s", v)
		}
	}
	if err := c.logLevel.UnmarshalText([]byte(*logLevel)); err != nil {
		return c, fmt.Errorf("LOG_LEVEL %q must be debug, info, warn or error", *logLevel)
	}
	c.paymentUI = env("PAYMENT_UI", "")
	switch {
	case c.paymentUI == "":
		c.paymentUI = "both" // with the simulator too: it serves a stand-in for Stripe.js
	case c.paymentUI != "checkout" && c.paymentUI != "elements" && c.paymentUI != "both":
		return c, fmt.Errorf("PAYMENT_UI %q must be checkout, elements or both", c.paymentUI)
	}
	every := env("RECONCILE_EVERY", "15m")
	if c.reconcileEvery, err = time.ParseDuration(every); err != nil || c.reconcileEvery < 0 {
		return c, fmt.Errorf("RECONCILE_EVERY %q must be a duration such as 15m (0 turns it off)", every)
	}
	grace := env("SHUTDOWN_GRACE", "10s")
	if c.shutdownGrace, err = time.ParseDuration(grace); err != nil || c.shutdownGrace < 0 {
		return c, fmt.Errorf("SHUTDOWN_GRACE %q must be a duration such as 10s", grace)
	}
	for _, p := range strings.Split(env("TRUSTED_PROXIES", ""), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		prefix, err := netip.ParsePrefix(p)
		if addr, aerr := netip.ParseAddr(p); aerr == nil {
			prefix, err = addr.Prefix(addr.BitLen())
		}
		if err != nil {
			return c, fmt.Errorf("TRUSTED_PROXIES %q must list addresses or networks such as 127.0.0.1 or 10.0.0.0/8", p)
		}
		c.trustedProxies = append(c.trustedProxies, prefix.Masked())
	}
	if v := env("MAX_STREAMS", ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return c, fmt.Errorf("MAX_STREAMS %q must be a whole number of open event streams, such as 10000", v)
		}
		c.maxStreams = n
	}
	if c.apiBase != "" {
		u, err := url.Parse(c.apiBase)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return c, fmt.Errorf("STRIPE_API_BASE %q must be an absolute http(s) URL such as http://127.0.0.1:12111", c.apiBase)
		}
		if u.Scheme != "https" && isLiveKey(c.stripeSecret) {
			return c, errors.New("STRIPE_API_BASE is plain http with a live STRIPE_SECRET_KEY: the key would cross the network unencrypted; use https")
		}
	}
	if raw := env("SMTP_URL", ""); raw != "" {
		smtp, err := mail.ParseSMTPURL(raw)
		if err != nil {
			return c, fmt.Errorf("SMTP_URL %s", err)
		}
		c.smtp = &smtp
	}
	c.mailFrom = env("MAIL_FROM", defaultMailFrom)
	if _, err := netmail.ParseAddress(c.mailFrom); err != nil {
		return c, fmt.Errorf("MAIL_FROM %q must be an address such as %q", c.mailFrom, defaultMailFrom)
	}
	if c.stripeSecret != "" {
		if !strings.HasPrefix(c.stripeSecret, "sk_") && !strings.HasPrefix(c.stripeSecret, "rk_") {
			return c, errors.New("STRIPE_SECRET_KEY must be a Stripe secret key (sk_test_… or sk_live_…)")
		}
		if len(c.webhookSecret) == 0 {
			return c, errors.New("STRIPE_WEBHOOK_SECRET is required with STRIPE_SECRET_KEY: use the whsec_… that `stripe listen` prints, or the endpoint's signing secret from the Dashboard")
		}
	} else {
		if strings.HasPrefix(c.stripePublic, "pk_live_") {
			return c, errors.New("a live STRIPE_PUBLISHABLE_KEY is set without STRIPE_SECRET_KEY: refusing to start the payment simulator with live keys configured")
		}
		if c.apiBase != "" {
			return c, errors.New("STRIPE_API_BASE needs STRIPE_SECRET_KEY (without a key the built-in simulator is used)")
		}
		if len(c.webhookSecret) > 0 && c.baseURL != nil && c.baseURL.Scheme == "https" {
			return c, errors.New("STRIPE_WEBHOOK_SECRET is set for an https BASE_URL but STRIPE_SECRET_KEY is not: " +
				"refusing to start the payment simulator signing with what looks like a real endpoint's secret; set STRIPE_SECRET_KEY too")
		}
	}
	return c, nil
}

// database is what store.Open takes: the PostgreSQL URL, or the SQLite file.
func (c config) database() string {
	if c.databaseURL != "" {
		return c.databaseURL
	}
	return c.dbPath
}

// databaseName names the database in messages and logs, without a password.
func (c config) databaseName() string {
	if c.databaseURL == "" {
		return c.dbPath
	}
	if u, err := url.Parse(c.databaseURL); err == nil {
		return u.Redacted()
	}
	return "DATABASE_URL"
}

// sessionKeyPairs returns gorilla/sessions key pairs (authentication, encryption) for each
// session key, newest first, so that old cookies stay valid after a key rotation. With no
// SESSION_KEY, a key is generated once and kept (mode 0600) next to the database.
func sessionKeyPairs(c config) ([][]byte, error) {
	raw := c.sessionKey
	if raw == "" {
		var err error
		if raw, err = storedSessionKey(filepath.Join(filepath.Dir(c.dbPath), "session.key")); err != nil {
			return nil, err
		}
	}
	var pairs [][]byte
	for i, part := range strings.Split(raw, ",") {
		key, err := decodeKey(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("SESSION_KEY (key %d): %w", i+1, err)
		}
		auth := hmac.New(sha512.New, key)
		auth.Write([]byte("storefront session authentication"))
		enc := hmac.New(sha256.New, key)
		enc.Write([]byte("storefront session encryption"))
		pairs = append(pairs, auth.Sum(nil), enc.Sum(nil))
	}
	return pairs, nil
}

// decodeKey accepts a key in hex or base64 of at least 32 bytes.
func decodeKey(s string) ([]byte, error) {
	var key []byte
	var err error
	if key, err = hex.DecodeString(s); err != nil {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			if key, err = enc.DecodeString(s); err == nil {
				break
			}
		}
	}
	if err != nil {
		return nil, errors.New("must be hex or base64 (generate one with `openssl rand -hex 32`)")
	}
	if len(key) < 32 {
		return nil, fmt.Errorf("is %d bytes; use at least 32 (generate one with `openssl rand -hex 32`)", len(key))
	}
	return key, nil
}

// storedSessionKey reads the key kept at path, or generates one and saves it there. The file is
// written whole or not at all (a temporary file, synced, then linked into place), so a crash
// cannot leave an empty or half-written key; two processes starting together agree on one key.
func storedSessionKey(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		key := strings.TrimSpace(string(b))
		if key == "" {
			return "", fmt.Errorf("session key file %s is empty: delete it to generate a new key (everyone is logged out), or put a key in it, or set SESSION_KEY", path)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read session key: %w", err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	encoded := hex.EncodeToString(key)
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("create data folder: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".session.key-*")
	if err != nil {
		return "", fmt.Errorf("save session key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err == nil {
		_, err = tmp.WriteString(encoded + "\n")
		if err == nil {
			err = tmp.Sync()
		}
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("save session key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, os.ErrExist) {
		return storedSessionKey(path) // another process saved one first: use it
	} else if err != nil {
		return "", fmt.Errorf("save session key: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // the new name survives a power cut too
		d.Close()
	}
	return encoded, nil
}

// isLiveKey reports whether a Stripe key moves real money.
func isLiveKey(key string) bool {
	return strings.HasPrefix(key, "sk_live_") || strings.HasPrefix(key, "rk_live_")
}

func randomSecret(prefix string) string {
	b := make([]byte, 24)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}
