package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Product is an item in the catalogue. Price is in minor units of Currency.
type Product struct {
	ID          int64
	Slug        string
	Name        string
	Description string
	Price       int64
	Currency    string
	Image       string
	Active      bool
}

const productColumns = "id, slug, name, description, price, currency, image, active"

func scanProduct(scan func(...any) error) (Product, error) {
	var p Product
	err := scan(&p.ID, &p.Slug, &p.Name, &p.Description, &p.Price, &p.Currency, &p.Image, &p.Active)
	return p, err
}

// Products lists the active catalogue in a stable order.
func (db *DB) Products(ctx context.Context) ([]Product, error) {
	rows, err := db.reads.QueryContext(ctx, "SELECT "+productColumns+" FROM products WHERE active ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list products: %w", err)
	}
	defer rows.Close()
	var out []Product
	for rows.Next() {
		p, err := scanProduct(rows.Scan)
		if err != nil {
			return nil, fmt.Errorf("list products: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ProductBySlug finds an active product by its URL slug.
func (db *DB) ProductBySlug(ctx context.Context, slug string) (Product, error) {
	return db.product(ctx, "slug = ?", slug)
}

// ProductByID finds an active product by id.
func (db *DB) ProductByID(ctx context.Context, id int64) (Product, error) {
	return db.product(ctx, "id = ?", id)
}

func (db *DB) product(ctx context.Context, cond string, arg any) (Product, error) {
	p, err := scanProduct(db.reads.QueryRowContext(ctx,
		"SELECT "+productColumns+" FROM products WHERE active AND "+cond, arg).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return Product{}, ErrNotFound
	}
	if err != nil {
		return Product{}, fmt.Errorf("get product: %w", err)
	}
	return p, nil
}
