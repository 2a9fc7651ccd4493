package store

import (
	"context"
	"fmt"
	"time"
)

// TryLock takes the named lock for holder until ttl from now, if nobody else holds it (or their
// hold has run out). It reports whether holder has it. Taking a lock one already holds extends it.
func (db *DB) TryLock(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	var got bool
	err := db.inTx(ctx, func(tx *writeTx) error {
		now := db.Now()
		res, err := tx.ExecContext(ctx, `INSERT INTO locks (name, holder, until) VALUES (?1, ?2, ?3)
			ON CONFLICT (name) DO UPDATE SET holder = ?2, until = ?3 WHERE locks.holder = ?2 OR locks.until < ?4`,
			name, holder, formatTime(now.Add(ttl)), formatTime(now))
		if err != nil {
			return fmt.Errorf("lock %s: %w", name, err)
		}
		n, _ := res.RowsAffected()
		got = n > 0
		return nil
	})
	return got, err
}

// Unlock gives the named lock back, if holder has it.
func (db *DB) Unlock(ctx context.Context, name, holder string) error {
	return db.inTx(ctx, func(tx *writeTx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM locks WHERE name = ? AND holder = ?", name, holder); err != nil {
			return fmt.Errorf("unlock %s: %w", name, err)
		}
		return nil
	})
}
