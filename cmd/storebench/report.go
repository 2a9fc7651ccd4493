package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Targets from issue 18, on the 2-core machine the project is developed on.
const (
	targetRatio         = 0.8 // anonymous catalogue, shop / bare
	targetCartRatio     = 0.6 // logged in with a cart, shop / bare
	targetCatalogueP99  = 10 * time.Millisecond
	targetLogCost       = 0.03 // access log at info, against warn
	targetWebhooks      = 8000.0
	targetSSEP99        = 50 * time.Millisecond
	targetPerStream     = 12 << 10
	targetRSSStreams    = 150 << 20
	targetColdStart     = 20 * time.Millisecond
	tmpfsMagic          = 0x01021994
	megabyte            = 1 << 20
	djangoCatalogueRPS  = "about 2,200 req/s with `wrk -t2 -c50` (gunicorn, 2 workers; issue 18)"
	djangoWebhookRPS    = "about 2,100 webhooks/s (verifying and printing only)"
	djangoRSS           = "136–138 MiB"
	djangoColdStart     = "717 ms"
	sqliteFullCommitRPS = "about 7,800 single-row transactions/s"
)

// machine describes where the numbers were measured.
type machine struct {
	CPU, Memory, Kernel, OS, Go, Filesystem, Load string
	Cores                                         int
}

func describeMachine(workDir string) machine {
	m := machine{Cores: runtime.NumCPU(), Go: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH}
	m.CPU = procField("/proc/cpuinfo", "model name")
	if kb, err := strconv.ParseUint(strings.TrimSuffix(procField("/proc/meminfo", "MemTotal"), " kB"), 10, 64); err == nil {
		m.Memory = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	m.OS = strings.Trim(procField("/etc/os-release", "PRETTY_NAME"), `"=`)
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		m.Load = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	var fs syscall.Statfs_t
	if err := syscall.Statfs(workDir, &fs); err == nil {
		names := map[int64]string{0xEF53: "ext4", tmpfsMagic: "tmpfs", 0x58465342: "xfs", 0x9123683E: "btrfs",
			0x794C7630: "overlayfs", 0x2FC12FC1: "zfs", 0x6969: "nfs"}
		m.Filesystem = names[int64(fs.Type)]
		if m.Filesystem == "" {
			m.Filesystem = fmt.Sprintf("filesystem type %#x", fs.Type)
		}
	}
	return m
}

// procField returns the value after "name" and a ':' or '=' in a key-value file, or "?".
func procField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return "?"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), name); ok {
			rest = strings.TrimSpace(rest)
			rest = strings.TrimPrefix(strings.TrimPrefix(rest, ":"), "=")
			return strings.TrimSpace(rest)
		}
	}
	return "?"
}

// table is the one results table, in markdown.
func (r *results) table() string {
	var b strings.Builder
	row := func(cells ...string) { b.WriteString("| " + strings.Join(cells, " | ") + " |\n") }
	row("Measure", "Result", "Target", "")
	row("---", "---", "---", "---")
	load := func(l loadResult) string {
		s := fmt.Sprintf("%s req/s · p50 %s · p99 %s", thousands(int(l.RPS()+0.5)), ms(l.P50), ms(l.P99))
		if l.Errors > 0 {
			s += fmt.Sprintf(" · **%d errors**", l.Errors)
		}
		return s
	}
	c := func(key string) loadResult { return r.catalogue[key].median() }
	shop, bare, cart, bareCart, quiet := c(catShop), c(catBare), c(catShopCart), c(catBareCart), c(catShopWarn)
	if len(r.catalogue) == 0 {
		row("Catalogue", "not run (`-only`)", "", "")
	} else {
		r.catalogueRows(row, load, shop, bare, cart, bareCart, quiet)
	}
	r.otherRows(row, max(shop.PeakRSS, cart.PeakRSS))
	if r.postgres != nil {
		r.postgresRows(row, load)
	}
	return b.String()
}

