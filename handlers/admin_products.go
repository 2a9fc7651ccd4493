package handlers

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"storefront/assets"
	"storefront/components"
	"storefront/store"
)

// maxImageBytes is the largest product image accepted.
const maxImageBytes = 2 << 20

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

func (s *server) handleAdminProducts() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		products, err := s.Store.AllProducts(r.Context())
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		views := make([]components.AdminProduct, len(products))
		for i, p := range products {
			views[i] = components.AdminProduct{Product: productView(p), Active: p.Active, Held: p.Held, Sold: p.Sold,
				Stock: "unlimited", Available: "—"}
			if p.Stock != nil {
				views[i].Stock, views[i].Available = itoa(*p.Stock), itoa(p.Available())
			}
		}
		s.render(w, r, http.StatusOK, components.AdminProductsPage(s.page(r.Context(), s.visitorOf(r), "Products"), views, ""))
	}
}

// productForm is the form filled in with a saved product.
func productForm(p store.Product) components.ProductForm {
	f := components.ProductForm{ID: p.ID, Version: p.Version, Name: p.Name, Slug: p.Slug, Description: p.Description,
		Price: components.Decimal(p.Price), Active: p.Active, ImageURL: productImageURL(productView(p))}
	if p.Stock != nil {
		f.Stock = itoa(*p.Stock)
	}
	return f
}

func productImageURL(p components.Product) string {
	if p.ImageURL != "" {
		return p.ImageURL
	}
	return assets.Path("images/products/" + p.Image)
}

func (s *server) handleAdminProductForm() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "" {
			s.renderProductForm(w, r, http.StatusOK, components.ProductForm{Active: true})
			return
		}
		id, ok := s.pathID(w, r)
		if !ok {
			return
		}
		p, err := s.Store.AnyProduct(r.Context(), id)
		if err != nil {
			s.storeError(w, r, err)
			return
		}
		f := productForm(p)
		if r.URL.Query().Get("saved") != "" {
			f.Notice = "Saved. The shop shows the change now."
		}
		s.renderProductForm(w, r, http.StatusOK, f)
	}
}

func (s *server) renderProductForm(w http.ResponseWriter, r *http.Request, status int, f components.ProductForm) {
	title := "New product"
	if f.ID != 0 {
		title = "Edit " + f.Name
	}
	s.render(w, r, status, components.AdminProductPage(s.page(r.Context(), s.visitorOf(r), title), f))
}

// handleAdminSaveProduct creates a product (POST /admin/products) or saves an edit (POST
// /admin/products/{id}). Every field is checked and the form comes back with a message by each
// wrong one; nothing is written unless all are right. An edit carries the version it was made
// from, so an edit saved meanwhile by someone else is never overwritten unseen.
func (s *server) handleAdminSaveProduct() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var id int64
		if r.PathValue("id") != "" {
			var ok bool
			if id, ok = s.pathID(w, r); !ok {
				return
			}
		}
		f, in := readProductForm(r)
		f.ID = id
		if id != 0 {
			if current, err := s.Store.AnyProduct(r.Context(), id); err == nil {
				f.ImageURL = productImageURL(productView(current))
			} else {
				s.storeError(w, r, err)
				return
			}
		}
		if len(f.Errors) > 0 {
			s.renderProductForm(w, r, http.StatusUnprocessableEntity, f)
			return
		}
		var p store.Product
		var err error
		if id == 0 {
			p, err = s.Store.CreateProduct(r.Context(), s.actor(r), in)
		} else {
			p, err = s.Store.UpdateProduct(r.Context(), s.actor(r), id, f.Version, in)
		}
		var inv *store.InvalidError
		switch {
		case errors.Is(err, store.ErrConflict):
			f.Errors = map[string]string{"slug": "Another product already uses this slug."}
			s.renderProductForm(w, r, http.StatusConflict, f)
			return
		case errors.Is(err, store.ErrStale):
			current, cerr := s.Store.AnyProduct(r.Context(), id)
			if cerr != nil {
				s.storeError(w, r, cerr)
				return
			}
			f.Version = current.Version // saving again is now a deliberate overwrite
			f.Error = staleNotice(current, in.Image != nil)
			s.renderProductForm(w, r, http.StatusConflict, f)
			return
		case errors.As(err, &inv):
			f.Error = inv.Message
			s.renderProductForm(w, r, http.StatusUnprocessableEntity, f)
			return
		case err != nil:
			s.storeError(w, r, err)
			return
		}
		s.Logger.Info("product saved", "product_id", p.ID, "admin_id", s.actor(r).ID)
		redirect(w, r, "/admin/products/"+itoa(p.ID)+"?saved=1")
	}
}

