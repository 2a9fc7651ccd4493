package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"storefront/store"
)

func TestAdminCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "shop.db")
	getenv := func(key string) string {
		if key == "DB_PATH" {
			return dbPath
		}
		return ""
	}
	admin := func(args ...string) (string, error) {
		var out, errs bytes.Buffer
		err := runAdmin(ctx, args, getenv, &out, &errs)
		return out.String(), err
	}
	if _, err := admin("grant"); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Errorf("no email: %v, want the usage", err)
	}
	if _, err := admin("promote", "a@example.com"); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Errorf("unknown verb: %v, want the usage", err)
	}
	if _, err := admin("grant", "nobody@example.com"); err == nil || !strings.Contains(err.Error(), "sign up") {
		t.Errorf("unknown account: %v, want a hint to sign up first", err)
	}
	db, err := store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateUser(ctx, "owner@example.com", "hash"); err != nil {
		t.Fatal(err)
	}
	isAdmin := func() bool {
		u, err := db.UserByEmail(ctx, "owner@example.com")
		if err != nil {
			t.Fatal(err)
		}
		return u.Admin
	}
	// The shop may be running on the same database: the command works beside it.
	if out, err := admin("grant", " Owner@Example.com "); err != nil || !strings.Contains(out, "now an admin") {
		t.Fatalf("grant: %q, %v", out, err)
	}
	if !isAdmin() {
		t.Error("grant did not make the account an admin")
	}
	if _, err := admin("revoke", "owner@example.com"); err != nil {
		t.Fatal(err)
	}
	if isAdmin() {
		t.Error("revoke left the account an admin")
	}
	entries, err := db.AuditLog(ctx, 10, 0)
	if err != nil || len(entries) != 2 || entries[0].Action != "admin.revoke" || entries[1].Action != "admin.grant" {
		t.Errorf("audit log %+v, %v: want the grant and the revoke", entries, err)
	}
	db.Close()
}
