package store

import (
	"storefront/store/storetest"

	"context"
	"testing"
	"time"
)

// A logged-out session must stop working: a user read kept by the store is read again at
// once after this process commits (EndSessions), and within recheckAfter after another
// process (the sqlite3 shell, a second instance) changes it.
func TestRecentReadsFollowWrites(t *testing.T) {
	path := storetest.DSN(t)
	db := mustOpenDBAt(t, path)
	ctx := context.Background()
	u := mustCreateUser(t, db)
	read := func() int64 {
		got, err := db.UserByID(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.SessionVersion
	}
	before := read()
	if err := db.EndSessions(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if after := read(); after == before {
		t.Fatalf("session version still %d right after this process ended the sessions", after)
	}

	other, d := openOther(t, path)
	seen := read()
	if _, err := other.ExecContext(ctx, d.query("UPDATE users SET session_version = session_version + 1 WHERE id = ?"), u.ID); err != nil {
		t.Fatal(err)
	}
	changed := time.Now()
	for read() == seen {
		if time.Since(changed) > recheckAfter+5*time.Second {
			t.Fatalf("another process's change unseen after %v", time.Since(changed))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
