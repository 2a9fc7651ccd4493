package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"storefront/store"
)

const adminUsage = "usage: storefront admin grant|revoke EMAIL"

// runAdmin is `storefront admin grant EMAIL` and `storefront admin revoke EMAIL`: it gives or
// takes away the admin role of an existing account, in the database DATABASE_URL, or else
// DB_PATH (or -db), names.
// It may run while the shop serves from the same database.
func runAdmin(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("storefront admin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbPath := "./data/storefront.db"
	if v := strings.TrimSpace(getenv("DB_PATH")); v != "" {
		dbPath = v
	}
	if v := strings.TrimSpace(getenv("DATABASE_URL")); v != "" {
		dbPath = v
	}
	fs.StringVar(&dbPath, "db", dbPath, "SQLite database file (DB_PATH) or PostgreSQL URL (DATABASE_URL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 || (fs.Arg(0) != "grant" && fs.Arg(0) != "revoke") {
		return errors.New(adminUsage)
	}
	grant, email := fs.Arg(0) == "grant", strings.ToLower(strings.TrimSpace(fs.Arg(1)))
	db, err := store.Open(ctx, dbPath)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer db.Close()
	err = db.SetAdmin(ctx, store.Actor{Email: "command line"}, email, grant)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no account has the email %s: sign up in the shop first", email)
	}
	if err != nil {
		return err
	}
	if grant {
		fmt.Fprintf(stdout, "%s is now an admin: the console is at /admin\n", email)
	} else {
		fmt.Fprintf(stdout, "%s is no longer an admin\n", email)
	}
	return nil
}

// adminEmail reads ADMIN_EMAIL: in simulator mode the account with this email becomes an admin
// the first time it opens /admin, so trying the console takes no extra step. With real Stripe it
// is ignored (use `storefront admin grant`), so that a forgotten variable never hands out the role.
func adminEmail(getenv func(string) string, simulated bool, logger *slog.Logger) string {
	email := strings.ToLower(strings.TrimSpace(getenv("ADMIN_EMAIL")))
	if email == "" {
		return ""
	}
	if !simulated {
		logger.Warn("ADMIN_EMAIL is ignored with real Stripe keys: run `storefront admin grant EMAIL` instead")
		return ""
	}
	logger.Info("the account with ADMIN_EMAIL becomes an admin when it opens /admin", "admin_email", email)
	return email
}
