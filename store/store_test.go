package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"storefront/store/storetest"
)

// fixedNow is the clock most tests install, so stored timestamps are predictable.
var fixedNow = time.Date(2031, time.March, 4, 5, 6, 7, 891_000_000, time.UTC)

// mustOpenDB opens a fresh database (SQLite, or PostgreSQL when the tests run on it; see
// storetest), with the clock fixed at fixedNow, and closes it when the test ends.
func mustOpenDB(tb testing.TB) *DB {
	tb.Helper()
	db := mustOpenDBAt(tb, storetest.DSN(tb))
	db.Now = func() time.Time { return fixedNow }
	return db
}

// mustOpenDBAt opens the database at path (an SQLite file or a PostgreSQL URL) and closes it
// when the test ends.
func mustOpenDBAt(tb testing.TB, path string) *DB {
	tb.Helper()
	db, err := Open(context.Background(), path)
	if err != nil {
		tb.Fatalf("Open(%q): %v", path, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// openOther opens the database at dsn behind the store's back, as the sqlite3 shell, psql or
// another process would; it takes the store's SQL (with ? placeholders).
func openOther(tb testing.TB, dsn string) (*sql.DB, dialect) {
	tb.Helper()
	driver, d := "sqlite", dialect{}
	if isPostgresURL(dsn) {
		driver, d = "pgx", dialect{postgres: true}
	}
	other, err := sql.Open(driver, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { other.Close() })
	return other, d
}

// mustCreateUser creates an account with a unique email.
func mustCreateUser(tb testing.TB, db *DB) User {
	tb.Helper()
	userSeq.Lock()
	userSeq.n++
	n := userSeq.n
	userSeq.Unlock()
	u, err := db.CreateUser(context.Background(), fmt.Sprintf("shopper%d@example.com", n), "hash")
	if err != nil {
		tb.Fatalf("CreateUser: %v", err)
	}
	return u
}

var userSeq struct {
	sync.Mutex
	n int
}

// mustExec runs a statement through the writer connection, for setting up states the API cannot.
func mustExec(tb testing.TB, db *DB, query string, args ...any) {
	tb.Helper()
	if err := db.inTx(context.Background(), func(tx *writeTx) error {
		_, err := tx.ExecContext(context.Background(), query, args...)
		return err
	}); err != nil {
		tb.Fatalf("exec %q: %v", query, err)
	}
}

// countRows runs a count(*) query (or any single-integer query, or an INSERT … RETURNING id)
// through the writer, which sees every commit.
func countRows(tb testing.TB, db *DB, query string, args ...any) int {
	tb.Helper()
	var n int
	if err := db.inTx(context.Background(), func(tx *writeTx) error {
		return tx.QueryRowContext(context.Background(), query, args...).Scan(&n)
	}); err != nil {
		tb.Fatalf("query %q: %v", query, err)
	}
	return n
}

func TestOpen(t *testing.T) {
	ctx := context.Background()

	t.Run("MigrationsRunOnce", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "nested", "folder", "shop.db")
		if storetest.Postgres() {
			path = storetest.DSN(t)
		}
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatalf("first Open: %v", err)
		}
		readMigrations := func(db *DB) string {
			rows, err := db.readStmts.QueryContext(ctx, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var b strings.Builder
			for rows.Next() {
				var v int
				var name, at string
				if err := rows.Scan(&v, &name, &at); err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(&b, "%d %s %s\n", v, name, at)
			}
			return b.String()
		}
		firstMigrations := readMigrations(db)
		firstProducts := countRows(t, db, "SELECT count(*) FROM products")
		files, _ := fs.Glob(migrations, db.d.migrations()+"*.sql")
		if got, want := countRows(t, db, "SELECT count(*) FROM schema_migrations"), len(files); got != want || want < 1 {
			t.Errorf("schema_migrations rows = %d, want %d", got, want)
		}
		if firstProducts == 0 {
			t.Errorf("schema_migrations = %q, want the seed migration recorded", firstMigrations)
		}
		if err := db.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}

		for i := range 2 {
			db, err = Open(ctx, path)
			if err != nil {
				t.Fatalf("reopen %d: %v", i, err)
			}
			if got, want := readMigrations(db), firstMigrations; got != want {
				t.Errorf("reopen %d: schema_migrations = %q, want unchanged %q", i, got, want)
			}
			if got, want := countRows(t, db, "SELECT count(*) FROM products"), firstProducts; got != want {
				t.Errorf("reopen %d: products = %d, want %d (seed must not run again)", i, got, want)
			}
			if err := db.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
		}
	})

	t.Run("InstancesStartingTogether", func(t *testing.T) {
		if !storetest.Postgres() {
			t.Skip("many instances share PostgreSQL; an SQLite file has one")
		}
		dsn := storetest.DSN(t)
		var wg sync.WaitGroup
		dbs := make([]*DB, 4)
		errs := make([]error, len(dbs))
		for i := range dbs {
			wg.Go(func() { dbs[i], errs[i] = Open(ctx, dsn) })
		}
		wg.Wait()
		for i, db := range dbs {
			if errs[i] != nil {
				t.Fatalf("Open %d of %d at once: %v", i+1, len(dbs), errs[i])
			}
			defer db.Close()
		}
		files, _ := fs.Glob(migrations, dbs[0].d.migrations()+"*.sql")
		if got, want := countRows(t, dbs[0], "SELECT count(*) FROM schema_migrations"), len(files); got != want {
			t.Errorf("schema_migrations rows = %d, want %d (each migration once)", got, want)
		}
		if got := countRows(t, dbs[0], "SELECT count(*) FROM products"); got != 8 {
			t.Errorf("products = %d, want the 8 of the seed, once", got)
		}
	})

	t.Run("DataSurvivesReopen", func(t *testing.T) {
		path := storetest.DSN(t)
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		u := mustCreateUser(t, db)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		db = mustOpenDBAt(t, path)
		got, err := db.UserByID(ctx, u.ID)
		if err != nil {
			t.Fatalf("UserByID after reopen: %v", err)
		}
		if got.Email != u.Email {
			t.Errorf("email after reopen = %q, want %q", got.Email, u.Email)
		}
	})

	t.Run("Pragmas", func(t *testing.T) {
		if storetest.Postgres() {
			t.Skip("SQLite's settings")
		}
		db := mustOpenDB(t)
		var mode string
		if err := db.write.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if got, want := mode, "wal"; got != want {
			t.Errorf("journal_mode = %q, want %q", got, want)
		}
		if got, want := countRows(t, db, "PRAGMA foreign_keys"), 1; got != want {
			t.Errorf("reader foreign_keys = %d, want %d", got, want)
		}
		// The reader pool must never write.
		if _, err := db.read.ExecContext(ctx, "INSERT INTO users (email, password_hash, created_at) VALUES ('x@example.com', 'h', 'now')"); err == nil {
			t.Error("insert through the reader pool succeeded, want query_only refusal")
		}
	})
}

