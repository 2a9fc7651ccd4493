package handlers

import (
	"context"
	"log/slog"
	"math"
	"time"

	"storefront/store"
)

// sharedLimits counts in the database that the shop's instances share. When the database
// cannot answer, the instance counts in memory meanwhile: its limits still hold for it alone.
type sharedLimits struct {
	db    *store.DB
	local *limiter
	log   *slog.Logger
}

func (l sharedLimits) take(ctx context.Context, key string, limit int, span time.Duration) (bool, time.Duration) {
	ok, wait, err := l.db.TakeLimit(ctx, key, limit, span)
	if err != nil {
		l.log.Warn("rate limits: counting on this instance alone", "error", err)
		return l.local.take(ctx, key, limit, span)
	}
	return ok, wait
}

func (l sharedLimits) count(ctx context.Context, key string, span time.Duration) int {
	n, err := l.db.LimitCount(ctx, key)
	if err != nil {
		l.log.Warn("rate limits: counting on this instance alone", "error", err)
		return l.local.count(ctx, key, span)
	}
	return n
}

func (l sharedLimits) add(ctx context.Context, key string, span time.Duration) {
	l.take(ctx, key, math.MaxInt32, span)
}

func (l sharedLimits) reset(ctx context.Context, key string) {
	l.local.reset(ctx, key)
	if err := l.db.ResetLimit(ctx, key); err != nil {
		l.log.Warn("rate limits: reset on this instance alone", "error", err)
	}
}
