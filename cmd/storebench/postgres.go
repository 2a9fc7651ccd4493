package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
)

// pgResult is the run on PostgreSQL: the anonymous catalogue next to a bare server sending the
// same bytes, and durable webhooks, as on SQLite.
type pgResult struct {
	server    string // PostgreSQL's version and its durability settings
	durable   bool   // fsync and synchronous_commit on: an acknowledged commit is on disk
	catalogue map[string]abRuns
	webhooks  webhookResult
}

const (
	catShopPG = "shop on PostgreSQL, anonymous"
	catBarePG = "bare, the PostgreSQL shop's page"
)

// benchPostgres runs the shop on a schema of its own in the PostgreSQL database at base (dropped
// afterwards): a first start creates and seeds it, then the catalogue is loaded next to a bare
// server replaying its page, and the orders are confirmed by signed webhooks.
func (r *results) benchPostgres(ctx context.Context, bin, work, base string) error {
	o := r.opts
	dsn, server, durable, drop, err := benchSchema(ctx, base)
	if err != nil {
		return err
	}
	defer drop()
	r.postgres = &pgResult{server: server, durable: durable}
	// The catalogue and the webhooks as selected by -only, or both when -only names neither.
	catalogue, webhooks := o.runs("catalogue"), o.runs("webhooks")
	if !catalogue && !webhooks {
		catalogue, webhooks = true, true
	}
	key := make([]byte, 32)
	rand.Read(key)
	plain, err := newShopProcess(bin, dsn)
	if err != nil {
		return err
	}
	// Every instance on one database signs cookies with one key, given to it.
	shop, err := plain.with("SESSION_KEY=" + hex.EncodeToString(key))
	if err != nil {
		return err
	}
	progress("PostgreSQL (%s): first start creates the schema and the catalogue", server)
	if _, err := coldStart(ctx, shop); err != nil {
		return err
	}
	var orders []benchOrder
	if webhooks {
		progress("PostgreSQL: seeding %d pending guest orders", o.orders)
		if orders, err = seedGuestOrders(ctx, dsn, o.orders, "storebench-pg-"); err != nil {
			return err
		}
	}
	srv, _, err := shop.start(ctx)
	if err != nil {
		return err
	}
	defer srv.kill()

	if catalogue {
		page, err := capture(ctx, srv.addr, "/")
		if err != nil {
			return err
		}
		bare, err := startBare(ctx, filepath.Join(work, "postgres"), page, page)
		if err != nil {
			return err
		}
		defer bare.kill()
		progress("PostgreSQL catalogue: %d interleaved rounds of %s per target", o.rounds, o.duration)
		targets := []abTarget{
			{key: catShopPG, addr: srv.addr, pid: srv.pid()},
			{key: catBarePG, addr: bare.addr, pid: bare.pid()},
		}
		gen := newLoadGenerator(o.conns, o.ownClient)
		if r.postgres.catalogue, err = benchCatalogue(ctx, gen, targets, o.rounds, o.warmup, o.duration); err != nil {
			return err
		}
		if err := bare.stop(); err != nil {
			return err
		}
	}

	progress("PostgreSQL webhooks: %d signed checkout.session.completed from %d senders", len(orders), o.senders)
	if r.postgres.webhooks, err = benchWebhooks(ctx, srv.addr, orders, o.senders); err != nil {
		return err
	}
	if err := srv.stop(); err != nil {
		return err
	}
	if r.postgres.webhooks.Paid, err = countPaid(ctx, dsn, orders); err != nil {
		return err
	}
	if r.postgres.webhooks.Paid != len(orders) {
		return fmt.Errorf("PostgreSQL: only %d of %d orders are paid after their webhooks were acknowledged", r.postgres.webhooks.Paid, len(orders))
	}
	return nil
}

// benchSchema makes a schema of its own in the database at base and returns the URL that
// selects it, a description of the server (version; fsync, synchronous_commit and the file
// system of its data when it can tell), whether commits are durable, and a func that drops it.
func benchSchema(ctx context.Context, base string) (dsn, server string, durable bool, drop func(), err error) {
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", "", false, nil, fmt.Errorf("connect to the PostgreSQL database of -postgres: %w", err)
	}
	defer conn.Close(ctx)
	var version, fsync, syncCommit string
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version'), current_setting('fsync'), current_setting('synchronous_commit')").
		Scan(&version, &fsync, &syncCommit); err != nil {
		return "", "", false, nil, err
	}
	server = fmt.Sprintf("PostgreSQL %s, fsync=%s, synchronous_commit=%s", strings.Fields(version)[0], fsync, syncCommit)
	var dataDir string
	var fs syscall.Statfs_t
	tmpfs := conn.QueryRow(ctx, "SELECT current_setting('data_directory')").Scan(&dataDir) == nil &&
		syscall.Statfs(dataDir, &fs) == nil && fs.Type == tmpfsMagic
	if tmpfs {
		server += ", data on tmpfs"
	}
	durable = fsync == "on" && syncCommit != "off" && !tmpfs

	b := make([]byte, 6)
	rand.Read(b)
	schema := "storebench_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", "", false, nil, fmt.Errorf("create schema: %w", err)
	}
	drop = func() {
		conn, err := pgx.Connect(context.Background(), base)
		if err != nil {
			progress("PostgreSQL: schema %s left behind: %v", schema, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			progress("PostgreSQL: schema %s left behind: %v", schema, err)
		}
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema, server, durable, drop, nil
}

// postgresRows are the table's rows for the run on PostgreSQL, next to SQLite's above them.
func (r *results) postgresRows(row func(...string), load func(loadResult) string) {
	pg := r.postgres
	row("**On PostgreSQL** ("+pg.server+"; the same shop, `DATABASE_URL` set)", "", "", "")
	if runs := pg.catalogue; len(runs) > 0 {
		shop, bare := runs[catShopPG].median(), runs[catBarePG].median()
		row("Catalogue `GET /`, shop on PostgreSQL, anonymous", load(shop), "p99 < "+ms(targetCatalogueP99), verdict(shop.P99 < targetCatalogueP99))
		row("Same bytes and headers from a bare `net/http` server", load(bare), "", "")
		ratio := shop.RPS() / bare.RPS()
		row("**Catalogue on PostgreSQL, anonymous: shop / bare**", fmt.Sprintf("**%.2f**", ratio), fmt.Sprintf("≥ %.1f", targetRatio), verdict(ratio >= targetRatio))
	}
	if w := pg.webhooks; w.Orders > 0 {
		durability := "durable commits"
		if !pg.durable {
			durability = "**commits not durable: the figure flatters**"
		}
		row(fmt.Sprintf("Signed `checkout.session.completed` webhooks on PostgreSQL (%s orders, %d senders; %s)", thousands(w.Orders), w.Senders, durability),
			fmt.Sprintf("%s committed/s · p50 %s · p99 %s · %s of %s orders paid afterwards", thousands(int(w.CPS()+0.5)), ms(w.P50), ms(w.P99), thousands(w.Paid), thousands(w.Orders)),
			"", "")
	}
}
