package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"time"
)

// results is everything one run measured.
type results struct {
	opts       options
	started    time.Time
	pageBytes  int
	coldFirst  time.Duration   // first launch: creates the database and runs the migrations
	coldStarts []time.Duration // launches on the existing database
	rssIdle    uint64
	shop, bare loadResult
	webhooks   webhookResult
	sse        sseResult
	machine    machine
}

// run measures everything in order, each server a child process on the same temporary database.
func run(ctx context.Context, o options) error {
	work, err := workDir(o.workdir)
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	r := &results{opts: o, started: time.Now(), machine: describeMachine(work)}

	bin := filepath.Join(work, "storefront")
	progress("building the storefront")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/storefront")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("go build ./cmd/storefront (run the bench from the repository root): %w", err)
	}
	dbPath := filepath.Join(work, "data", "storefront.db")
	shop, err := newShopProcess(bin, dbPath)
	if err != nil {
		return err
	}

	progress("cold start: a first launch that creates the database, then %d more", o.launches)
	if r.coldFirst, err = coldStart(ctx, shop); err != nil {
		return err
	}
	for range o.launches {
		d, err := coldStart(ctx, shop)
		if err != nil {
			return err
		}
		r.coldStarts = append(r.coldStarts, d)
	}

	progress("seeding %d pending guest orders (server stopped)", o.orders)
	orders, err := seedGuestOrders(ctx, dbPath, o.orders)
	if err != nil {
		return err
	}

	srv, _, err := shop.start(ctx)
	if err != nil {
		return err
	}
	defer srv.kill()
	time.Sleep(500 * time.Millisecond)
	if r.rssIdle, err = rss(srv.pid()); err != nil {
		return err
	}
	page, err := capture(ctx, srv.addr, "/")
	if err != nil {
		return err
	}
	r.pageBytes = len(page.Body)
	progress("catalogue: GET / on %d connections for %s (after %s of warm-up)", o.conns, o.duration, o.warmup)
	if r.shop, err = loadGET(ctx, srv.addr, "/", o.conns, o.warmup, o.duration, srv.pid()); err != nil {
		return err
	}
	progress("webhooks: %d signed checkout.session.completed from %d senders", len(orders), o.senders)
	if r.webhooks, err = benchWebhooks(ctx, srv.addr, orders, o.senders); err != nil {
		return err
	}
	if err := srv.stop(); err != nil {
		return err
	}
	if r.webhooks.Paid, err = countPaid(ctx, dbPath, orders); err != nil {
		return err
	}

	progress("catalogue: the same bytes from a bare net/http server")
	if err := page.save(work); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	bareAddr, err := freeAddr()
	if err != nil {
		return err
	}
	bare, _, err := startChild(ctx, self, []string{bareServerFlag, "-addr", bareAddr, "-page", work}, cleanEnv(), bareAddr)
	if err != nil {
		return err
	}
	defer bare.kill()
	if r.bare, err = loadGET(ctx, bareAddr, "/", o.conns, o.warmup, o.duration, bare.pid()); err != nil {
		return err
	}
	if err := bare.stop(); err != nil {
		return err
	}

	progress("live updates: %d users × %d streams (signing up %d users takes a while: bcrypt)", o.users, o.streamsPerUser, o.users)
	srv2, _, err := shop.start(ctx)
	if err != nil {
		return err
	}
	defer srv2.kill()
	if r.sse, err = benchSSE(ctx, srv2, dbPath, o.users, o.streamsPerUser); err != nil {
		return err
	}
	if err := srv2.stop(); err != nil {
		return err
	}
	for _, bad := range []string{"SQLITE_BUSY", "database is locked"} {
		if srv.out.contains(bad) || srv2.out.contains(bad) {
			return fmt.Errorf("the shop logged %q:\n%s%s", bad, srv.out, srv2.out)
		}
	}

	report := r.markdown()
	fmt.Print(r.table())
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(report), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", o.out, err)
		}
		progress("wrote %s", o.out)
	}
	if r.webhooks.Paid != len(orders) {
		return fmt.Errorf("only %d of %d orders are paid after their webhooks were acknowledged", r.webhooks.Paid, len(orders))
	}
	if r.sse.Missing > 0 {
		return fmt.Errorf("%d (order, stream) pairs never got the paid message", r.sse.Missing)
	}
	return nil
}

// coldStart launches the shop, times it to its first 200 on /healthz and stops it.
func coldStart(ctx context.Context, shop *shopProcess) (time.Duration, error) {
	c, d, err := shop.start(ctx)
	if err != nil {
		return 0, err
	}
	return d, c.stop()
}

// median of durations (sorted in place).
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// workDir makes the folder for the database. A tmpfs would make fsync free and the webhook
// figures meaningless, so then it falls back to ./data (ignored by git).
func workDir(parent string) (string, error) {
	if parent == "" {
		var fs syscall.Statfs_t
		if err := syscall.Statfs(os.TempDir(), &fs); err == nil && fs.Type != tmpfsMagic {
			parent = os.TempDir()
		} else {
			parent = "data"
		}
	}
	if err := os.MkdirAll(parent, 0o750); err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp(parent, "storebench-")
	if err != nil {
		return "", err
	}
	return filepath.Abs(dir)
}
