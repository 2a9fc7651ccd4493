package store

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"storefront/store/internal/sqlbind"
)

// dialect is what differs between the two databases the store runs on. The store's SQL is
// written once, in the common subset of SQLite and PostgreSQL, with SQLite's `?` and `?N`
// placeholders; on PostgreSQL they become `$N` and booleans become 0 or 1 (the schema keeps
// flags as integers in both).
type dialect struct {
	postgres bool
}

// query returns q as the database expects it.
func (d dialect) query(q string) string {
	if !d.postgres {
		return q
	}
	return sqlbind.Rebind(q)
}

// args returns args as the database takes them.
func (d dialect) args(args []any) []any {
	if !d.postgres {
		return args
	}
	for i, a := range args {
		if b, ok := a.(bool); ok {
			if b {
				args[i] = int64(1)
			} else {
				args[i] = int64(0)
			}
		}
	}
	return args
}

// isUniqueViolation reports whether err is a unique constraint refusing a row, in either
// database; on SQLite, constraint names the table.column (e.g. "products.slug"), on
// PostgreSQL the index (e.g. "products_slug_key").
func isUniqueViolation(err error, sqliteColumn, pgConstraint string) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505" && (pgConstraint == "" || pgErr.ConstraintName == pgConstraint)
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") && (sqliteColumn == "" || strings.Contains(msg, sqliteColumn))
}

// noLimit is the LIMIT of a query that lists everything: both databases take it, where only
// SQLite takes -1.
const noLimit = 1<<31 - 1
