package store

import (
	"context"
	"fmt"
	"time"
)

// Actor is the admin doing something, for the audit log.
type Actor struct {
	ID    int64 // 0 for the command line
	Email string
}

// AuditEntry is one recorded admin action.
type AuditEntry struct {
	ID         int64
	AdminEmail string
	Action     string // such as "product.update" or "order.refund"
	Target     string // what it was done to, such as "order 12"
	Detail     string
	CreatedAt  time.Time
}

// recordAudit notes an admin action in the caller's transaction, so that it is recorded exactly
// when the action commits.
func (db *DB) recordAudit(ctx context.Context, tx *writeTx, who Actor, action, target, detail string) error {
	var adminID any
	if who.ID != 0 {
		adminID = who.ID
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO audit_log (admin_id, admin_email, action, target, detail, created_at) VALUES (?, ?, ?, ?, ?, ?)",
		adminID, who.Email, action, target, detail, db.now())
	if err != nil {
		return fmt.Errorf("record audit: %w", err)
	}
	return nil
}

// AuditLog lists admin actions, newest first, skipping offset and returning at most limit.
func (db *DB) AuditLog(ctx context.Context, limit, offset int) ([]AuditEntry, error) {
	rows, err := db.readStmts.QueryContext(ctx, `SELECT id, admin_email, action, target, detail, created_at FROM audit_log
		ORDER BY id DESC LIMIT ? OFFSET ?`, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("list audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var created string
		if err := rows.Scan(&e.ID, &e.AdminEmail, &e.Action, &e.Target, &e.Detail, &created); err != nil {
			return nil, fmt.Errorf("list audit log: %w", err)
		}
		e.CreatedAt = parseTime(created)
		out = append(out, e)
	}
	return out, rows.Err()
}

// RecordAudit notes an admin action that has no transaction of its own (a reconcile run).
func (db *DB) RecordAudit(ctx context.Context, who Actor, action, target, detail string) error {
	return db.inTx(ctx, func(tx *writeTx) error { return db.recordAudit(ctx, tx, who, action, target, detail) })
}
