package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// User is a shopper with an account.
type User struct {
	ID             int64
	Email          string
	PasswordHash   string
	SessionVersion int64
	CreatedAt      time.Time
	Admin          bool // may use the operator console (see SetAdmin)
}

// CreateUser adds an account; a taken email gives ErrConflict.
func (db *DB) CreateUser(ctx context.Context, email, passwordHash string) (User, error) {
	u := User{Email: email, PasswordHash: passwordHash, SessionVersion: 1, CreatedAt: db.Now()}
	err := db.inTx(ctx, func(tx *writeTx) error {
		return tx.QueryRowContext(ctx,
			"INSERT INTO users (email, password_hash, session_version, created_at) VALUES (?, ?, 1, ?) RETURNING id",
			email, passwordHash, formatTime(u.CreatedAt)).Scan(&u.ID)
	})
	if isUniqueViolation(err, "", "") {
		return User{}, ErrConflict
	}
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// UserByEmail finds an account by its (normalised) email.
func (db *DB) UserByEmail(ctx context.Context, email string) (User, error) {
	return db.scanUser(db.readStmts.QueryRowContext(ctx,
		"SELECT "+userColumns+" FROM users WHERE email = ?", email))
}

// UserByID finds an account by id.
func (db *DB) UserByID(ctx context.Context, id int64) (User, error) {
	return recent(ctx, db, "user:"+strconv.FormatInt(id, 10), func(ctx context.Context) (User, error) {
		return db.scanUser(db.readStmts.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE id = ?", id))
	})
}

const userColumns = "id, email, password_hash, session_version, created_at, admin"

func (db *DB) scanUser(row *sql.Row) (User, error) {
	var u User
	var created string
	err := row.Scan(&u.ID, &u.Email, &u.PasswordHash, &u.SessionVersion, &created, &u.Admin)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("get user: %w", err)
	}
	u.CreatedAt = parseTime(created)
	return u, nil
}

// EndSessions invalidates every session cookie issued to the user so far.
func (db *DB) EndSessions(ctx context.Context, userID int64) error {
	return db.inTx(ctx, func(tx *writeTx) error {
		_, err := tx.ExecContext(ctx, "UPDATE users SET session_version = session_version + 1 WHERE id = ?", userID)
		if err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		return nil
	})
}

// SetPassword replaces a user's password hash and ends every session issued so far; it returns
// the user as it is after, so the caller can start a fresh session for the one who changed it.
func (db *DB) SetPassword(ctx context.Context, userID int64, passwordHash string) (User, error) {
	err := db.inTx(ctx, func(tx *writeTx) error {
		_, err := tx.ExecContext(ctx, "UPDATE users SET password_hash = ?, session_version = session_version + 1 WHERE id = ?", passwordHash, userID)
		if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		return nil
	})
	if err != nil {
		return User{}, err
	}
	return db.UserByID(ctx, userID)
}

// DeleteUser deletes an account and its cart. Its orders stay, as a shop's accounting
// records must, but no longer name the person: no user, no receipt address.
func (db *DB) DeleteUser(ctx context.Context, userID int64) error {
	return db.inTx(ctx, func(tx *writeTx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE orders SET user_id = NULL, customer_email = NULL WHERE user_id = ?", userID); err != nil {
			return fmt.Errorf("anonymise orders: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM carts WHERE user_id = ?", userID); err != nil {
			return fmt.Errorf("delete cart: %w", err)
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM users WHERE id = ?", userID)
		if err != nil {
			return fmt.Errorf("delete user: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}