// catalogueRows are the table's catalogue rows: the medians of the interleaved runs.
func (r *results) catalogueRows(row func(...string), load func(loadResult) string, shop, bare, cart, bareCart, quiet loadResult) {
	o := r.opts
	rounds := func(a, b string) string {
		var parts []string
		for i := range r.catalogue[a] {
			parts = append(parts, fmt.Sprintf("%.2f", r.catalogue[a][i].RPS()/r.catalogue[b][i].RPS()))
		}
		return strings.Join(parts, ", ")
	}
	row(fmt.Sprintf("Catalogue `GET /`, shop, anonymous (%s KiB page; median of %d interleaved runs of %s)", oneDecimal(float64(r.pageBytes)/1024), o.rounds, o.duration),
		load(shop), "p99 < "+ms(targetCatalogueP99), verdict(shop.P99 < targetCatalogueP99))
	row("Same bytes and headers from a bare `net/http` server", load(bare), "", "")
	ratio := shop.RPS() / bare.RPS()
	row("**Catalogue, anonymous: shop / bare** (each round: "+rounds(catShop, catBare)+")", fmt.Sprintf("**%.2f**", ratio), fmt.Sprintf("≥ %.1f", targetRatio), verdict(ratio >= targetRatio))
	row(fmt.Sprintf("Catalogue `GET /`, shop, logged in with 2 products in the cart (cookie; %s KiB page)", oneDecimal(float64(r.cartPage)/1024)),
		load(cart), "p99 < "+ms(targetCatalogueP99), verdict(cart.P99 < targetCatalogueP99))
	row("Same bytes and headers from a bare `net/http` server", load(bareCart), "", "")
	cartRatio := cart.RPS() / bareCart.RPS()
	row("**Catalogue, logged in with a cart: shop / bare** (each round: "+rounds(catShopCart, catBareCart)+")", fmt.Sprintf("**%.2f**", cartRatio), fmt.Sprintf("≥ %.1f", targetCartRatio), verdict(cartRatio >= targetCartRatio))
	row("Catalogue `GET /`, shop at `LOG_LEVEL=warn` (no access log), anonymous", load(quiet), "", "")
	cost := 1 - shop.RPS()/quiet.RPS()
	row("**Cost of the access log at the default level (info)**: 1 − info / warn (each round: "+rounds(catShop, catShopWarn)+" info/warn)",
		fmt.Sprintf("**%.1f%%**", 100*cost), fmt.Sprintf("≤ %.0f%%", 100*targetLogCost), verdict(cost <= targetLogCost))
}

