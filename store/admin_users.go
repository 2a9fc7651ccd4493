package store

import (
	"context"
	"fmt"
)

// SetAdmin gives (or takes away) the admin role of the account with this email and records it
// in the audit log; an unknown email gives ErrNotFound. The role is read on every request, so
// a revoke takes effect at once.
func (db *DB) SetAdmin(ctx context.Context, who Actor, email string, admin bool) error {
	return db.inTx(ctx, func(tx *writeTx) error {
		res, err := tx.ExecContext(ctx, "UPDATE users SET admin = ? WHERE email = ?", admin, email)
		if err != nil {
			return fmt.Errorf("set admin: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		action := "admin.grant"
		if !admin {
			action = "admin.revoke"
		}
		return db.recordAudit(ctx, tx, who, action, "user "+email, "")
	})
}
