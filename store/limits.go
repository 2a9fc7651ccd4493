package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Counters that the instances sharing a database keep together, so that a limit holds for the
// shop rather than for each instance: rate limits and each account's open event streams. They
// are bookkeeping, not the shop's records: they take no part in the writers' lock, send no notes,
// and losing them loses nothing confirmed.

// Instances say they are alive every instanceBeat; one silent for instanceSilence has stopped
// (crashed, or cut off), and its open streams no longer count.
const (
	instanceBeat    = 5 * time.Second
	instanceSilence = 30 * time.Second
	instanceForget  = 10 * time.Minute
)

// bookkeeping is where the counters are written: on PostgreSQL any pooled connection (one
// statement or a short transaction of its own, never waiting for the writers' lock); on SQLite
// the writer.
func (db *DB) bookkeeping() *sql.DB {
	if db.d.postgres {
		return db.read
	}
	return db.write
}

// TakeLimit counts one event for key in its current window, a new one of span once the last has
// ended, and reports whether the count is within limit; if not, also how long until the window
// ends. Every instance sharing the database counts in the same window.
func (db *DB) TakeLimit(ctx context.Context, key string, limit int, span time.Duration) (bool, time.Duration, error) {
	now := db.Now()
	var hits int
	var ends string
	err := db.bookkeeping().QueryRowContext(ctx, db.d.query(`INSERT INTO rate_limits (key, started, ends, hits) VALUES (?1, ?2, ?3, 1)
		ON CONFLICT (key) DO UPDATE SET
			hits = CASE WHEN rate_limits.ends <= ?2 THEN 1 WHEN rate_limits.hits > ?4 THEN rate_limits.hits ELSE rate_limits.hits + 1 END,
			started = CASE WHEN rate_limits.ends <= ?2 THEN ?2 ELSE rate_limits.started END,
			ends = CASE WHEN rate_limits.ends <= ?2 THEN ?3 ELSE rate_limits.ends END
		RETURNING hits, ends`), key, formatTime(now), formatTime(now.Add(span)), limit).Scan(&hits, &ends)
	if err != nil {
		return false, 0, fmt.Errorf("count %s: %w", key, err)
	}
	if hits <= limit {
		return true, 0, nil
	}
	return false, parseTime(ends).Sub(now), nil
}

// LimitCount returns how many events key has in its current window, without counting one.
func (db *DB) LimitCount(ctx context.Context, key string) (int, error) {
	var hits int
	err := db.bookkeeping().QueryRowContext(ctx, db.d.query("SELECT hits FROM rate_limits WHERE key = ? AND ends > ?"),
		key, db.now()).Scan(&hits)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", key, err)
	}
	return hits, nil
}

// ResetLimit forgets key's window.
func (db *DB) ResetLimit(ctx context.Context, key string) error {
	if _, err := db.bookkeeping().ExecContext(ctx, db.d.query("DELETE FROM rate_limits WHERE key = ?"), key); err != nil {
		return fmt.Errorf("reset %s: %w", key, err)
	}
	return nil
}

// OpenStream counts one more open event stream of the user's on this instance, if the user's
// streams on every running instance number fewer than limit, and reports whether it did. Two
// instances admitting the same user at once take turns (PostgreSQL: a lock per user).
func (db *DB) OpenStream(ctx context.Context, userID int64, limit int) (bool, error) {
	tx, err := db.bookkeeping().BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("open stream: %w", err)
	}
	defer tx.Rollback()
	if db.d.postgres {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext('storefront streams ' || current_schema()), $1::int)", int32(userID)); err != nil {
			return false, fmt.Errorf("open stream: %w", err)
		}
	}
	var open int
	err = tx.QueryRowContext(ctx, db.d.query(`SELECT COALESCE(SUM(o.streams), 0) FROM open_streams o
		JOIN instances i ON i.id = o.instance WHERE o.user_id = ? AND i.seen_at > ?`),
		userID, formatTime(db.Now().Add(-instanceSilence))).Scan(&open)
	if err != nil {
		return false, fmt.Errorf("open stream: %w", err)
	}
	if open >= limit {
		return false, nil
	}
	_, err = tx.ExecContext(ctx, db.d.query(`INSERT INTO open_streams (instance, user_id, streams) VALUES (?, ?, 1)
		ON CONFLICT (user_id, instance) DO UPDATE SET streams = open_streams.streams + 1`), db.instance, userID)
	if err != nil {
		return false, fmt.Errorf("open stream: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("open stream: %w", err)
	}
	return true, nil
}

// CloseStream counts one fewer open event stream of the user's on this instance.
func (db *DB) CloseStream(ctx context.Context, userID int64) error {
	_, err := db.bookkeeping().ExecContext(ctx, db.d.query(`UPDATE open_streams SET streams = streams - 1
		WHERE instance = ? AND user_id = ? AND streams > 0`), db.instance, userID)
	if err != nil {
		return fmt.Errorf("close stream: %w", err)
	}
	return nil
}

// Shared reports whether other instances may share the database (PostgreSQL), so that limits
// must be counted in it rather than in memory.
func (db *DB) Shared() bool { return db.d.postgres }

// startInstance records this instance as running and keeps saying so until Close, when it
// leaves; each beat also forgets ended rate-limit windows, streams of instances long silent,
// and streams closed.
func (db *DB) startInstance(ctx context.Context) error {
	if err := db.beat(ctx); err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	db.wg.Add(1)
	go func() {
		defer db.wg.Done()
		t := time.NewTicker(instanceBeat)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), instanceBeat)
				db.beat(ctx) // a missed beat is made up by the next
				cancel()
			case <-db.closed:
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				db.bookkeeping().ExecContext(ctx, db.d.query("DELETE FROM instances WHERE id = ?"), db.instance)
				cancel()
				return
			}
		}
	}()
	return nil
}

func (db *DB) beat(ctx context.Context) error {
	now := db.Now()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO instances (id, seen_at) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET seen_at = ?2`, []any{db.instance, formatTime(now)}},
		{"DELETE FROM instances WHERE seen_at < ?", []any{formatTime(now.Add(-instanceForget))}},
		{"DELETE FROM open_streams WHERE streams <= 0", nil},
		{"DELETE FROM rate_limits WHERE ends <= ?", []any{formatTime(now)}},
	} {
		if _, err := db.bookkeeping().ExecContext(ctx, db.d.query(q.sql), q.args...); err != nil {
			return err
		}
	}
	return nil
}
