package simulator

import (
	"context"
	"errors"
)

// errNotOpen means the session can no longer be paid or expired.
var errNotOpen = errors.New("checkout session is not open")

// expireSession expires an open session; errNotOpen when it is complete or already expired.
func (s *Simulator) expireSession(ctx context.Context, id string, o origin) (*session, error) {
	var sess *session
	err := s.inTx(ctx, func(t *txn) error {
		var err error
		sess, err = loadSession(ctx, t, "id", id)
		if err != nil {
			return err
		}
		if sess.Status != statusOpen {
			return errNotOpen
		}
		return s.expireTx(t, sess, o)
	})
	return sess, err
}

func (s *Simulator) expireTx(t *txn, sess *session, o origin) error {
	sess.Status = statusExpired
	if err := saveSession(t, sess); err != nil {
		return err
	}
	return s.enqueue(t, sess.ID, "checkout.session.expired", s.sessionObject(sess, expansion{}), nil, o)
}
