package components

import (
	"net/url"
	"strconv"
	"time"
)

// Admin view models: what the operator console shows, already formatted where the form needs text.

// AdminOrder is an order as the console lists and shows it.
type AdminOrder struct {
	Order
	ReviewReason   string
	PaymentIntent  string
	AmountRefunded int64
	RefundedInFull bool
	RefundPending  int64 // asked of the provider, not reported refunded yet
	StockState     string
}

// AdminOrderList is the console's order list with its filter and paging.
type AdminOrderList struct {
	Orders    []AdminOrder
	Status    string
	Email     string
	Page      int
	Pages     int
	Total     int
	Statuses  []string
	StreamURL string // set on the first page: new and changed orders arrive live
}

// PageURL is the list's address for page n, keeping the filter.
func (l AdminOrderList) PageURL(n int) string {
	return listURL("/admin/orders", n, "status", l.Status, "email", l.Email)
}

// listURL is a list's address for page n with its filter, given as name, value pairs (empty
// values left out).
func listURL(path string, n int, filter ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(filter); i += 2 {
		if filter[i+1] != "" {
			q.Set(filter[i], filter[i+1])
		}
	}
	if n > 1 {
		q.Set("page", strconv.Itoa(n))
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// AdminEvent is a stored payment event as the console shows it.
type AdminEvent struct {
	ID         string
	Type       string
	Outcome    string
	OrderID    int64
	Created    time.Time
	ReceivedAt time.Time
	Payload    string // indented JSON
	CanReapply bool
}

// AdminEventList is the event log with its filter and paging.
type AdminEventList struct {
	Events   []AdminEvent
	Type     string
	Outcome  string
	Types    []string
	Outcomes []string
	Page     int
	HasNext  bool
	Notice   string
	Error    string
}

// PageURL is the log's address for page n, keeping the filter.
func (l AdminEventList) PageURL(n int) string {
	return listURL("/admin/events", n, "type", l.Type, "outcome", l.Outcome)
}

// AdminRefund is a refund asked of the payment provider.
type AdminRefund struct {
	Amount      int64
	Status      string
	Error       string
	RequestedBy string
	CreatedAt   time.Time
}

// RefundForm is the order page's refund form: the amount typed and what was wrong with it.
type RefundForm struct {
	Amount string
	Left   int64 // most that may still be refunded
	Error  string
}

// AcceptForm is the review queue's "accept as paid" form.
type AcceptForm struct {
	Note  string
	Error string
}

// AdminOrderDetail is everything the console's order page shows.
type AdminOrderDetail struct {
	Order   AdminOrder
	Events  []AdminEvent
	Refunds []AdminRefund
	Refund  RefundForm
	Accept  AcceptForm
	Notice  string
}

// AdminProduct is a product in the console's list.
type AdminProduct struct {
	Product
	Active    bool
	Stock     string // "unlimited" or a number
	Held      int64
	Sold      int64
	Available string
}

// ProductForm is the create or edit form of a product, with what was typed and what was wrong.
type ProductForm struct {
	ID          int64 // 0 for a new product
	Version     int64
	Name        string
	Slug        string
	Description string
	Price       string
	Stock       string
	Active      bool
	ImageURL    string
	Errors      map[string]string // by field name
	Error       string            // about the whole form, such as an edit made meanwhile
	Notice      string
}

// Action is where the form posts.
func (f ProductForm) Action() string {
	if f.ID == 0 {
		return "/admin/products"
	}
	return "/admin/products/" + itoa(f.ID)
}

// AdminAuditEntry is one admin action.
type AdminAuditEntry struct {
	AdminEmail string
	Action     string
	Target     string
	Detail     string
	CreatedAt  time.Time
}

// Decimal writes minor units as a plain decimal, such as 1250 as "12.50", for form fields.
func Decimal(amount int64) string {
	return strconv.FormatInt(amount/100, 10) + "." + string('0'+byte(amount%100/10)) + string('0'+byte(amount%10))
}