// staleNotice tells an admin that someone else saved the product first, and what it says now.
func staleNotice(current store.Product, hadImage bool) string {
	stock := "unlimited"
	if current.Stock != nil {
		stock = itoa(*current.Stock)
	}
	msg := fmt.Sprintf("Someone else saved this product while you were editing it, so your changes were not saved. "+
		"It now reads: %q, slug %s, price %s, stock %s. Your version is below: save again to replace theirs.",
		current.Name, current.Slug, components.Decimal(current.Price), stock)
	if hadImage {
		msg += " Choose the image again too."
	}
	return msg
}

// readProductForm reads and checks the product form; f.Errors holds a message per wrong field.
func readProductForm(r *http.Request) (components.ProductForm, store.ProductInput) {
	f := components.ProductForm{
		Name:        strings.TrimSpace(r.PostFormValue("name")),
		Slug:        strings.TrimSpace(r.PostFormValue("slug")),
		Description: strings.TrimSpace(r.PostFormValue("description")),
		Price:       strings.TrimSpace(r.PostFormValue("price")),
		Stock:       strings.TrimSpace(r.PostFormValue("stock")),
		Active:      r.PostFormValue("active") != "",
		Errors:      map[string]string{},
	}
	f.Version, _ = strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	in := store.ProductInput{Name: f.Name, Slug: f.Slug, Description: f.Description, Active: f.Active}
	switch n := utf8.RuneCountInString(f.Name); {
	case n == 0:
		f.Errors["name"] = "Enter the product's name."
	case n > 120:
		f.Errors["name"] = "Use at most 120 characters."
	}
	switch {
	case f.Slug == "":
		f.Errors["slug"] = "Enter a slug, such as canvas-tote."
	case len(f.Slug) > 80 || !slugPattern.MatchString(f.Slug):
		f.Errors["slug"] = "Use lower-case letters, digits and single dashes, at most 80 characters."
	}
	if utf8.RuneCountInString(f.Description) > 2000 {
		f.Errors["description"] = "Use at most 2,000 characters."
	}
	if f.Price == "" {
		f.Errors["price"] = "Enter a price, such as 12.50."
	} else if price, err := parseMoney(f.Price); err != nil {
		f.Errors["price"] = err.Error()
	} else {
		in.Price = price
	}
	if f.Stock != "" {
		n, err := strconv.ParseInt(f.Stock, 10, 64)
		if err != nil || n < 0 || n > 1_000_000 {
			f.Errors["stock"] = "Enter a whole number from 0 to 1,000,000, or leave it empty for unlimited."
		} else {
			in.Stock = &n
		}
	}
	img, msg := readImage(r)
	if msg != "" {
		f.Errors["image"] = msg
	}
	in.Image = img
	return f, in
}

// readImage reads the uploaded image, if any, and checks what it is by its content, not by the
// name or type the browser gave it. The second result is a message for the form.
func readImage(r *http.Request) (*store.Image, string) {
	file, header, err := r.FormFile("image")
	if errors.Is(err, http.ErrMissingFile) || errors.Is(err, http.ErrNotMultipart) {
		return nil, ""
	}
	if err != nil {
		return nil, "The image could not be read. Please choose it again."
	}
	defer file.Close()
	if header.Size == 0 && header.Filename == "" {
		return nil, "" // the file field was left empty
	}
	data, err := io.ReadAll(io.LimitReader(file, maxImageBytes+1))
	if err != nil {
		return nil, "The image could not be read. Please choose it again."
	}
	if len(data) > maxImageBytes {
		return nil, "The image is larger than 2 MB. Please choose a smaller one."
	}
	if len(data) == 0 {
		return nil, "The image file is empty."
	}
	switch ct := http.DetectContentType(data); ct {
	case "image/png", "image/jpeg", "image/webp":
		return &store.Image{ContentType: ct, Data: data}, ""
	}
	return nil, "The image must be a PNG, JPEG or WebP picture."
}

// imageIDPattern is an uploaded image's id: the SHA-256 of its content.
var imageIDPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// handleProductImage serves an uploaded product image with the type its content was checked to
// be. Its address names its content, so it may be cached for ever; the policy forbids anything
// active should a browser ever render it as more than a picture.
func (s *server) handleProductImage() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if !imageIDPattern.MatchString(id) {
			s.notFound(w, r)
			return
		}
		img, err := s.Store.ProductImage(r.Context(), id)
		if err != nil {
			s.storeError(w, r, err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", img.ContentType)
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		h.Set("Content-Disposition", "inline")
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		h.Set("Content-Length", strconv.Itoa(len(img.Data)))
		w.Write(img.Data)
	}
}
