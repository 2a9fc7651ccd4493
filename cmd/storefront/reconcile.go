package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"storefront/payments"
	"storefront/reconcile"
	"storefront/store"
)

// reconcileCommand is `storefront reconcile [-since 72h]`: apply the payment provider's events
// of the last -since that the shop missed, check old pending checkouts, and print one summary
// line. It uses the same configuration as the server; in simulator mode the server (which runs
// the simulator) must be running.
func reconcileCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("storefront reconcile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	since := fs.Duration("since", reconcile.DefaultSince, "how far back to list events (Stripe keeps 30 days; it retries for 3)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("reconcile: unexpected %q (usage: storefront reconcile [-since 72h])", strings.Join(fs.Args(), " "))
	}
	if *since <= 0 {
		return fmt.Errorf("reconcile: -since %v must be positive", *since)
	}
	cfg, err := loadConfig(nil, getenv, stderr)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.database())
	if err != nil {
		return fmt.Errorf("database %s: %w", cfg.databaseName(), err)
	}
	defer db.Close()
	gw := payments.Config{SecretKey: cfg.stripeSecret, APIBase: cfg.apiBase, MaxRetries: 2}
	if cfg.simulated() {
		gw = payments.Config{SecretKey: "sk_test_simulator", APIBase: "http://" + cfg.simulatorAddr, MaxRetries: 0}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	r, err := reconcile.Run(ctx, payments.NewGateway(gw), db, *since, nil)
	if errors.Is(err, reconcile.ErrRunning) {
		return fmt.Errorf("reconcile: %w", err)
	}
	if err != nil {
		if cfg.simulated() {
			return fmt.Errorf("reconcile: %w (in simulator mode the shop must be running: its simulator is at %s)", err, cfg.simulatorAddr)
		}
		return fmt.Errorf("reconcile: %w", err)
	}
	fmt.Fprintln(stdout, r.String())
	return nil
}
