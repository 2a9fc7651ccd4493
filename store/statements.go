package store

import (
	"context"
	"database/sql"
	"slices"
	"sync"
)

// stmtCache prepares each query once per pool. SQLite parses a statement on every plain call,
// which is a large share of a short query's cost; database/sql keeps the prepared form on each
// connection and reuses it.
type stmtCache struct {
	pool *sql.DB
	d    dialect
	mu   sync.Mutex
	m    map[string]*sql.Stmt
}

func newStmtCache(pool *sql.DB, d dialect) *stmtCache {
	return &stmtCache{pool: pool, d: d, m: make(map[string]*sql.Stmt)}
}

func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	st, ok := c.m[query]
	c.mu.Unlock()
	if ok {
		return st, nil
	}
	// Prepare without the lock: preparing may wait for a connection that a transaction holds,
	// and that transaction may itself be looking up statements.
	st, err := c.pool.PrepareContext(ctx, c.d.query(query))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.m[query]; ok {
		st.Close()
		return prev, nil
	}
	c.m[query] = st
	return st, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.m {
		st.Close()
		delete(c.m, q)
	}
}

// QueryContext runs a prepared query on the pool.
func (c *stmtCache) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := c.get(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, c.d.args(args)...)
}

// QueryRowContext runs a prepared single-row query on the pool.
func (c *stmtCache) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := c.get(ctx, query)
	if err != nil {
		return c.pool.QueryRowContext(ctx, c.d.query(query), c.d.args(args)...) // reports the same error through Scan
	}
	return st.QueryRowContext(ctx, c.d.args(args)...)
}

// writeTx is a write transaction whose statements come from the writer's cache. The writer pool
// has one connection, which the transaction holds, so a statement cannot be prepared on the
// pool mid-transaction: its first use runs unprepared, and it is prepared once the
// transaction ends (see DB.inTx).
type writeTx struct {
	tx    *sql.Tx
	cache *stmtCache
	bound map[string]*sql.Stmt // the cache's statements bound to tx, each bound once
	later []string             // statements to prepare after the transaction
	// stockMoved lists the products whose free stock the transaction changed, to tell the
	// pages showing them once it commits (see DB.WatchStock).
	stockMoved []int64
}

// movedStock records that the transaction changed what is free of a product.
func (t *writeTx) movedStock(productID int64) {
	if !slices.Contains(t.stockMoved, productID) {
		t.stockMoved = append(t.stockMoved, productID)
	}
}

func (t *writeTx) stmt(ctx context.Context, query string) *sql.Stmt {
	if st, ok := t.bound[query]; ok {
		return st
	}
	t.cache.mu.Lock()
	st, ok := t.cache.m[query]
	t.cache.mu.Unlock()
	if !ok {
		t.later = append(t.later, query)
		return nil
	}
	// Binding costs locks and allocations; the committer's transactions run the same dozen
	// statements for every event of a batch.
	if t.bound == nil {
		t.bound = make(map[string]*sql.Stmt)
	}
	bound := t.tx.StmtContext(ctx, st)
	t.bound[query] = bound
	return bound
}

// prepareLater prepares the statements the transaction ran unprepared; the pool's one
// connection is free again.
func (t *writeTx) prepareLater(ctx context.Context) {
	for _, q := range t.later {
		t.cache.get(ctx, q) // on failure the statement simply keeps running unprepared
	}
}

// ExecContext runs a statement in the transaction.
func (t *writeTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	args = t.cache.d.args(args)
	if st := t.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, t.cache.d.query(query), args...)
}

// QueryContext runs a query in the transaction.
func (t *writeTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	args = t.cache.d.args(args)
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, t.cache.d.query(query), args...)
}

// QueryRowContext runs a single-row query in the transaction.
func (t *writeTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	args = t.cache.d.args(args)
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, t.cache.d.query(query), args...)
}
