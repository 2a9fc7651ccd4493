package mail

import (
	"fmt"
	"strings"

	"storefront/components"
	"storefront/store"
)

// The plain-text parts: the same words as the HTML, for clients that show no HTML.

const textFooter = "\n-- \nStorefront. This message was sent automatically; replies are not read.\n"

func receiptText(o store.Order, orderURL string) string {
	var b strings.Builder
	b.WriteString("Thank you for your order. Your payment has been received.\n\n")
	writeItems(&b, o)
	fmt.Fprintf(&b, "\nOrder #%d, paid %s.\nView your order: %s\n", o.ID, dateTime(o.PaidAt), orderURL)
	b.WriteString(textFooter)
	return b.String()
}

func paymentFailedText(o store.Order, retryURL string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "The payment for order #%d (%s) did not go through, so nothing was charged.\n\n", o.ID, components.Money(o.AmountTotal, o.Currency))
	writeItems(&b, o)
	fmt.Fprintf(&b, "\nYour cart still holds these items: you can check out again with another card or payment method.\nTry again: %s\n", retryURL)
	b.WriteString(textFooter)
	return b.String()
}

func refundedText(o store.Order, amount int64, orderURL string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "We have refunded %s of order #%d. It usually reaches your account within 5 to 10 business days, depending on your bank.\n\n",
		components.Money(amount, o.Currency), o.ID)
	writeItems(&b, o)
	fmt.Fprintf(&b, "\nView your order: %s\n", orderURL)
	b.WriteString(textFooter)
	return b.String()
}

func passwordResetText(resetURL, expires string) string {
	return "Someone asked to reset the password of the Storefront account for this address. If it was you, " +
		"choose a new password here (the link works once, until " + expires + "):\n\n" + resetURL + "\n\n" +
		"If you did not ask for this, ignore this message: your password stays as it is.\n" + textFooter
}

func orderLookupText(orders []store.Order, links []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Here are the orders placed as a guest with this address. Each link shows the order's status; the links work for %d days.\n\n", guestLinkDays)
	for i, o := range orders {
		fmt.Fprintf(&b, "Order #%d, %s, %s, %s\n  %s\n", o.ID, dateTime(o.CreatedAt), components.StatusLabel(string(o.Status)),
			components.Money(o.AmountTotal, o.Currency), links[i])
	}
	b.WriteString("\nIf you did not ask for this list, you can ignore this message.\n")
	b.WriteString(textFooter)
	return b.String()
}

// writeItems lists an order's lines and total.
func writeItems(b *strings.Builder, o store.Order) {
	for _, it := range o.Items {
		fmt.Fprintf(b, "  %d × %s  %s\n", it.Quantity, it.Name, components.Money(it.UnitAmount*int64(it.Quantity), o.Currency))
	}
	fmt.Fprintf(b, "  Total  %s\n", components.Money(o.AmountTotal, o.Currency))
}
