package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// StockState is what an order does to the stock of what it bought.
type StockState string

// The stock states of an order.
const (
	StockNone     StockState = "none"     // made before the shop counted stock: nothing held
	StockHeld     StockState = "held"     // its checkout holds the quantities
	StockSold     StockState = "sold"     // paid: the quantities are sold
	StockReleased StockState = "released" // expired, cancelled or failed: the hold is given back
)

// Reasons an order needs review, besides a confirmation that does not match (see mismatch).
const (
	ReasonOversold = "oversold" // paid after its hold was released, and the stock is gone
	ReasonDisputed = "disputed" // the customer disputed the payment with their bank
)

// StockError means a cart asks for more of a product than is free; its message names the
// product and is safe to show.
type StockError struct {
	Product   string
	Available int64
}

func (e *StockError) Error() string {
	if e.Available <= 0 {
		return fmt.Sprintf("%s is sold out. Remove it from your cart to check out the rest.", e.Product)
	}
	return fmt.Sprintf("Only %d of %s left. Lower the quantity in your cart to check out.", e.Available, e.Product)
}

// holdStock holds the items' quantities for a new checkout, or gives a *StockError when a
// product has fewer free than asked (the caller's transaction then rolls back).
func holdStock(ctx context.Context, tx *writeTx, items []OrderItem) error {
	for _, it := range items {
		var name string
		var free sql.NullInt64
		err := tx.QueryRowContext(ctx, "SELECT name, stock - held - sold FROM products WHERE id = ?", it.ProductID).Scan(&name, &free)
		if err != nil {
			return fmt.Errorf("check stock of product %d: %w", it.ProductID, err)
		}
		if free.Valid && free.Int64 < int64(it.Quantity) {
			return &StockError{Product: name, Available: max(free.Int64, 0)}
		}
		if err := addStock(ctx, tx, it, "held", 1); err != nil {
			return err
		}
	}
	return nil
}

// addStock adds sign × the item's quantity to one of a product's counters (held or sold). A
// product whose stock is limited then shows a different "Only N left", live (see WatchStock).
func addStock(ctx context.Context, tx *writeTx, it OrderItem, counter string, sign int) error {
	var limited bool
	err := tx.QueryRowContext(ctx, "UPDATE products SET "+counter+" = "+counter+" + ? WHERE id = ? RETURNING stock IS NOT NULL",
		sign*it.Quantity, it.ProductID).Scan(&limited)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // the product is gone: nothing to count
	}
	if err != nil {
		return fmt.Errorf("count stock of product %d: %w", it.ProductID, err)
	}
	if limited {
		tx.movedStock(it.ProductID)
	}
	return nil
}

// saveStockState records what the order does to stock now (see releaseStock and sellStock).
func saveStockState(ctx context.Context, tx *writeTx, o Order) error {
	if _, err := tx.ExecContext(ctx, "UPDATE orders SET stock_state = ? WHERE id = ?", o.StockState, o.ID); err != nil {
		return fmt.Errorf("record stock of order %d: %w", o.ID, err)
	}
	return nil
}

// releaseStock gives back what an order holds. It sets o.StockState; the caller saves it.
func releaseStock(ctx context.Context, tx *writeTx, o *Order) error {
	if o.StockState != StockHeld {
		return nil
	}
	for _, it := range o.Items {
		if err := addStock(ctx, tx, it, "held", -1); err != nil {
			return err
		}
	}
	o.StockState = StockReleased
	return nil
}

// sellStock turns what an order holds into sold. An order that holds nothing (its hold was
// released) takes its quantities from what is free now; when some product has too few, nothing
// changes and the product is named: the order is oversold. force sells regardless, for an
// admin who accepts an order as paid. It sets o.StockState; the caller saves it.
func sellStock(ctx context.Context, tx *writeTx, o *Order, force bool) (short string, err error) {
	switch o.StockState {
	case StockSold:
		return "", nil
	case StockHeld:
		for _, it := range o.Items {
			_, err := tx.ExecContext(ctx, "UPDATE products SET held = held - ?, sold = sold + ? WHERE id = ?", it.Quantity, it.Quantity, it.ProductID)
			if err != nil {
				return "", fmt.Errorf("count stock of product %d: %w", it.ProductID, err)
			}
		}
		o.StockState = StockSold
		return "", nil
	default:
		for _, it := range o.Items {
			var free sql.NullInt64
			err := tx.QueryRowContext(ctx, "SELECT stock - held - sold FROM products WHERE id = ?", it.ProductID).Scan(&free)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return "", fmt.Errorf("check stock of product %d: %w", it.ProductID, err)
			}
			if !force && free.Valid && free.Int64 < int64(it.Quantity) {
				return fmt.Sprintf("%s: %d wanted, %d left", it.Name, it.Quantity, max(free.Int64, 0)), nil
			}
		}
	}
	for _, it := range o.Items {
		if err := addStock(ctx, tx, it, "sold", 1); err != nil {
			return "", err
		}
	}
	o.StockState = StockSold
	return "", nil
}

// moveStock does what moving the order to status to does to its stock (the caller saves
// o.StockState): paid sells it (or
// reports the product that is short, changing nothing), expired and failed release the hold,
// and a refund of an order that was never paid (one under review) releases it too. A refund of
// a paid order does not restock.
func moveStock(ctx context.Context, tx *writeTx, o *Order, to Status) (short string, err error) {
	switch to {
	case StatusPaid:
		return sellStock(ctx, tx, o, false)
	case StatusExpired, StatusFailed, StatusRefunded:
		return "", releaseStock(ctx, tx, o)
	}
	return "", nil
}

// releaseSuperseded releases the holds of a cart's pending checkouts when the cart changed and a
// new checkout replaces them. Should one of them be paid after all, it takes its stock then, or
// needs review as oversold.
func releaseSuperseded(ctx context.Context, tx *writeTx, cartID int64) error {
	rows, err := tx.QueryContext(ctx, "SELECT id FROM orders WHERE cart_id = ? AND status = 'pending' AND stock_state = 'held'", cartID)
	if err != nil {
		return fmt.Errorf("find superseded checkouts: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("find superseded checkouts: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find superseded checkouts: %w", err)
	}
	for _, id := range ids {
		o := Order{ID: id, StockState: StockHeld}
		if o.Items, err = orderItems(ctx, tx, id); err != nil {
			return err
		}
		if err := releaseStock(ctx, tx, &o); err != nil {
			return err
		}
		if err := saveStockState(ctx, tx, o); err != nil {
			return err
		}
	}
	return nil
}
