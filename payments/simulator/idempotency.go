package simulator

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// idempotent wraps a write endpoint with Stripe's Idempotency-Key semantics: the same key with the
// same parameters replays the first response; with different parameters it is an error.
// Like Stripe, only responses of requests that executed are remembered: successes, and declined
// payments (402), which a retry must not attempt again.
func (s *Simulator) idempotent(fn apiFunc) http.HandlerFunc {
	return s.api(func(req *apiRequest) (int, any) {
		s.apiMu.Lock()
		defer s.apiMu.Unlock()
		key := req.origin.idempotencyKey
		if key == "" {
			return fn(req)
		}
		if len(key) > 255 {
			return fail(invalidParam("Idempotency-Key", "Idempotency keys can be at most 255 characters long."))
		}
		ctx := req.r.Context()
		path := req.r.URL.Path
		sum := sha256.Sum256([]byte(req.r.Method + " " + path + "?" + req.form.Encode()))
		fp := hex.EncodeToString(sum[:])

		var (
			storedPath, storedFP string
			status               int
			body                 []byte
		)
		err := s.db.QueryRowContext(ctx, `SELECT path, fingerprint, status, body FROM idempotency WHERE key = ?`, key).
			Scan(&storedPath, &storedFP, &status, &body)
		switch {
		case err == nil:
			if storedPath != path || storedFP != fp {
				return http.StatusBadRequest, &stripeError{Status: http.StatusBadRequest, Type: "idempotency_error", Message: fmt.Sprintf(
					"Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '%s' if you meant to execute a different request.", key)}
			}
			req.w.Header().Set("Idempotent-Replayed", "true")
			return status, json.RawMessage(body)
		case !errors.Is(err, sql.ErrNoRows):
			return fail(fmt.Errorf("look up idempotency key: %w", err))
		}

		status, out := fn(req)
		if status >= 300 && status != http.StatusPaymentRequired {
			return status, out
		}
		raw, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return fail(fmt.Errorf("encode response: %w", err))
		}
		if _, err := s.db.ExecContext(ctx, `INSERT INTO idempotency (key, method, path, fingerprint, status, body, created_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, key, req.r.Method, path, fp, status, raw, time.Now().UnixMilli()); err != nil {
			// The write itself succeeded; failing now would invite a retry that repeats it.
			s.log.Error("could not remember idempotency key", "error", err, "key", key)
		}
		return status, json.RawMessage(raw)
	})
}
