package store

import (
	"context"
	"fmt"
)

// lookupOrdersShown bounds how many orders one lookup mail lists.
const lookupOrdersShown = 20

// RequestOrderLookup queues a mail to email listing the orders a guest placed with that
// address (newest first), in one transaction. With no such orders the request is recorded
// as skipped and nothing is sent: the caller cannot tell the cases apart.
func (db *DB) RequestOrderLookup(ctx context.Context, email string) error {
	err := db.inTx(ctx, func(tx *writeTx) error {
		rows, err := tx.QueryContext(ctx, "SELECT "+orderColumns+` FROM orders
			WHERE user_id IS NULL AND customer_email = ? ORDER BY id DESC LIMIT ?`, email, lookupOrdersShown)
		if err != nil {
			return err
		}
		var orders []Order
		for rows.Next() {
			o, err := scanOrder(rows.Scan)
			if err != nil {
				rows.Close()
				return err
			}
			orders = append(orders, o)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i := range orders {
			if orders[i].Items, err = orderItems(ctx, tx, orders[i].ID); err != nil {
				return err
			}
		}
		m := OutboxMail{Kind: MailOrderLookup, To: email, Data: MailData{Orders: orders}}
		if len(orders) == 0 {
			m.Status = MailSkipped
		}
		return db.queueMail(ctx, tx, "order_lookup:"+hashToken(newToken()), m)
	})
	if err != nil {
		return fmt.Errorf("request order lookup: %w", err)
	}
	return nil
}
