package store

import (
	"context"
	"fmt"
)

// OrderPage is one page of a user's order history, newest first.
type OrderPage struct {
	Orders []Order
	Page   int // 1-based, within 1..Pages
	Pages  int // at least 1, even with no orders
	Total  int // orders in all
}

// OrdersPageForUser returns page (1-based) of a user's orders, size to a page, newest first. A
// page beyond the last is the last one, so a stale link still shows orders.
func (db *DB) OrdersPageForUser(ctx context.Context, userID int64, page, size int) (OrderPage, error) {
	if size < 1 {
		return OrderPage{}, fmt.Errorf("list orders: page size %d", size)
	}
	var total int
	if err := db.readStmts.QueryRowContext(ctx, "SELECT count(*) FROM orders WHERE user_id = ?", userID).Scan(&total); err != nil {
		return OrderPage{}, fmt.Errorf("count orders: %w", err)
	}
	pages := max((total+size-1)/size, 1)
	page = min(max(page, 1), pages)
	orders, err := db.ordersForUser(ctx, userID, size, (page-1)*size)
	if err != nil {
		return OrderPage{}, err
	}
	return OrderPage{Orders: orders, Page: page, Pages: pages, Total: total}, nil
}