// otherRows are the table's webhook, stream, memory and cold-start rows.
func (r *results) otherRows(row func(...string), peakRSS uint64) {

	w := r.webhooks
	row(fmt.Sprintf("Signed `checkout.session.completed` webhooks for distinct pending orders (%s orders, %d senders; WAL, `synchronous=FULL`, one writer)",
		thousands(w.Orders), w.Senders),
		fmt.Sprintf("%s committed/s · p50 %s · p99 %s · %s of %s orders paid afterwards", thousands(int(w.CPS()+0.5)), ms(w.P50), ms(w.P99), thousands(w.Paid), thousands(w.Orders)),
		fmt.Sprintf("≥ %s/s, all in the database", thousands(int(targetWebhooks))), verdict(w.CPS() >= targetWebhooks && w.Paid == w.Orders))

	s := r.sse
	row(fmt.Sprintf("Webhook sent → SSE message, %s streams of distinct users (%d users × %d), %d orders confirmed one at a time",
		thousands(s.Streams), s.Users, s.StreamsPerUser, s.Orders),
		fmt.Sprintf("p50 %s · p99 %s · max %s; all %d of the owner's streams: p99 %s%s", ms(s.P50), ms(s.P99), ms(s.Max), s.StreamsPerUser, ms(s.AllP99), missing(s.Missing)),
		"p99 < "+ms(targetSSEP99), verdict(s.P99 < targetSSEP99))
	t := r.topics
	row(fmt.Sprintf("Webhook sent → paid panel on every stream of one checkout: %s streams on one topic (`/orders/events?session_id=`, from %d addresses), %d checkouts in turn",
		thousands(t.PerTopic), t.Addresses, t.Topics),
		fmt.Sprintf("p50 %s · p99 %s · max %s over %s stream deliveries%s", ms(t.P50), ms(t.P99), ms(t.Max), thousands(t.Streams-t.Missing), missing(t.Missing)),
		"p99 < "+ms(targetSSEP99), verdict(t.P99 < targetSSEP99 && t.Missing == 0))
	row(fmt.Sprintf("Resident memory with %s streams open (%s before opening them; opened in %s)", thousands(t.Streams), mib(t.RSSBefore), ms(t.OpenTime)),
		mib(t.RSSOpen), "< "+mib(targetRSSStreams), verdict(t.RSSOpen < targetRSSStreams))
	row("**Resident memory per open stream** ((open − before) / streams)", fmt.Sprintf("**%s KiB**", oneDecimal(float64(t.PerStream())/1024)),
		fmt.Sprintf("≤ %d KiB", targetPerStream>>10), verdict(t.PerStream() <= targetPerStream))

	row("Resident memory (VmRSS), idle after start", mib(r.rssIdle), "", "")
	row("Resident memory, peak under the catalogue load (sampled every 100 ms)", mib(peakRSS), "", "")
	cold := median(r.coldStarts)
	row(fmt.Sprintf("Cold start: launch → first `200` on `/`, existing database (median of %d)", len(r.coldStarts)),
		ms(cold), "< "+ms(targetColdStart), verdict(cold < targetColdStart))
	row("Cold start, first launch (creates the database, runs the migrations)", ms(r.coldFirst), "", "")
	row(fmt.Sprintf("Cold start of a bare `net/http` server (the bench binary), timed the same way: the floor on this machine (median of %d)", len(r.bareColdStarts)),
		ms(median(r.bareColdStarts)), "", "")
}

