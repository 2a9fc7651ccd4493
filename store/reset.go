package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// PasswordResetLifetime is how long a password reset link works.
const PasswordResetLifetime = time.Hour

// ErrResetToken means a password reset token is unknown, used or expired.
var ErrResetToken = invalid("This reset link has expired or has already been used. Ask for a new one.")

// RequestPasswordReset makes a single-use reset token for the account with this email and
// queues the mail that carries it, in one transaction. The token is stored only as its
// SHA-256; the outbox holds it until the mail is sent. For an unknown email the request is
// recorded as skipped: the same work, and nothing for the caller to tell apart.
func (db *DB) RequestPasswordReset(ctx context.Context, email string) error {
	token := newToken()
	hash := hashToken(token)
	err := db.inTx(ctx, func(tx *writeTx) error {
		now := db.Now()
		expires := now.Add(PasswordResetLifetime)
		m := OutboxMail{Kind: MailPasswordReset, To: email, Data: MailData{ExpiresAt: expires}, GiveUpAt: expires}
		var userID int64
		err := tx.QueryRowContext(ctx, "SELECT id FROM users WHERE email = ?", email).Scan(&userID)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			m.Status, m.Data = MailSkipped, MailData{}
		case err != nil:
			return err
		default:
			_, err = tx.ExecContext(ctx, "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
				hash, userID, formatTime(now), formatTime(expires))
			if err != nil {
				return err
			}
			m.Secret = token
		}
		return db.queueMail(ctx, tx, "password_reset:"+hash, m)
	})
	if err != nil {
		return fmt.Errorf("request password reset: %w", err)
	}
	return nil
}

// CheckPasswordReset reports whether a reset token can still be used.
func (db *DB) CheckPasswordReset(ctx context.Context, token string) bool {
	var n int
	err := db.readStmts.QueryRowContext(ctx, "SELECT count(*) FROM password_resets WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
		hashToken(token), db.now()).Scan(&n)
	return err == nil && n > 0
}

// ResetPassword uses a reset token: it sets the account's new password hash, ends every
// session of the account, and uses up every reset token it has. It returns the account, with
// its new session version, or ErrResetToken.
func (db *DB) ResetPassword(ctx context.Context, token, passwordHash string) (User, error) {
	var u User
	err := db.inTx(ctx, func(tx *writeTx) error {
		now := db.now()
		var userID int64
		err := tx.QueryRowContext(ctx, "SELECT user_id FROM password_resets WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
			hashToken(token), now).Scan(&userID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrResetToken
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE password_resets SET used_at = ? WHERE user_id = ? AND used_at IS NULL", now, userID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE users SET password_hash = ?, session_version = session_version + 1 WHERE id = ?",
			passwordHash, userID); err != nil {
			return err
		}
		u, err = db.scanUser(tx.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE id = ?", userID))
		return err
	})
	if errors.Is(err, ErrResetToken) {
		return User{}, err
	}
	if err != nil {
		return User{}, fmt.Errorf("reset password: %w", err)
	}
	return u, nil
}

// newToken is 256 random bits, URL-safe.
func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
