package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// Product is an item in the catalogue. Price is in minor units of Currency.
type Product struct {
	ID          int64
	Slug        string
	Name        string
	Description string
	Price       int64
	Currency    string
	Image       string // a file under assets/images/products, or "upload:<sha256>" (see ProductImage)
	Active      bool
	// Stock is how many the shop has in all, nil for unlimited. Held is what open checkouts
	// hold, Sold what paid orders took (both counted for every product).
	Stock *int64
	Held  int64
	Sold  int64
	// Version moves with every saved edit (see UpdateProduct).
	Version int64
}

// Available is how many can still be bought, or -1 for unlimited stock.
func (p Product) Available() int64 {
	if p.Stock == nil {
		return -1
	}
	return max(*p.Stock-p.Held-p.Sold, 0)
}

const productColumns = "id, slug, name, description, price, currency, image, active, stock, held, sold, version"

func scanProduct(scan func(...any) error) (Product, error) {
	var p Product
	var stock sql.NullInt64
	err := scan(&p.ID, &p.Slug, &p.Name, &p.Description, &p.Price, &p.Currency, &p.Image, &p.Active,
		&stock, &p.Held, &p.Sold, &p.Version)
	if stock.Valid {
		p.Stock = &stock.Int64
	}
	return p, err
}

// catalogueCache keeps the active product list with the catalogue version it was read at.
type catalogueCache struct {
	mu       sync.Mutex
	version  int64
	products []Product
}

// Products lists the active catalogue in a stable order. The list is kept in memory and read
// again only when the catalogue's version (moved by triggers on products) changes. The slice
// is shared: do not modify it.
func (db *DB) Products(ctx context.Context) ([]Product, error) {
	products, _, err := db.Catalogue(ctx)
	return products, err
}

// Catalogue is Products with the catalogue version it reflects: whatever is derived from the
// list (a rendered page, say) stays valid while the version does. The version itself is one of
// the recent reads (recent.go), so that most requests read nothing from the database.
func (db *DB) Catalogue(ctx context.Context) ([]Product, int64, error) {
	version, err := recent(ctx, db, "catalogue version", func(ctx context.Context) (int64, error) {
		var version int64
		err := db.readStmts.QueryRowContext(ctx, "SELECT version FROM catalogue_version WHERE id = 1").Scan(&version)
		return version, err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list products: %w", err)
	}
	c := &db.catalogue
	c.mu.Lock()
	if c.products != nil && c.version == version {
		defer c.mu.Unlock()
		return c.products, version, nil
	}
	c.mu.Unlock()
	products, err := db.readProducts(ctx)
	if err != nil {
		return nil, 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// The list read may be newer than version, never older: keeping it under version at worst
	// reads it once more.
	c.version, c.products = version, products
	return products, version, nil
}

func (db *DB) readProducts(ctx context.Context) ([]Product, error) {
	return db.listProducts(ctx, "WHERE active = 1")
}

// listProducts lists the products a condition (such as "WHERE active = 1", or "" for all) selects, by id.
func (db *DB) listProducts(ctx context.Context, where string) ([]Product, error) {
	rows, err := db.readStmts.QueryContext(ctx, "SELECT "+productColumns+" FROM products "+where+" ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list products: %w", err)
	}
	defer rows.Close()
	out := []Product{}
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
	p, err := scanProduct(db.readStmts.QueryRowContext(ctx,
		"SELECT "+productColumns+" FROM products WHERE active = 1 AND "+cond, arg).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return Product{}, ErrNotFound
	}
	if err != nil {
		return Product{}, fmt.Errorf("get product: %w", err)
	}
	return p, nil
}
