package store

import (
	"context"
	"fmt"
	"runtime"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// isPostgresURL reports whether dsn names a PostgreSQL database rather than an SQLite file.
func isPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// openPostgres opens the shop on PostgreSQL through pgx, with the same shape as on SQLite: one
// writer connection per instance, a pool of readers, and the committer. Many instances may
// share the database.
func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	write := stdlib.OpenDB(*cfg)
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxIdleTime(0)
	write.SetConnMaxLifetime(0)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	read := stdlib.OpenDB(*cfg)
	readers := max(4, 2*runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(readers)
	read.SetMaxIdleConns(readers)
	db := newDB(write, dialect{postgres: true})
	db.pgConfig = cfg
	if err := db.start(ctx, read); err != nil {
		read.Close()
		write.Close()
		return nil, err
	}
	if err := db.startNotes(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.startInstance(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// lockWriters takes the writers' lock for the rest of the transaction: PostgreSQL runs one
// write transaction of the shop at a time, across every instance, as SQLite does with its one
// writer. Every check the store makes before writing (free stock before a hold, an order's
// status before a transition, an event's id before applying it, one checkout per user) so
// holds against every other instance without a lock per row. The lock is named after the
// schema, so that shops in separate schemas of one database do not wait for each other.
func lockWriters(ctx context.Context, t *writeTx) error {
	if _, err := t.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext('storefront writers ' || current_schema()))"); err != nil {
		return fmt.Errorf("take the writers' lock: %w", err)
	}
	return nil
}
