package sqlbind

import "testing"

func TestRebind(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = $1 AND c = $2"},
		{"UPDATE t SET a = ?2 WHERE b = ?1 OR c < ?3", "UPDATE t SET a = $2 WHERE b = $1 OR c < $3"},
		{`SELECT '?', "a?b" FROM t WHERE x LIKE ? ESCAPE '\'`, `SELECT '?', "a?b" FROM t WHERE x LIKE $1 ESCAPE '\'`},
		{"SELECT 'it''s ?' , ?", "SELECT 'it''s ?' , $1"},
		{"SELECT 'open ?", "SELECT 'open ?"},
	} {
		if got := Rebind(c.in); got != c.want {
			t.Errorf("Rebind(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
