package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// mustRequestReset asks for a reset of email and returns the token its mail carries.
func mustRequestReset(tb testing.TB, db *DB, email string) string {
	tb.Helper()
	if err := db.RequestPasswordReset(context.Background(), email); err != nil {
		tb.Fatal(err)
	}
	mails := mailOfKind(mustListMail(tb, db, ""), MailPasswordReset)
	return mails[0].Secret // newest first
}

func TestPasswordReset(t *testing.T) {
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		db := mustOpenDB(t)
		u := mustCreateUser(t, db)
		token := mustRequestReset(t, db, u.Email)
		if len(token) < 40 {
			t.Fatalf("token %q is too short", token)
		}
		if n := countRows(t, db, "SELECT count(*) FROM password_resets WHERE token_hash = ?", token); n != 0 {
			t.Fatal("the token is stored as it is, not hashed")
		}
		if !db.CheckPasswordReset(ctx, token) {
			t.Fatal("a fresh token does not check")
		}
		got, err := db.ResetPassword(ctx, token, "new-hash")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != u.ID || got.PasswordHash != "new-hash" || got.SessionVersion != u.SessionVersion+1 {
			t.Fatalf("after reset: %+v (before %+v)", got, u)
		}
		if _, err := db.ResetPassword(ctx, token, "again"); !errors.Is(err, ErrResetToken) {
			t.Fatalf("reusing a token: %v, want ErrResetToken", err)
		}
		if db.CheckPasswordReset(ctx, token) {
			t.Fatal("a used token still checks")
		}
	})

	t.Run("a reset uses up the account's other tokens", func(t *testing.T) {
		db := mustOpenDB(t)
		u := mustCreateUser(t, db)
		first := mustRequestReset(t, db, u.Email)
		second := mustRequestReset(t, db, u.Email)
		if first == second {
			t.Fatal("two requests gave one token")
		}
		if _, err := db.ResetPassword(ctx, second, "h"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ResetPassword(ctx, first, "h2"); !errors.Is(err, ErrResetToken) {
			t.Fatalf("older token after a reset: %v, want ErrResetToken", err)
		}
	})

	t.Run("expiry", func(t *testing.T) {
		db := mustOpenDB(t)
		u := mustCreateUser(t, db)
		token := mustRequestReset(t, db, u.Email)
		db.Now = func() time.Time { return fixedNow.Add(PasswordResetLifetime) }
		if _, err := db.ResetPassword(ctx, token, "h"); !errors.Is(err, ErrResetToken) {
			t.Fatalf("expired token: %v, want ErrResetToken", err)
		}
		mail := mailOfKind(mustListMail(t, db, ""), MailPasswordReset)[0]
		if !mail.GiveUpAt.Equal(fixedNow.Add(PasswordResetLifetime)) {
			t.Fatalf("reset mail gives up at %v, want when the token expires", mail.GiveUpAt)
		}
	})

	t.Run("unknown email", func(t *testing.T) {
		db := mustOpenDB(t)
		if err := db.RequestPasswordReset(ctx, "nobody@example.com"); err != nil {
			t.Fatal(err)
		}
		mails := mustListMail(t, db, "")
		if len(mails) != 1 || mails[0].Status != MailSkipped || mails[0].Secret != "" {
			t.Fatalf("mails = %+v, want one skipped request without a token", mails)
		}
		if n := countRows(t, db, "SELECT count(*) FROM password_resets"); n != 0 {
			t.Fatalf("%d reset tokens for an unknown email", n)
		}
	})

	t.Run("sending forgets the token", func(t *testing.T) {
		db := mustOpenDB(t)
		u := mustCreateUser(t, db)
		mustRequestReset(t, db, u.Email)
		m, _, err := db.ClaimMail(ctx, fixedNow, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.MarkMailSent(ctx, m.ID, fixedNow); err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, db, "SELECT count(*) FROM outbox WHERE secret IS NOT NULL"); n != 0 {
			t.Fatal("the outbox keeps the token after sending")
		}
	})
}
