package handlers

import (
	"context"
	"errors"
	"time"

	"storefront/reconcile"
)

// keepReconciled runs reconcile every ReconcileEvery (the first a minute after start, so that a
// shop back from an outage catches up soon) until the server stops.
func (s *server) keepReconciled() {
	if s.Reconcile == nil || s.ReconcileEvery <= 0 {
		return
	}
	timer := time.NewTimer(min(time.Minute, s.ReconcileEvery))
	defer timer.Stop()
	for {
		select {
		case <-s.Done:
			return
		case <-timer.C:
			s.reconcileNow(context.Background())
			timer.Reset(s.ReconcileEvery)
		}
	}
}

// reconcileNow runs one reconcile and logs its summary line.
func (s *server) reconcileNow(ctx context.Context) (reconcile.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	r, err := reconcile.Run(ctx, s.Reconcile, s.Store, reconcile.DefaultSince, s.publishOrder)
	switch {
	case errors.Is(err, reconcile.ErrRunning):
		s.Logger.Info("reconcile skipped: another is running")
	case err != nil:
		s.Logger.Error("reconcile failed", "error", err, "summary", r.String())
	default:
		s.Logger.Info(r.String())
	}
	return r, err
}
