package store

import "errors"

// Errors the store returns; handlers map them to HTTP statuses in one place.
var (
	// ErrNotFound means the thing asked for does not exist (or is not the caller's).
	ErrNotFound = errors.New("not found")
	// ErrConflict means a unique value is taken, such as an email address.
	ErrConflict = errors.New("already exists")
)

// InvalidError is a request the store refuses as it stands; its message is safe to show to users.
type InvalidError struct{ Message string }

func (e *InvalidError) Error() string { return e.Message }

func invalid(msg string) error { return &InvalidError{Message: msg} }
