package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// ErrStale means the thing was changed by someone else since the caller read it.
var ErrStale = errors.New("changed since it was read")

// ProductInput is a product as an admin saves it: validated by the caller, checked again here.
type ProductInput struct {
	Slug        string
	Name        string
	Description string
	Price       int64  // minor units
	Stock       *int64 // nil: unlimited
	Active      bool
	// Image is a new image to show, or nil to keep the current one (a new product without
	// one shows a placeholder).
	Image *Image
}

// Image is an uploaded product image; ContentType is image/png, image/jpeg or image/webp.
type Image struct {
	ContentType string
	Data        []byte
}

// placeholderImage is shown for a product created without an image.
const placeholderImage = "placeholder.svg"

// uploadPrefix marks Product.Image as an uploaded image kept in the database.
const uploadPrefix = "upload:"

// UploadedImage returns the id of the uploaded image a product shows, or "" when it shows one of
// the shop's own files.
func (p Product) UploadedImage() string {
	id, ok := strings.CutPrefix(p.Image, uploadPrefix)
	if !ok {
		return ""
	}
	return id
}

// AllProducts lists every product, inactive ones too, by id.
func (db *DB) AllProducts(ctx context.Context) ([]Product, error) {
	return db.listProducts(ctx, "")
}

// AnyProduct finds a product by id, active or not.
func (db *DB) AnyProduct(ctx context.Context, id int64) (Product, error) {
	p, err := scanProduct(db.readStmts.QueryRowContext(ctx, "SELECT "+productColumns+" FROM products WHERE id = ?", id).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return Product{}, ErrNotFound
	}
	if err != nil {
		return Product{}, fmt.Errorf("get product: %w", err)
	}
	return p, nil
}

func (in ProductInput) check() error {
	switch {
	case in.Slug == "" || in.Name == "":
		return invalid("A product needs a name and a slug.")
	case in.Price <= 0:
		return invalid("The price must be more than zero.")
	case in.Stock != nil && *in.Stock < 0:
		return invalid("Stock cannot be negative.")
	}
	return nil
}

// CreateProduct adds a product; a slug already taken gives ErrConflict.
func (db *DB) CreateProduct(ctx context.Context, who Actor, in ProductInput) (Product, error) {
	if err := in.check(); err != nil {
		return Product{}, err
	}
	var id int64
	err := db.inTx(ctx, func(tx *writeTx) error {
		image := placeholderImage
		if in.Image != nil {
			var err error
			if image, err = db.saveImage(ctx, tx, *in.Image); err != nil {
				return err
			}
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO products (slug, name, description, price, currency, image, active, stock, created_at)
			VALUES (?, ?, ?, ?, 'usd', ?, ?, ?, ?) RETURNING id`, in.Slug, in.Name, in.Description, in.Price, image, in.Active, in.Stock, db.now()).Scan(&id)
		if err != nil {
			return slugTaken(err)
		}
		return db.recordAudit(ctx, tx, who, "product.create", fmt.Sprintf("product %d", id), in.summary())
	})
	if err != nil {
		return Product{}, fmt.Errorf("create product: %w", err)
	}
	return db.AnyProduct(ctx, id)
}

// UpdateProduct saves an admin's edit of the product read at version. If anyone saved the
// product since, nothing is written and the answer is ErrStale, so no edit is silently lost;
// a slug taken by another product gives ErrConflict.
func (db *DB) UpdateProduct(ctx context.Context, who Actor, id, version int64, in ProductInput) (Product, error) {
	if err := in.check(); err != nil {
		return Product{}, err
	}
	err := db.inTx(ctx, func(tx *writeTx) error {
		var image any // nil keeps the current image
		if in.Image != nil {
			var err error
			if image, err = db.saveImage(ctx, tx, *in.Image); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE products SET slug = ?, name = ?, description = ?, price = ?, active = ?, stock = ?,
			image = coalesce(?, image), version = version + 1 WHERE id = ? AND version = ?`,
			in.Slug, in.Name, in.Description, in.Price, in.Active, in.Stock, image, id, version)
		if err != nil {
			return slugTaken(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var exists int
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM products WHERE id = ?", id).Scan(&exists); err != nil {
				return err
			}
			if exists == 0 {
				return ErrNotFound
			}
			return ErrStale
		}
		tx.movedStock(id) // its stock, or whether it is for sale at all, may have changed
		return db.recordAudit(ctx, tx, who, "product.update", fmt.Sprintf("product %d", id), in.summary())
	})
	if err != nil {
		return Product{}, fmt.Errorf("update product %d: %w", id, err)
	}
	return db.AnyProduct(ctx, id)
}

func (in ProductInput) summary() string {
	stock := "unlimited"
	if in.Stock != nil {
		stock = fmt.Sprint(*in.Stock)
	}
	s := fmt.Sprintf("%s (%s), price %d, stock %s, active %t", in.Name, in.Slug, in.Price, stock, in.Active)
	if in.Image != nil {
		s += ", new image"
	}
	return s
}

func slugTaken(err error) error {
	if isUniqueViolation(err, "products.slug", "products_slug_key") {
		return ErrConflict
	}
	return err
}

// saveImage keeps an uploaded image (once per content) and returns the Product.Image naming it.
func (db *DB) saveImage(ctx context.Context, tx *writeTx, img Image) (string, error) {
	switch img.ContentType {
	case "image/png", "image/jpeg", "image/webp":
	default:
		return "", invalid("Images must be PNG, JPEG or WebP.")
	}
	sum := sha256.Sum256(img.Data)
	id := hex.EncodeToString(sum[:])
	_, err := tx.ExecContext(ctx, `INSERT INTO product_images (sha256, content_type, data, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (sha256) DO NOTHING`, id, img.ContentType, img.Data, db.now())
	if err != nil {
		return "", fmt.Errorf("save image: %w", err)
	}
	return uploadPrefix + id, nil
}

// ProductImage returns an uploaded image by the id UploadedImage gives.
func (db *DB) ProductImage(ctx context.Context, id string) (Image, error) {
	var img Image
	err := db.readStmts.QueryRowContext(ctx, "SELECT content_type, data FROM product_images WHERE sha256 = ?", id).Scan(&img.ContentType, &img.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return Image{}, ErrNotFound
	}
	if err != nil {
		return Image{}, fmt.Errorf("get image: %w", err)
	}
	return img, nil
}
