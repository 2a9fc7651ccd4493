// Package components renders the shop's pages and fragments with templ, from plain view models.
package components

import (
	"net/url"
	"strconv"
	"time"
)

// Page is what every full page needs for its layout: the title, who is logged in, the cart
// badge, and whether payments are simulated.
type Page struct {
	Title       string
	Description string // the meta description; empty: the shop's own
	UserEmail   string // empty for anonymous visitors
	CartCount   int
	Simulated   bool
	Flash       string // a one-time confirmation, such as "You are logged in."
	Admin       bool   // may open the operator console: the nav links to it
	Member      bool   // a member: the header shows the badge
}

// defaultDescription is the meta description of pages that have none of their own.
const defaultDescription = "Storefront: small-batch everyday goods (bags, mugs, notebooks, knitwear) with free returns within 30 days."

func (p Page) description() string {
	if p.Description != "" {
		return p.Description
	}
	return defaultDescription
}

// Product is a catalogue entry as shown to shoppers.
type Product struct {
	ID          int64
	Slug        string
	Name        string
	Description string
	Price       int64
	Currency    string
	Image       string // file name under assets/images/products
	ImageURL    string // an uploaded image's address; overrides Image
	Left        int64  // how many can still be bought; -1 for unlimited
}

// SoldOut reports whether none can be bought.
func (p Product) SoldOut() bool { return p.Left == 0 }

// lowStock is when a product's page and card start saying how many are left.
const lowStock = 10

// FewLeft reports whether so few are left that the shopper should know.
func (p Product) FewLeft() bool { return p.Left > 0 && p.Left <= lowStock }

// AddForm is the add-to-cart form of one product, with the outcome of the last submission.
type AddForm struct {
	ProductID int64
	Quantity  string
	Added     int    // quantity just added, shown as a confirmation
	Error     string // why the last submission was refused
	SoldOut   bool   // nothing left: the button is disabled
}

// CartLine is one line of the cart page.
type CartLine struct {
	Product  Product
	Quantity int
	Error    string // a refused quantity change on this line
}

// Cart is the cart page's content.
type Cart struct {
	Lines []CartLine
	Total int64 // what checkout will charge, after any member discount
	// Subtotal and DiscountPercent are set for a member: the total before the discount, and
	// the discount applied to each unit price.
	Subtotal        int64
	DiscountPercent int
	JoinOffer       int // a logged-in non-member: the discount membership would give, to offer it
	Currency        string
	Count           int
	Guest           bool   // not logged in: checkout works, but there will be no order history
	Error           string // a message about the whole cart, such as a failed checkout
	// Ways to pay the shop offers: Stripe's Checkout page, and the shop's own payment page.
	NoCheckout bool
	PayOnPage  bool
}

// AuthForm is the signup or login form with what was typed and what was wrong.
type AuthForm struct {
	Email         string
	Next          string // where to go after logging in
	EmailError    string
	PasswordError string
	Error         string // a message about the whole form
	AccountExists bool   // sign-up with an email that has an account: offer to log in
}

// OrderItem is a bought line, priced as it was at checkout.
type OrderItem struct {
	Name       string
	Quantity   int
	UnitAmount int64
}

// Order is an order as shown on the orders, detail and success pages.
type Order struct {
	ID        int64
	Status    string
	Total     int64
	Currency  string
	CreatedAt time.Time
	UpdatedAt time.Time // for an expired order, when it expired
	PaidAt    time.Time
	PayBy     time.Time // for a pending order, when its checkout closes (zero: unknown)
	Email     string
	SessionID string
	Items     []OrderItem
	// PaymentIntent is the provider's payment id, once known; Refunded how much of the
	// payment has been refunded so far.
	PaymentIntent string
	Refunded      int64
}

func orderPath(o Order) string { return "/orders/" + itoa(o.ID) }

// Money formats an amount in minor units the shop's default way (en-US), e.g. Money(2400, "usd")
// is "$24.00"; pages for shoppers use MoneyIn, in their own language.
func Money(amount int64, currency string) string { return Locales[0].Format(amount, currency) }

// StatusLabel is the shopper-facing name of an order status.
func StatusLabel(status string) string {
	switch status {
	case "pending":
		return "Awaiting payment"
	case "processing":
		return "Processing"
	case "paid":
		return "Paid"
	case "failed":
		return "Payment failed"
	case "expired":
		return "Expired"
	case "refunded":
		return "Refunded"
	case "needs_review":
		return "Needs review"
	}
	return status
}

func dateTime(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04 UTC") }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func lineTotal(it OrderItem) int64 { return it.UnitAmount * int64(it.Quantity) }

// loginInstead is the login page for the email a sign-up found taken, keeping where to go next.
func loginInstead(f AuthForm) string {
	q := url.Values{}
	if f.Next != "" {
		q.Set("next", f.Next)
	}
	if len(q) == 0 {
		return "/login"
	}
	return "/login?" + q.Encode()
}
