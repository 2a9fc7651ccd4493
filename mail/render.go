// Package mail sends the shop's mail: it renders queued messages (templ for HTML, plain text
// beside it), sends them over SMTP or into an in-memory mailbox, and retries with back-off.
package mail

import (
	"bytes"
	"context"
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"storefront/store"
)

// GuestLinkLifetime is how long the order links in a guest's mail work.
const GuestLinkLifetime = 30 * 24 * time.Hour

const guestLinkDays = int(GuestLinkLifetime / (24 * time.Hour))

// Renderer turns a queued message into mail.
type Renderer struct {
	From    string   // the sender, e.g. "Storefront <shop@example.com>"
	BaseURL *url.URL // the shop's public URL, for links
	// GuestOrderURL returns a signed link to a guest's order; nil links guests to the lookup page.
	GuestOrderURL func(orderID int64) string
}

// Render builds the message for m. Its Message-ID and Date come from the queued message, so a
// message sent twice (after a crash between sending and recording it) is the same message.
func (r Renderer) Render(ctx context.Context, m store.OutboxMail) (*Message, error) {
	msg := &Message{ID: r.messageID(m), From: r.From, To: m.To, Date: m.CreatedAt}
	var html templ.Component
	var text string
	d := m.Data
	switch {
	case m.Kind == store.MailReceipt && d.Order != nil:
		msg.Subject = "Your receipt for order #" + itoa(d.Order.ID)
		link := r.orderURL(*d.Order)
		html, text = receiptHTML(msg.Subject, *d.Order, link), receiptText(*d.Order, link)
	case m.Kind == store.MailPaymentFailed && d.Order != nil:
		msg.Subject = "Payment for order #" + itoa(d.Order.ID) + " did not go through"
		link := r.BaseURL.JoinPath("/cart").String()
		html, text = paymentFailedHTML(msg.Subject, *d.Order, link), paymentFailedText(*d.Order, link)
	case m.Kind == store.MailRefunded && d.Order != nil:
		msg.Subject = "Order #" + itoa(d.Order.ID) + " has been refunded"
		link := r.orderURL(*d.Order)
		html, text = refundedHTML(msg.Subject, *d.Order, d.RefundAmount, link), refundedText(*d.Order, d.RefundAmount, link)
	case m.Kind == store.MailPasswordReset && m.Secret != "":
		msg.Subject = "Reset your Storefront password"
		link := r.BaseURL.JoinPath("/password/reset").String() + "?token=" + url.QueryEscape(m.Secret)
		expires := dateTime(d.ExpiresAt)
		html, text = passwordResetHTML(msg.Subject, link, expires), passwordResetText(link, expires)
	case m.Kind == store.MailRenewalFailed && d.Invoice != nil:
		msg.Subject = "Your membership renewal did not go through"
		link := r.BaseURL.JoinPath("/account").String() + "#membership"
		html, text = renewalFailedHTML(msg.Subject, *d.Invoice, link), renewalFailedText(*d.Invoice, link)
	case m.Kind == store.MailOrderLookup:
		msg.Subject = "Your Storefront orders"
		links := make([]string, len(d.Orders))
		for i, o := range d.Orders {
			links[i] = r.orderURL(o)
		}
		html, text = orderLookupHTML(msg.Subject, d.Orders, links), orderLookupText(d.Orders, links)
	default:
		return nil, fmt.Errorf("mail %d: cannot render a %s message from what was queued", m.ID, m.Kind)
	}
	var buf bytes.Buffer
	if err := html.Render(ctx, &buf); err != nil {
		return nil, fmt.Errorf("render %s mail %d: %w", m.Kind, m.ID, err)
	}
	msg.HTML, msg.Text = buf.String(), text
	return msg, nil
}

// orderURL is where a message sends the shopper to see an order: their orders page, or for a
// guest a signed link.
func (r Renderer) orderURL(o store.Order) string {
	if o.UserID != 0 {
		return r.BaseURL.JoinPath("/orders", itoa(o.ID)).String()
	}
	if r.GuestOrderURL != nil {
		return r.GuestOrderURL(o.ID)
	}
	return r.BaseURL.JoinPath("/orders/lookup").String()
}

// messageID is the same for every attempt at one queued message, and unique across databases
// (the creation time is part of it).
func (r Renderer) messageID(m store.OutboxMail) string {
	domain := "localhost"
	if a, err := mail.ParseAddress(r.From); err == nil {
		if at := strings.LastIndexByte(a.Address, '@'); at >= 0 {
			domain = a.Address[at+1:]
		}
	}
	return fmt.Sprintf("storefront.%d.%d@%s", m.ID, m.CreatedAt.UnixNano(), domain)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func dateTime(t time.Time) string { return t.UTC().Format("2 Jan 2006, 15:04 UTC") }
