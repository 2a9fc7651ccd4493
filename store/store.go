// Package store keeps the shop's data in SQLite: accounts, catalogue, carts, orders and Stripe events.
package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

// DB is the shop's database: a pool of read-only connections and a single writer connection,
// so concurrent writes queue in Go instead of failing with SQLITE_BUSY. On PostgreSQL the
// writers of every instance also take one lock per transaction (see postgres.go), so each
// write sees the same database a single SQLite writer would.
type DB struct {
	d          dialect
	pgConfig   *pgx.ConnConfig // PostgreSQL only: how to open the connection that listens (notes.go)
	read       *sql.DB
	write      *sql.DB
	readStmts  *stmtCache // prepared statements of the reader pool
	writeStmts *stmtCache // prepared statements of the writer

	catalogue     catalogueCache
	commits       atomic.Uint64 // write transactions committed by this process
	recent        recentReads   // small reads kept until the next commit (recent.go)
	stockWatchers stockWatchers

	// Notes to and from other instances on PostgreSQL (notes.go).
	notes       chan note
	instance    string // this instance's id in the notes it sends
	channel     string // the notes' channel
	listening   atomic.Bool
	listenReady chan struct{}

	events  chan applyRequest // Stripe events waiting for the committer (see events.go)
	closed  chan struct{}     // closed by Close
	stopped chan struct{}     // closed when the committer has exited
	wg      sync.WaitGroup

	// Now is the clock used for every timestamp the store writes; tests replace it.
	Now func() time.Time
}

// timeLayout stores times as sortable UTC text, readable in the sqlite3 shell.
const timeLayout = "2006-01-02T15:04:05.000Z"

// Open opens the shop's database and applies pending migrations (the seed catalogue is one, so
// it runs once). dsn is a PostgreSQL URL (postgres://… or postgresql://…) or the path of an
// SQLite file, created if needed.
func Open(ctx context.Context, dsn string) (*DB, error) {
	if isPostgresURL(dsn) {
		return openPostgres(ctx, dsn)
	}
	return openSQLite(ctx, dsn)
}

func newDB(write *sql.DB, d dialect) *DB {
	db := &DB{write: write, d: d, writeStmts: newStmtCache(write, d), Now: time.Now,
		events: make(chan applyRequest, maxEventBatch), closed: make(chan struct{}), stopped: make(chan struct{}),
		listenReady: make(chan struct{})}
	if d.postgres {
		db.notes = make(chan note, 4096)
	} else {
		close(db.listenReady) // one instance: nothing to listen to
	}
	return db
}

// start finishes opening: migrations on the writer, then the reader pool and the committer.
func (db *DB) start(ctx context.Context, read *sql.DB) error {
	if err := db.migrate(ctx); err != nil {
		return err
	}
	db.read, db.readStmts = read, newStmtCache(read, db.d)
	db.wg.Add(1)
	go db.commitEvents()
	return nil
}

// openSQLite opens the SQLite file at path: a pool of read-only connections and one writer.
func openSQLite(ctx context.Context, path string) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("open database: create folder: %w", err)
	}
	// busy_timeout comes first so that every later pragma already waits instead of failing.
	common := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"
	uri := (&url.URL{Scheme: "file", Path: abs}).String()
	// Money confirmations must survive a power cut: the writer syncs every commit (FULL).
	// temp_store(MEMORY) keeps the statement journal of each event's savepoint in memory: on
	// disk it cost a write() per touched page, a fifth of the committer's time.
	write, err := sql.Open("sqlite", uri+"?"+common+
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=temp_store(MEMORY)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxIdleTime(0)
	write.SetConnMaxLifetime(0)
	if err := quickCheck(ctx, write); err != nil {
		write.Close()
		return nil, err
	}
	read, err := sql.Open("sqlite", uri+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	readers := max(4, 2*runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(readers)
	read.SetMaxIdleConns(readers)
	read.SetConnMaxIdleTime(0)
	db := newDB(write, dialect{})
	if err := db.start(ctx, read); err != nil {
		read.Close()
		write.Close()
		return nil, err
	}
	return db, nil
}

// Close stops the event committer and closes every connection. It is safe to call twice.
func (db *DB) Close() error {
	select {
	case <-db.closed:
		return nil
	default:
	}
	close(db.closed)
	db.wg.Wait()
	db.writeStmts.close()
	var rerr error
	if db.read != nil {
		db.readStmts.close()
		rerr = db.read.Close()
	}
	if err := db.write.Close(); err != nil {
		return err
	}
	return rerr
}

// Ping reports whether the database answers a query and commits a write: the health check.
// A write is what a full disk or a file turned read-only refuses while reads still work.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.readStmts.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	err := db.inTx(ctx, func(tx *writeTx) error {
		_, err := tx.ExecContext(ctx, "UPDATE health SET checked_at = ? WHERE id = 1", db.now())
		return err
	})
	if err != nil {
		return fmt.Errorf("database takes no writes: %w", err)
	}
	return nil
}

// quickCheck refuses a damaged database file before anything is written to it.
func quickCheck(ctx context.Context, db *sql.DB) error {
	var verdict string
	if err := db.QueryRowContext(ctx, "PRAGMA quick_check(1)").Scan(&verdict); err != nil {
		return fmt.Errorf("the database file cannot be read (%w): if it is damaged, restore it from a backup", err)
	}
	if verdict != "ok" {
		return fmt.Errorf("the database file is damaged (SQLite quick_check: %s): restore it from a backup", verdict)
	}
	return nil
}

// IntegrityCheck runs SQLite's own consistency check and returns its verdict ("ok" when sound).
// PostgreSQL checks its pages itself as it reads them; there it reports "ok".
func (db *DB) IntegrityCheck(ctx context.Context) (string, error) {
	if db.d.postgres {
		return "ok", nil
	}
	var verdict string
	err := db.read.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&verdict)
	return verdict, err
}

// inTx runs fn in one write transaction (BEGIN IMMEDIATE; on PostgreSQL, with the writers'
// lock) and commits when fn returns nil.
func (db *DB) inTx(ctx context.Context, fn func(tx *writeTx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	t := &writeTx{tx: tx, cache: db.writeStmts}
	if db.d.postgres {
		if err := lockWriters(ctx, t); err != nil {
			tx.Rollback()
			return err
		}
	}
	defer t.prepareLater(ctx)
	if err := fn(t); err != nil {
		tx.Rollback()
		return err
	}
	err = tx.Commit()
	db.commits.Add(1) // even a failed commit may have written: readers of caches look again
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if len(t.stockMoved) > 0 {
		db.stockWatchers.notify(t.stockMoved)
	}
	if db.d.postgres {
		db.announce('c', 0)
		for _, id := range t.stockMoved {
			db.announce('s', id)
		}
	}
	return nil
}

func (db *DB) now() string { return formatTime(db.Now()) }

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) time.Time {
	t, _ := time.Parse(timeLayout, s)
	return t
}

func parseNullTime(s sql.NullString) time.Time {
	if !s.Valid {
		return time.Time{}
	}
	return parseTime(s.String)
}
