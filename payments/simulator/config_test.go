package simulator_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"storefront/payments/simulator"
)

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	cases := []struct {
		name   string
		mutate func(c *simulator.Config)
		want   string
	}{
		{"live key", func(c *simulator.Config) { c.SecretKey = "sk_live_123" }, "live"},
		{"restricted live key", func(c *simulator.Config) { c.SecretKey = "rk_live_123" }, "live"},
		{"publishable key", func(c *simulator.Config) { c.SecretKey = "pk_test_123" }, "sk_test_"},
		{"all interfaces", func(c *simulator.Config) { c.Addr = "0.0.0.0:0" }, "loopback"},
		{"empty host", func(c *simulator.Config) { c.Addr = ":0" }, "loopback"},
		{"LAN address", func(c *simulator.Config) { c.Addr = "192.168.1.10:12180" }, "loopback"},
		{"no port", func(c *simulator.Config) { c.Addr = "127.0.0.1" }, "host:port"},
		{"no database", func(c *simulator.Config) { c.DBPath = "" }, "DBPath"},
		{"no webhook URL", func(c *simulator.Config) { c.WebhookURL = "" }, "WebhookURL"},
		{"relative webhook URL", func(c *simulator.Config) { c.WebhookURL = "/webhook/" }, "WebhookURL"},
		{"no webhook secret", func(c *simulator.Config) { c.WebhookSecret = "" }, "WebhookSecret"},
		{"negative delay", func(c *simulator.Config) { c.AsyncDelay = -time.Second }, "AsyncDelay"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t, rc)
			tc.mutate(&cfg)
			sim, err := simulator.New(cfg)
			if err == nil {
				sim.Close()
				t.Fatal("New accepted the config")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestNewAcceptsLoopbackForms(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	for _, addr := range []string{"127.0.0.1:0", "localhost:0"} {
		cfg := testConfig(t, rc)
		cfg.Addr = addr
		sim, err := simulator.New(cfg)
		if err != nil {
			t.Errorf("New(%s): %v", addr, err)
			continue
		}
		if !strings.HasPrefix(sim.URL(), "http://") || strings.HasSuffix(sim.URL(), ":0") {
			t.Errorf("URL() = %q for %s, want the bound port", sim.URL(), addr)
		}
		if err := sim.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
}

func TestRunReturnsNilOnCancel(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	cfg := testConfig(t, rc)
	cfg.DBPath = filepath.Join(t.TempDir(), "nested", "dir", "sim.db")
	sim, err := simulator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sim.Run(ctx) }()
	waitFor(t, "the simulator to answer", func() bool {
		resp, _ := getPageNoFail(sim.URL() + "/healthz")
		return resp == 200
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return within 2 s")
	}
}
