package simulator

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// A file written by schema version 1 (no events.created, no sessions.pi_last_error) opens, and
// its queued events get their creation time from the payload, so GET /v1/events can filter them.
func TestOpenMigratesVersion1Files(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	old, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range schema {
		stmt = strings.Replace(stmt, ",\n\t\tpi_last_error TEXT NOT NULL DEFAULT ''", "", 1)
		stmt = strings.Replace(stmt, ",\n\t\tcreated INTEGER NOT NULL DEFAULT 0", "", 1)
		if _, err := old.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("v1 schema: %v", err)
		}
	}
	var n int
	old.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_table_info('events') WHERE name = 'created'`).Scan(&n)
	if n != 0 {
		t.Fatal("the v1 schema built here already has events.created; the test proves nothing")
	}
	if _, err := old.ExecContext(ctx, `INSERT INTO events (id, session_id, type, payload, enqueued_ms, next_attempt_ms)
		VALUES ('evt_old', 'cs_test_old', 'checkout.session.expired', CAST(? AS BLOB), 1, 1)`,
		`{"id": "evt_old", "created": 1700000000}`); err != nil {
		t.Fatal(err)
	}
	if _, err := old.ExecContext(ctx, `INSERT INTO sessions (id, created, expires_at_ms, status, payment_status, currency,
		amount_subtotal, amount_total, success_url, metadata, line_items)
		VALUES ('cs_test_old', 1700000000, 1, 'expired', 'unpaid', 'usd', 100, 100, 'http://x/', '{}', '[]')`); err != nil {
		t.Fatal(err)
	}
	old.Close()

	db, err := openDB(ctx, path)
	if err != nil {
		t.Fatalf("open a version 1 file: %v", err)
	}
	defer db.Close()
	var created int64
	if err := db.QueryRowContext(ctx, `SELECT created FROM events WHERE id = 'evt_old'`).Scan(&created); err != nil || created != 1700000000 {
		t.Errorf("migrated event created = %d (%v), want 1700000000", created, err)
	}
	if sess, err := loadSession(ctx, db, "id", "cs_test_old"); err != nil || sess.PILastError != nil {
		t.Errorf("load a version 1 session: %+v, %v", sess, err)
	}
	if db2, err := openDB(ctx, path); err != nil {
		t.Errorf("opening a migrated file again: %v", err)
	} else {
		db2.Close()
	}
}