func TestPingAndIntegrity(t *testing.T) {
	ctx := context.Background()
	db := mustOpenDB(t)

	t.Run("OK", func(t *testing.T) {
		if err := db.Ping(ctx); err != nil {
			t.Errorf("Ping: %v", err)
		}
		verdict, err := db.IntegrityCheck(ctx)
		if err != nil {
			t.Fatalf("IntegrityCheck: %v", err)
		}
		if got, want := verdict, "ok"; got != want {
			t.Errorf("IntegrityCheck = %q, want %q", got, want)
		}
	})

	t.Run("WritesRefused", func(t *testing.T) {
		db := mustOpenDB(t)
		// What a full disk or a read-only file does: reads still answer, commits fail.
		readOnly := "PRAGMA query_only = 1"
		if db.d.postgres {
			readOnly = "SET default_transaction_read_only = on"
		}
		if _, err := db.write.ExecContext(ctx, readOnly); err != nil {
			t.Fatal(err)
		}
		if err := db.Ping(ctx); err == nil {
			t.Error("Ping succeeded on a database that takes no writes")
		}
	})

	t.Run("Damaged", func(t *testing.T) {
		if storetest.Postgres() {
			t.Skip("a damaged SQLite file")
		}
		path := filepath.Join(t.TempDir(), "shop.db")
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
		damage(t, path)
		if db, err := Open(ctx, path); err == nil {
			db.Close()
			t.Fatal("Open accepted a damaged database")
		} else if !strings.Contains(err.Error(), "damaged") && !strings.Contains(err.Error(), "malformed") && !strings.Contains(err.Error(), "not a database") {
			t.Errorf("Open: %v; want it to say the file is damaged", err)
		}
	})

	t.Run("Closed", func(t *testing.T) {
		closed, err := Open(ctx, storetest.DSN(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := closed.Close(); err != nil {
			t.Fatal(err)
		}
		if err := closed.Ping(ctx); err == nil {
			t.Error("Ping on a closed database = nil, want an error")
		}
	})
}

func TestCatalogue(t *testing.T) {
	ctx := context.Background()
	db := mustOpenDB(t)

	products, err := db.Products(ctx)
	if err != nil {
		t.Fatalf("Products: %v", err)
	}
	t.Run("Seeded", func(t *testing.T) {
		if got, want := len(products), 6; got < want {
			t.Fatalf("seeded products = %d, want at least %d", got, want)
		}
		slugs := map[string]bool{}
		for _, p := range products {
			if p.Slug == "" || p.Name == "" || p.Description == "" || p.Image == "" {
				t.Errorf("product %d has an empty field: %+v", p.ID, p)
			}
			if p.Price <= 0 {
				t.Errorf("product %q price = %d, want > 0", p.Slug, p.Price)
			}
			if got, want := p.Currency, "usd"; got != want {
				t.Errorf("product %q currency = %q, want %q", p.Slug, got, want)
			}
			if !p.Active {
				t.Errorf("product %q listed but not active", p.Slug)
			}
			if slugs[p.Slug] {
				t.Errorf("slug %q appears twice", p.Slug)
			}
			slugs[p.Slug] = true
		}
		for i := 1; i < len(products); i++ {
			if products[i-1].ID >= products[i].ID {
				t.Errorf("products not in id order: %d before %d", products[i-1].ID, products[i].ID)
			}
		}
	})

	t.Run("BySlugAndID", func(t *testing.T) {
		want := products[1]
		got, err := db.ProductBySlug(ctx, want.Slug)
		if err != nil {
			t.Fatalf("ProductBySlug(%q): %v", want.Slug, err)
		}
		if got != want {
			t.Errorf("ProductBySlug = %+v, want %+v", got, want)
		}
		got, err = db.ProductByID(ctx, want.ID)
		if err != nil {
			t.Fatalf("ProductByID(%d): %v", want.ID, err)
		}
		if got != want {
			t.Errorf("ProductByID = %+v, want %+v", got, want)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		if _, err := db.ProductBySlug(ctx, "no-such-thing"); !errors.Is(err, ErrNotFound) {
			t.Errorf("ProductBySlug(unknown) error = %v, want ErrNotFound", err)
		}
		if _, err := db.ProductByID(ctx, 987654); !errors.Is(err, ErrNotFound) {
			t.Errorf("ProductByID(unknown) error = %v, want ErrNotFound", err)
		}
	})

	t.Run("InactiveHidden", func(t *testing.T) {
		hidden := products[0]
		mustExec(t, db, "UPDATE products SET active = 0 WHERE id = ?", hidden.ID)
		t.Cleanup(func() { mustExec(t, db, "UPDATE products SET active = 1 WHERE id = ?", hidden.ID) })
		if _, err := db.ProductBySlug(ctx, hidden.Slug); !errors.Is(err, ErrNotFound) {
			t.Errorf("ProductBySlug(inactive) error = %v, want ErrNotFound", err)
		}
		list, err := db.Products(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(list), len(products)-1; got != want {
			t.Errorf("Products with one inactive = %d, want %d", got, want)
		}
		for _, p := range list {
			if p.ID == hidden.ID {
				t.Errorf("inactive product %q listed", p.Slug)
			}
		}
	})
}

func TestUsers(t *testing.T) {
	ctx := context.Background()
	db := mustOpenDB(t)

	t.Run("OK", func(t *testing.T) {
		u, err := db.CreateUser(ctx, "ada@example.com", "bcrypt-hash")
		if err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		got, err := db.UserByEmail(ctx, "ada@example.com")
		if err != nil {
			t.Fatalf("UserByEmail: %v", err)
		}
		if got.ID != u.ID || got.PasswordHash != "bcrypt-hash" || got.SessionVersion != 1 {
			t.Errorf("UserByEmail = %+v, want id %d, hash bcrypt-hash, session version 1", got, u.ID)
		}
		if !got.CreatedAt.Equal(fixedNow) {
			t.Errorf("CreatedAt = %v, want the injected clock %v", got.CreatedAt, fixedNow)
		}
	})

	t.Run("EmailTaken", func(t *testing.T) {
		if _, err := db.CreateUser(ctx, "taken@example.com", "h"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateUser(ctx, "taken@example.com", "h2"); !errors.Is(err, ErrConflict) {
			t.Errorf("second CreateUser error = %v, want ErrConflict", err)
		}
		if got, want := countRows(t, db, "SELECT count(*) FROM users WHERE email = 'taken@example.com'"), 1; got != want {
			t.Errorf("users with the email = %d, want %d", got, want)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		if _, err := db.UserByEmail(ctx, "nobody@example.com"); !errors.Is(err, ErrNotFound) {
			t.Errorf("UserByEmail(unknown) error = %v, want ErrNotFound", err)
		}
		if _, err := db.UserByID(ctx, 424242); !errors.Is(err, ErrNotFound) {
			t.Errorf("UserByID(unknown) error = %v, want ErrNotFound", err)
		}
	})

	t.Run("EndSessions", func(t *testing.T) {
		u := mustCreateUser(t, db)
		if err := db.EndSessions(ctx, u.ID); err != nil {
			t.Fatalf("EndSessions: %v", err)
		}
		got, err := db.UserByID(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := got.SessionVersion, int64(2); got != want {
			t.Errorf("SessionVersion after EndSessions = %d, want %d", got, want)
		}
	})
}

func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	db := mustOpenDB(t)
	products, err := db.Products(ctx)
	if err != nil {
		t.Fatal(err)
	}

	const writers = 50
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			u, err := db.CreateUser(ctx, fmt.Sprintf("writer%d@example.com", i), "h")
			if err != nil {
				errs <- fmt.Errorf("writer %d: CreateUser: %w", i, err)
				return
			}
			ref := CartRef{UserID: u.ID}
			p := products[i%len(products)]
			if err := db.AddToCart(ctx, ref, p.ID, 1+i%3); err != nil {
				errs <- fmt.Errorf("writer %d: AddToCart: %w", i, err)
				return
			}
			// Reads interleave with the other writers' transactions.
			n, err := db.CartCount(ctx, ref)
			if err != nil {
				errs <- fmt.Errorf("writer %d: CartCount: %w", i, err)
				return
			}
			if n != 1+i%3 {
				errs <- fmt.Errorf("writer %d: CartCount = %d, want %d", i, n, 1+i%3)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
		if msg := strings.ToLower(err.Error()); strings.Contains(msg, "locked") || strings.Contains(msg, "busy") {
			t.Errorf("concurrent writers hit SQLITE_BUSY: %v", err)
		}
	}
	if got, want := countRows(t, db, "SELECT count(*) FROM users WHERE email LIKE 'writer%'"), writers; got != want {
		t.Errorf("users created = %d, want %d", got, want)
	}
	if got, want := countRows(t, db, "SELECT count(*) FROM cart_items"), writers; got != want {
		t.Errorf("cart lines = %d, want %d", got, want)
	}
}

func TestInjectedClock(t *testing.T) {
	ctx := context.Background()
	db := mustOpenDB(t)
	at := time.Date(2029, time.December, 31, 23, 59, 58, 123_000_000, time.FixedZone("UTC+2", 2*60*60))
	db.Now = func() time.Time { return at }

	u := mustCreateUser(t, db)
	ref := CartRef{UserID: u.ID}
	products, err := db.Products(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AddToCart(ctx, ref, products[0].ID, 1); err != nil {
		t.Fatal(err)
	}
	o, _, err := db.PrepareOrder(ctx, ref)
	if err != nil {
		t.Fatalf("PrepareOrder: %v", err)
	}
	got, err := db.Order(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(at) || !got.UpdatedAt.Equal(at) {
		t.Errorf("order CreatedAt, UpdatedAt = %v, %v, want both %v", got.CreatedAt, got.UpdatedAt, at)
	}
	// Stored as sortable UTC text.
	var created, added string
	if err := db.readStmts.QueryRowContext(ctx, "SELECT created_at FROM orders WHERE id = ?", o.ID).Scan(&created); err != nil {
		t.Fatal(err)
	}
	if got, want := created, "2029-12-31T21:59:58.123Z"; got != want {
		t.Errorf("orders.created_at = %q, want %q", got, want)
	}
	if err := db.readStmts.QueryRowContext(ctx, "SELECT added_at FROM cart_items").Scan(&added); err != nil {
		t.Fatal(err)
	}
	if got, want := added, "2029-12-31T21:59:58.123Z"; got != want {
		t.Errorf("cart_items.added_at = %q, want %q", got, want)
	}
}

// damage overwrites the database's last page with garbage, as a failing disk might: the schema
// still reads, so only a check of the whole file notices.
func damage(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, _ := f.Stat()
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xA5}, 4096), info.Size()-4096); err != nil {
		t.Fatal(err)
	}
}
