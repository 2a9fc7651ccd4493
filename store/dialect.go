package store

import (
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
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
	return rebind(q)
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

// rebind turns `?` placeholders into PostgreSQL's `$1, $2, …` in order, and `?N` into `$N`,
// leaving quoted text and identifiers alone.
func rebind(q string) string {
	if !strings.ContainsRune(q, '?') {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch c {
		case '\'', '"':
			end := strings.IndexByte(q[i+1:], c)
			if end < 0 {
				b.WriteString(q[i:])
				return b.String()
			}
			b.WriteString(q[i : i+end+2])
			i += end + 1
		case '?':
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			b.WriteByte('$')
			if j > i+1 {
				b.WriteString(q[i+1 : j])
				i = j - 1
			} else {
				n++
				b.WriteString(strconv.Itoa(n))
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
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
