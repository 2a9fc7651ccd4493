package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

// Migrations of each database. PostgreSQL's start at 0060, which holds SQLite's 0001–0060 in
// one file; from then on each migration has a file of the same number in both folders.
//
//go:embed migrations/*.sql migrations/postgres/*.sql
var migrations embed.FS

func (d dialect) migrations() string {
	if d.postgres {
		return "migrations/postgres/"
	}
	return "migrations/"
}

// migrate applies, in file-name order, each embedded migration not yet recorded, one transaction
// per file. Each runs under the writers' lock, so instances starting together migrate once.
func (db *DB) migrate(ctx context.Context) error {
	err := db.inTx(ctx, func(tx *writeTx) error {
		_, err := tx.tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`)
		return err
	})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	dir := db.d.migrations()
	names, err := fs.Glob(migrations, dir+"*.sql")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		base := strings.TrimPrefix(name, dir)
		version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migrate: %s: name must start with a number", base)
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		err = db.inTx(ctx, func(tx *writeTx) error {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", version).Scan(&n); err != nil || n > 0 {
				return err
			}
			// A migration holds many statements: run it unprepared.
			if _, err := tx.tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", version, base, db.now())
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate %s: %w", base, err)
		}
	}
	return nil
}
