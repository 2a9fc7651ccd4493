package components

// OrderList is one page of a shopper's order history.
type OrderList struct {
	Orders           []Order
	Page, Pages      int
	PrevURL, NextURL string // links to the neighbouring pages; empty at either end
}