// markdown is the BENCHMARKS.md file: the table, how it was measured, and the machine.
func (r *results) markdown() string {
	o, m := r.opts, r.machine
	var b strings.Builder
	b.WriteString("# Benchmarks\n\n")
	fmt.Fprintf(&b, "One run of `make bench` (`go run ./cmd/storebench`) on %s; load average %s when it began and %s when it ended.",
		r.started.UTC().Format("2 January 2006 15:04 MST"), r.loadBefore, r.loadAfter)
	if o.quick {
		b.WriteString(" **This was a `-quick` run: short and small, a check that the bench works, not a measurement.**")
	}
	b.WriteString("\n\n")
	b.WriteString(r.table())
	b.WriteString("\n## How it is measured\n\n")
	b.WriteString("- Command: `make bench` (`go run ./cmd/storebench`; `-quick` for a smoke check, `-own-client` to load without wrk).\n")
	b.WriteString("- The storefront is built with `go build` and runs as a child process on a fresh SQLite file with the default " +
		"configuration a user runs: `LOG_LEVEL` info (one access-log line per request), WAL with `synchronous=FULL` on the " +
		"single writer connection. It runs in real-Stripe mode (no simulator in the process; the Stripe API base points to an " +
		"unused local port) with `TRUSTED_PROXIES=127.0.0.1`, so that simulated shoppers each come from an address of their " +
		"own in `X-Forwarded-For`, as behind a reverse proxy.\n")
	fmt.Fprintf(&b, "- Catalogue: loaded from outside by %s, %s per run after a %s warm-up. Five targets in turn, %d rounds, "+
		"medians reported: the shop anonymous; a bare `net/http` server (the bench binary re-executed as a child process) "+
		"replaying the shop's anonymous page with the same headers; the shop for a shopper who signed up and put two products "+
		"in the cart (their cookie sent with `-H`); the bare server replaying that page; and a second shop process at "+
		"`LOG_LEVEL=warn`, to price the access log. The load generator shares the 2 cores with the server.\n",
		r.generator, o.duration, o.warmup, o.rounds)
	b.WriteString("- Webhooks: the pending orders (guest carts of two products, each with a fake Checkout Session) are written " +
		"with the store package before the server starts. Every event is signed with `webhook.GenerateTestSignedPayload` and " +
		"posted once; a webhook counts when it answers `200` with outcome `applied`, which the shop sends only after the commit. " +
		"Afterwards the database is opened again and every order must be `paid`.\n")
	b.WriteString("- Live updates, distinct users: users sign up through `POST /signup`; the bench gives each a pending order " +
		"through the store package while the server runs, opens the streams, and reads the first (snapshot) message of each. " +
		"Then one webhook at a time: the clock starts just before the webhook is sent and stops when the first of the owner's " +
		"streams delivers the message with the order's row showing it paid; every one of the owner's streams must get it.\n")
	fmt.Fprintf(&b, "- Many streams: a fresh shop process (`MAX_STREAMS` raised; a user may hold 20 streams and an address 100, "+
		"so one topic's thousands of streams are a guest checkout's status panel watched from many addresses). %d guest "+
		"checkouts are each watched by %s streams, opened on plain sockets, 32 at a time, each read to its snapshot. Memory is "+
		"read before and after opening them; then each checkout is paid by a signed webhook, and every stream's arrival of "+
		"the paid panel is timed from just before the webhook was sent.\n", o.topics, thousands(o.perTopic))
	if r.postgres != nil {
		b.WriteString("- PostgreSQL: `make bench` starts a throwaway cluster with `pg_virtualenv -t -o fsync=on` (pg_virtualenv turns " +
			"fsync off by default) on the same machine, and the bench runs the same binary on a schema of its own with " +
			"`DATABASE_URL` and a `SESSION_KEY`, after the SQLite runs: the anonymous catalogue against a bare server replaying " +
			"its page, interleaved as above, then the same number of webhooks from the same number of senders. The database " +
			"server shares the 2 cores with the shop and the load generator.\n")
	}
	b.WriteString("- Memory is `VmRSS` from `/proc/<pid>/status` of the server process. Cold start runs from just before " +
		"`exec` to the first `200` on `/`, the catalogue (polled every 0.5 ms)." +
		" The floor is the bench binary itself started as a bare server with a 9-byte page, timed the same way: process start, the Go runtime and the polling, with nothing of the shop.\n")
	b.WriteString("\n## Machine\n\n")
	fmt.Fprintf(&b, "- CPU: %s, %d cores (GOMAXPROCS %d)\n", m.CPU, m.Cores, runtime.GOMAXPROCS(0))
	fmt.Fprintf(&b, "- Memory: %s\n", m.Memory)
	fmt.Fprintf(&b, "- OS: %s, kernel %s\n", m.OS, m.Kernel)
	fmt.Fprintf(&b, "- Go: %s\n", m.Go)
	fmt.Fprintf(&b, "- Database on: %s\n", m.Filesystem)
	fmt.Fprintf(&b, "- Load average: %s when the run began, %s when it ended (the machine is shared; above ~1.5 the figures are low)\n", r.loadBefore, r.loadAfter)
	fmt.Fprintf(&b, "- Date: %s\n", r.started.UTC().Format(time.RFC3339))
	b.WriteString("\n## For scale\n\n")
	fmt.Fprintf(&b, "Measured on the same kind of machine: the Django tutorial app this shop grew from serves its "+
		"home page at %s and accepts %s, with %s resident and a %s cold start; SQLite in WAL mode with "+
		"`synchronous=FULL` commits %s on this disk.\n", djangoCatalogueRPS, djangoWebhookRPS, djangoRSS, djangoColdStart, sqliteFullCommitRPS)
	return b.String()
}

func verdict(met bool) string {
	if met {
		return "met"
	}
	return "**missed**"
}

func missing(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" · **%d deliveries missing**", n)
}

// ms formats a duration in milliseconds with a precision that suits its size.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v < 10:
		return fmt.Sprintf("%.2f ms", v)
	case v < 100:
		return fmt.Sprintf("%.1f ms", v)
	}
	return fmt.Sprintf("%.0f ms", v)
}

func mib(b uint64) string { return oneDecimal(float64(b)/megabyte) + " MiB" }

func oneDecimal(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// thousands formats n with commas: 12345 is "12,345".
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 && -n > 0 { // not the smallest int, whose negation is itself
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
