package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Password hashing is slow by design (tens of milliseconds of CPU each). A flood of logins or
// sign-ups from many addresses, each within its limits, could still take every core and slow
// every page; so at most half the cores hash at once, and a request that cannot get a turn
// soon is told to come back.
const hashWait = 10 * time.Second

var errHashingBusy = errors.New("too many password checks at once")

type hasher struct{ turns chan struct{} }

func newHasher() *hasher { return &hasher{turns: make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2))} }

func (h *hasher) take(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, hashWait)
	defer cancel()
	select {
	case h.turns <- struct{}{}:
		return nil
	case <-ctx.Done():
		return errHashingBusy
	}
}

// compare reports whether password is the one hashed.
func (h *hasher) compare(ctx context.Context, hash []byte, password string) (bool, error) {
	if err := h.take(ctx); err != nil {
		return false, err
	}
	defer func() { <-h.turns }()
	return bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil, nil
}

// hash hashes a new password.
func (h *hasher) hash(ctx context.Context, password string) ([]byte, error) {
	if err := h.take(ctx); err != nil {
		return nil, err
	}
	defer func() { <-h.turns }()
	return bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
}

// hashPassword hashes a new password for a form handler; when it cannot (every turn taken, or
// a failure) it answers the request itself and reports false.
func (s *server) hashPassword(w http.ResponseWriter, r *http.Request, password string) (string, bool) {
	hash, err := s.hasher.hash(r.Context(), password)
	switch {
	case errors.Is(err, errHashingBusy):
		s.tooBusy(w, r)
		return "", false
	case err != nil:
		s.serverError(w, r, fmt.Errorf("hash password: %w", err))
		return "", false
	}
	return string(hash), true
}
