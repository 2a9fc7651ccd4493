package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// results is everything one run measured.
type results struct {
	opts                options
	started             time.Time
	loadBefore          string          // load average when the run began
	loadAfter           string          // and when it ended
	generator           string          // what loaded the catalogue
	pageBytes, cartPage int             // the anonymous catalogue page, and a logged-in shopper's with a cart
	coldFirst           time.Duration   // first launch: creates the database and runs the migrations
	coldStarts          []time.Duration // launches on the existing database
	bareColdStarts      []time.Duration // launches of a bare net/http server, timed the same way
	rssIdle             uint64
	catalogue           map[string]abRuns // by catalogue target
	webhooks            webhookResult
	sse                 sseResult
	topics              topicResult
	postgres            *pgResult // nil when not measured
	machine             machine
}

// The catalogue targets, loaded in this order in every round.
const (
	catShop     = "shop, anonymous"
	catBare     = "bare, anonymous page"
	catShopCart = "shop, logged in with a cart"
	catBareCart = "bare, logged-in page"
	catShopWarn = "shop at LOG_LEVEL=warn, anonymous"
)

// run measures everything in order, each server a child process on the same temporary database.
func run(ctx context.Context, o options) error {
	work, err := workDir(o.workdir)
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	r := &results{opts: o, started: time.Now(), machine: describeMachine(work), loadBefore: loadAverage()}
	progress("load average %s", r.loadBefore)

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

	progress("cold start to the first 200 on /: a first launch that creates the database, then %d more", o.launches)
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
	// The floor: what launching any Go web server and polling it costs on this machine.
	self, err := os.Executable()
	if err != nil {
		return err
	}
	floor := filepath.Join(work, "floor")
	if err := os.MkdirAll(floor, 0o750); err != nil {
		return err
	}
	small := capturedPage{Header: http.Header{"Content-Type": {"text/html; charset=utf-8"}}, Body: []byte("<p>ok</p>")}
	for _, name := range []string{pageAnonymous, pageCart} {
		if err := small.save(floor, name); err != nil {
			return err
		}
	}
	for range o.launches {
		addr, err := freeAddr()
		if err != nil {
			return err
		}
		c, d, err := startChild(ctx, self, []string{bareServerFlag, "-addr", addr, "-page", floor}, cleanEnv(), addr, "/")
		if err != nil {
			return err
		}
		c.kill()
		r.bareColdStarts = append(r.bareColdStarts, d)
	}

	progress("seeding %d pending guest orders, and %d for the many-streams run (server stopped)", o.orders, o.topics)
	orders, err := seedGuestOrders(ctx, dbPath, o.orders+o.topics, "storebench-")
	if err != nil {
		return err
	}
	orders, topicOrders := orders[:o.orders], orders[o.orders:]

	if o.runs("catalogue") {
		if err := r.benchCatalogue(ctx, shop, work); err != nil {
			return err
		}
	}

	srv, _, err := shop.start(ctx)
	if err != nil {
		return err
	}
	defer srv.kill()
	if !o.runs("webhooks") {
		orders = nil
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

	// Enough streams allowed in all for the many-streams run; every other setting stays default.
	streamShop, err := shop.with("MAX_STREAMS=" + strconv.Itoa(max(20_000, 2*o.topics*o.perTopic)))
	if err != nil {
		return err
	}
	if !o.runs("streams") {
		o.users, o.topics = 0, 0
		topicOrders = nil
	}
	progress("live updates: %d users × %d streams (signing up %d users takes a while: bcrypt)", o.users, o.streamsPerUser, o.users)
	srv2, _, err := streamShop.start(ctx)
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

	progress("many streams: %d guest checkouts × %d streams each, on a fresh process", o.topics, o.perTopic)
	srv3, _, err := streamShop.start(ctx)
	if err != nil {
		return err
	}
	defer srv3.kill()
	time.Sleep(500 * time.Millisecond)
	if r.topics, err = benchTopicStreams(ctx, srv3, topicOrders, o.perTopic); err != nil {
		return err
	}
	if err := srv3.stop(); err != nil {
		return err
	}
	for _, c := range []*child{srv, srv2, srv3} {
		for _, bad := range []string{"SQLITE_BUSY", "database is locked"} {
			if c.out.contains(bad) {
				return fmt.Errorf("the shop logged %q:\n%s", bad, c.out)
			}
		}
	}
	if o.postgres != "" && o.runs("postgres") {
		if err := r.benchPostgres(ctx, bin, work, o.postgres); err != nil {
			return err
		}
	}
	r.loadAfter = loadAverage()
	progress("load average %s", r.loadAfter)

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
	if r.topics.Missing > 0 {
		return fmt.Errorf("%d of the many streams never got the paid message", r.topics.Missing)
	}
	return nil
}

// benchCatalogue runs the shop twice (the default configuration, and LOG_LEVEL=warn to price
// the access log) next to a bare server replaying the shop's pages, and loads them in turn.
func (r *results) benchCatalogue(ctx context.Context, shop *shopProcess, work string) error {
	o := r.opts
	srv, _, err := shop.start(ctx)
	if err != nil {
		return err
	}
	defer srv.kill()
	warnShop, err := shop.with("LOG_LEVEL=warn")
	if err != nil {
		return err
	}
	quiet, _, err := warnShop.start(ctx)
	if err != nil {
		return err
	}
	defer quiet.kill()
	time.Sleep(500 * time.Millisecond)
	if r.rssIdle, err = rss(srv.pid()); err != nil {
		return err
	}
	products, err := productIDs(ctx, shop.dbPath)
	if err != nil {
		return err
	}
	cookie, err := shopperWithCart(ctx, srv.addr, products)
	if err != nil {
		return err
	}
	anonymous, err := capture(ctx, srv.addr, "/")
	if err != nil {
		return err
	}
	withCart, err := capture(ctx, srv.addr, "/", cookie)
	if err != nil {
		return err
	}
	r.pageBytes, r.cartPage = len(anonymous.Body), len(withCart.Body)
	bare, err := startBare(ctx, work, anonymous, withCart)
	if err != nil {
		return err
	}
	defer bare.kill()

	gen := newLoadGenerator(o.conns, o.ownClient)
	r.generator = gen.name()
	progress("catalogue: %d interleaved rounds of %s per target with %s", o.rounds, o.duration, r.generator)
	targets := []abTarget{
		{key: catShop, addr: srv.addr, pid: srv.pid()},
		{key: catBare, addr: bare.addr, pid: bare.pid()},
		{key: catShopCart, addr: srv.addr, pid: srv.pid(), headers: []string{cookie}},
		{key: catBareCart, addr: bare.addr, pid: bare.pid(), headers: []string{cookie}},
		{key: catShopWarn, addr: quiet.addr, pid: quiet.pid()},
	}
	if r.catalogue, err = benchCatalogue(ctx, gen, targets, o.rounds, o.warmup, o.duration); err != nil {
		return err
	}
	for _, c := range []*child{srv, quiet, bare} {
		if err := c.stop(); err != nil {
			return err
		}
	}
	return nil
}

// loadAverage is /proc/loadavg's 1, 5 and 15 minute figures.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
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
