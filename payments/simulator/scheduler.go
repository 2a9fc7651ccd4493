package simulator

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// schedulerLoop settles bank transfers when their delay is up and expires sessions at expires_at.
func (s *Simulator) schedulerLoop(ctx context.Context) {
	for ctx.Err() == nil {
		wait, err := s.runDue(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.log.Error("checkout simulator scheduler failed", "error", err)
			wait = idleRecheck
		}
		sleep(ctx, min(wait, idleRecheck), s.schedulerWake)
	}
}

type dueJob struct {
	id        int64
	sessionID string
	kind      string
}

// runDue does all work that is due and returns how long until more is.
func (s *Simulator) runDue(ctx context.Context) (time.Duration, error) {
	wallMS := time.Now().UnixMilli()
	jobs, err := s.dueJobs(ctx, wallMS)
	if err != nil {
		return 0, err
	}
	for _, j := range jobs {
		if err := s.runJob(ctx, j.id, j.sessionID, j.kind); err != nil {
			return 0, fmt.Errorf("run %s for session %s: %w", j.kind, j.sessionID, err)
		}
	}

	nowMS := s.now().UnixMilli()
	expired, err := s.dueExpiries(ctx, nowMS)
	if err != nil {
		return 0, err
	}
	for _, id := range expired {
		_, err := s.expireSession(ctx, id, origin{})
		if err != nil && !errors.Is(err, errNotOpen) {
			return 0, fmt.Errorf("expire session %s: %w", id, err)
		}
		if err == nil {
			s.log.Info("checkout session expired", "session_id", id)
		}
	}

	var nextJob, nextExpiry sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MIN(due_ms) FROM jobs WHERE done_ms IS NULL`).Scan(&nextJob); err != nil {
		return 0, fmt.Errorf("find next job: %w", err)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT MIN(expires_at_ms) FROM sessions WHERE status = 'open'`).Scan(&nextExpiry); err != nil {
		return 0, fmt.Errorf("find next expiry: %w", err)
	}
	wait := idleRecheck
	if nextJob.Valid {
		wait = min(wait, time.Duration(nextJob.Int64-time.Now().UnixMilli())*time.Millisecond)
	}
	if nextExpiry.Valid {
		wait = min(wait, time.Duration(nextExpiry.Int64-s.now().UnixMilli())*time.Millisecond)
	}
	return max(wait, time.Millisecond), nil
}

// dueJobs reads the due jobs into memory first: with one connection, nothing else can run while rows are open.
func (s *Simulator) dueJobs(ctx context.Context, nowMS int64) ([]dueJob, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, session_id, kind FROM jobs WHERE done_ms IS NULL AND due_ms <= ? ORDER BY due_ms, id`, nowMS)
	if err != nil {
		return nil, fmt.Errorf("find due jobs: %w", err)
	}
	defer rows.Close()
	var out []dueJob
	for rows.Next() {
		var j dueJob
		if err := rows.Scan(&j.id, &j.sessionID, &j.kind); err != nil {
			return nil, fmt.Errorf("read due job: %w", err)
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

func (s *Simulator) dueExpiries(ctx context.Context, nowMS int64) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM sessions WHERE status = 'open' AND expires_at_ms <= ? ORDER BY expires_at_ms`, nowMS)
	if err != nil {
		return nil, fmt.Errorf("find expired sessions: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("read expired session: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
