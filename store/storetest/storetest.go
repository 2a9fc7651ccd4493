// Package storetest gives each test a database of its own: an SQLite file in the test's temp
// folder, or, when STOREFRONT_TEST_DATABASE_URL names a PostgreSQL database, a fresh schema in
// it. One test suite so runs on both stores (see `make test`).
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver

	"storefront/store/internal/sqlbind"
)

// EnvURL names the PostgreSQL database the tests use; unset, they use SQLite.
const EnvURL = "STOREFRONT_TEST_DATABASE_URL"

// Postgres reports whether the tests run on PostgreSQL.
func Postgres() bool { return os.Getenv(EnvURL) != "" }

// DSN returns what store.Open takes for a new, empty database of the test's own, removed when
// the test ends.
func DSN(t testing.TB) string {
	base := os.Getenv(EnvURL)
	if base == "" {
		return filepath.Join(t.TempDir(), "shop.db")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvURL, err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 8)
	rand.Read(b)
	schema := "test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

// DB is a plain connection to a test's database, opened behind the store's back (as the
// sqlite3 shell or psql would), for rows no handler writes and for counting rows. It takes the
// store's SQL, with `?` placeholders, on either database.
type DB struct {
	*sql.DB
	postgres bool
}

// Conn opens such a connection to the database at dsn, closed when the test ends.
func Conn(t testing.TB, dsn string) DB {
	t.Helper()
	driver, postgres := "sqlite", strings.HasPrefix(dsn, "postgres")
	if postgres {
		driver = "pgx"
	} else {
		dsn = (&url.URL{Scheme: "file", Path: dsn}).String() + "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return DB{DB: db, postgres: postgres}
}

func (db DB) query(q string) string {
	if db.postgres {
		return sqlbind.Rebind(q)
	}
	return q
}

// Exec runs a statement.
func (db DB) Exec(q string, args ...any) (sql.Result, error) { return db.DB.Exec(db.query(q), args...) }

// Query runs a query.
func (db DB) Query(q string, args ...any) (*sql.Rows, error) {
	return db.DB.Query(db.query(q), args...)
}

// QueryRow runs a single-row query.
func (db DB) QueryRow(q string, args ...any) *sql.Row { return db.DB.QueryRow(db.query(q), args...) }

// ExecContext runs a statement.
func (db DB) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return db.DB.ExecContext(ctx, db.query(q), args...)
}

// QueryRowContext runs a single-row query.
func (db DB) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return db.DB.QueryRowContext(ctx, db.query(q), args...)
}
