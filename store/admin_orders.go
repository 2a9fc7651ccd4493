package store

import (
	"context"
	"fmt"
	"strings"
)

// OrderFilter narrows the admin's order list. Zero values match everything.
type OrderFilter struct {
	Status Status
	Email  string // part of the customer's or the account's email address
	// OrderID limits the list to one order (for the live list, to check a changed order).
	OrderID int64
}

func (f OrderFilter) where() (string, []any) {
	conds, args := []string{"1 = 1"}, []any{}
	if f.Status != "" {
		conds, args = append(conds, "status = ?"), append(args, string(f.Status))
	}
	if f.Email != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(f.Email)) + "%"
		conds = append(conds, `(lower(coalesce(customer_email, '')) LIKE ? ESCAPE '\' OR user_id IN (SELECT id FROM users WHERE email LIKE ? ESCAPE '\'))`)
		args = append(args, like, like)
	}
	if f.OrderID != 0 {
		conds, args = append(conds, "id = ?"), append(args, f.OrderID)
	}
	return strings.Join(conds, " AND "), args
}

// AdminOrder is an order with the email of the account that placed it ("" for guests).
type AdminOrder struct {
	Order
	AccountEmail string
}

// Email is who to contact about the order: the account's address, else the one given at checkout.
func (o AdminOrder) Email() string {
	if o.AccountEmail != "" {
		return o.AccountEmail
	}
	return o.CustomerEmail
}

// AdminOrders lists the orders matching f, newest first, skipping offset and returning at most
// limit, with their items, and how many match in all.
func (db *DB) AdminOrders(ctx context.Context, f OrderFilter, limit, offset int) ([]AdminOrder, int, error) {
	where, args := f.where()
	var total int
	if err := db.readStmts.QueryRowContext(ctx, "SELECT count(*) FROM orders WHERE "+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count orders: %w", err)
	}
	rows, err := db.readStmts.QueryContext(ctx, "SELECT "+orderColumns+
		", coalesce((SELECT email FROM users WHERE users.id = orders.user_id), '') FROM orders WHERE "+where+
		" ORDER BY id DESC LIMIT ? OFFSET ?", append(args, limit, offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list orders: %w", err)
	}
	var out []AdminOrder
	for rows.Next() {
		var a AdminOrder
		a.Order, err = scanOrder(func(dest ...any) error { return rows.Scan(append(dest, &a.AccountEmail)...) })
		if err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("list orders: %w", err)
		}
		out = append(out, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list orders: %w", err)
	}
	for i := range out {
		if out[i].Items, err = orderItems(ctx, db.readStmts, out[i].ID); err != nil {
			return nil, 0, err
		}
	}
	return out, total, nil
}

// AdminOrder returns one order with its items and its account's email.
func (db *DB) AdminOrder(ctx context.Context, id int64) (AdminOrder, error) {
	orders, _, err := db.AdminOrders(ctx, OrderFilter{OrderID: id}, 1, 0)
	if err != nil {
		return AdminOrder{}, err
	}
	if len(orders) == 0 {
		return AdminOrder{}, ErrNotFound
	}
	return orders[0], nil
}

// AcceptAsPaid settles an order under review as paid, on an admin's word: the payment was
// checked by hand. The note says why and is kept in the audit log; the order's stock is sold
// even if that oversells, since the admin decided so.
func (db *DB) AcceptAsPaid(ctx context.Context, who Actor, id int64, note string) (Order, error) {
	note = strings.TrimSpace(note)
	if note == "" {
		return Order{}, invalid("Write a note saying why the order is accepted.")
	}
	var o Order
	err := db.inTx(ctx, func(tx *writeTx) error {
		var err error
		if o, err = db.orderWhere(ctx, tx, "id = ?", id); err != nil {
			return err
		}
		if o.Status != StatusNeedsReview {
			return invalid(fmt.Sprintf("Order %d is %s: only an order under review can be accepted as paid.", id, o.Status))
		}
		if o.RefundedInFull {
			return invalid(fmt.Sprintf("Order %d was refunded in full: it cannot be accepted as paid.", id))
		}
		if _, err := sellStock(ctx, tx, &o, true); err != nil {
			return err
		}
		now := db.Now()
		if o.PaidAt.IsZero() {
			o.PaidAt = now
		}
		o.Status, o.UpdatedAt = StatusPaid, now
		_, err = tx.ExecContext(ctx, "UPDATE orders SET status = 'paid', paid_at = ?, updated_at = ?, stock_state = ? WHERE id = ?",
			formatTime(o.PaidAt), formatTime(now), o.StockState, id)
		if err != nil {
			return fmt.Errorf("accept order %d: %w", id, err)
		}
		return db.recordAudit(ctx, tx, who, "order.accept", fmt.Sprintf("order %d", id), "was "+o.ReviewReason+"; note: "+note)
	})
	return o, err
}
