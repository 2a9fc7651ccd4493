package simulator

import (
	"maps"
	"strconv"
)

// The billing objects as Stripe's API version 2023-10-16 returns them, trimmed to what a shop
// reads; fields the simulator never sets are null, as on Stripe.

type customerJSON struct {
	ID              string            `json:"id"`
	Object          string            `json:"object"`
	Created         int64             `json:"created"`
	Email           *string           `json:"email"`
	Description     any               `json:"description"`
	InvoiceSettings map[string]any    `json:"invoice_settings"`
	Livemode        bool              `json:"livemode"`
	Metadata        map[string]string `json:"metadata"`
	Name            any               `json:"name"`
}

func customerObject(c *customer) customerJSON {
	var pm any
	if c.CardNumber != "" {
		pm = cardPaymentMethodID(c)
	}
	return customerJSON{ID: c.ID, Object: "customer", Created: c.Created, Email: optional(c.Email),
		InvoiceSettings: map[string]any{"default_payment_method": pm, "custom_fields": nil, "footer": nil, "rendering_options": nil},
		Metadata:        nonNil(c.Metadata)}
}

// cardPaymentMethodID names the customer's card as a PaymentMethod, stable for one card.
func cardPaymentMethodID(c *customer) string {
	return derivedID("pm_", c.ID+c.CardNumber+c.CardExp, 24)
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return maps.Clone(m)
}

type recurringJSON struct {
	AggregateUsage  any    `json:"aggregate_usage"`
	Interval        string `json:"interval"`
	IntervalCount   int    `json:"interval_count"`
	TrialPeriodDays any    `json:"trial_period_days"`
	UsageType       string `json:"usage_type"`
}

func priceObject(p *price) priceJSON {
	out := priceJSON{ID: p.ID, Object: "price", Active: p.Active, BillingScheme: "per_unit", Created: p.Created,
		Currency: p.Currency, Metadata: nonNil(p.Metadata), Product: p.Product, TaxBehavior: "unspecified",
		Type: "one_time", UnitAmount: p.UnitAmount, UnitAmountDecimal: strconv.FormatInt(p.UnitAmount, 10)}
	if p.LookupKey != "" {
		out.LookupKey = p.LookupKey
	}
	if p.Interval != "" {
		out.Type = "recurring"
		out.Recurring = recurringJSON{Interval: p.Interval, IntervalCount: 1, UsageType: "licensed"}
	}
	return out
}

type subscriptionJSON struct {
	ID                   string            `json:"id"`
	Object               string            `json:"object"`
	BillingCycleAnchor   int64             `json:"billing_cycle_anchor"`
	CancelAt             any               `json:"cancel_at"`
	CancelAtPeriodEnd    bool              `json:"cancel_at_period_end"`
	CanceledAt           any               `json:"canceled_at"`
	CollectionMethod     string            `json:"collection_method"`
	Created              int64             `json:"created"`
	Currency             string            `json:"currency"`
	CurrentPeriodEnd     int64             `json:"current_period_end"`
	CurrentPeriodStart   int64             `json:"current_period_start"`
	Customer             string            `json:"customer"`
	DefaultPaymentMethod any               `json:"default_payment_method"`
	EndedAt              any               `json:"ended_at"`
	Items                listJSON          `json:"items"`
	LatestInvoice        any               `json:"latest_invoice"`
	Livemode             bool              `json:"livemode"`
	Metadata             map[string]string `json:"metadata"`
	StartDate            int64             `json:"start_date"`
	Status               string            `json:"status"`
}

type subscriptionItemJSON struct {
	ID           string    `json:"id"`
	Object       string    `json:"object"`
	Created      int64     `json:"created"`
	Metadata     any       `json:"metadata"`
	Price        priceJSON `json:"price"`
	Quantity     int64     `json:"quantity"`
	Subscription string    `json:"subscription"`
}

func subscriptionObject(sub *subscription, p *price) subscriptionJSON {
	out := subscriptionJSON{ID: sub.ID, Object: "subscription", BillingCycleAnchor: sub.Created, CancelAtPeriodEnd: sub.CancelAtPeriodEnd,
		CollectionMethod: "charge_automatically", Created: sub.Created, Currency: p.Currency, CurrentPeriodEnd: sub.PeriodEnd,
		CurrentPeriodStart: sub.PeriodStart, Customer: sub.Customer, Metadata: nonNil(sub.Metadata), StartDate: sub.Created,
		Status: sub.Status,
		Items: listJSON{Object: "list", URL: "/v1/subscription_items?subscription=" + sub.ID, Data: []any{subscriptionItemJSON{
			ID: sub.ItemID, Object: "subscription_item", Created: sub.Created, Metadata: map[string]string{}, Price: priceObject(p),
			Quantity: 1, Subscription: sub.ID}}},
	}
	if sub.CancelAtPeriodEnd {
		out.CancelAt = sub.PeriodEnd
	}
	if sub.CanceledAt != 0 {
		out.CanceledAt = sub.CanceledAt
	}
	if sub.Status == subCanceled {
		out.EndedAt = sub.CanceledAt
	}
	if sub.LatestInvoice != "" {
		out.LatestInvoice = sub.LatestInvoice
	}
	return out
}

type invoiceJSON struct {
	ID                 string            `json:"id"`
	Object             string            `json:"object"`
	AmountDue          int64             `json:"amount_due"`
	AmountPaid         int64             `json:"amount_paid"`
	AmountRemaining    int64             `json:"amount_remaining"`
	AttemptCount       int64             `json:"attempt_count"`
	Attempted          bool              `json:"attempted"`
	BillingReason      string            `json:"billing_reason"`
	CollectionMethod   string            `json:"collection_method"`
	Created            int64             `json:"created"`
	Currency           string            `json:"currency"`
	Customer           string            `json:"customer"`
	HostedInvoiceURL   any               `json:"hosted_invoice_url"`
	Lines              listJSON          `json:"lines"`
	Livemode           bool              `json:"livemode"`
	Metadata           map[string]string `json:"metadata"`
	NextPaymentAttempt any               `json:"next_payment_attempt"`
	Paid               bool              `json:"paid"`
	PeriodEnd          int64             `json:"period_end"`
	PeriodStart        int64             `json:"period_start"`
	Status             string            `json:"status"`
	Subscription       string            `json:"subscription"`
	Total              int64             `json:"total"`
}

type invoiceLineJSON struct {
	ID       string         `json:"id"`
	Object   string         `json:"object"`
	Amount   int64          `json:"amount"`
	Currency string         `json:"currency"`
	Period   map[string]any `json:"period"`
	Price    priceJSON      `json:"price"`
	Quantity int64          `json:"quantity"`
	Type     string         `json:"type"`
}

func invoiceObject(in *invoice, p *price) invoiceJSON {
	out := invoiceJSON{ID: in.ID, Object: "invoice", AmountDue: in.Amount, AmountRemaining: in.Amount, AttemptCount: in.AttemptCount,
		Attempted: in.AttemptCount > 0, BillingReason: in.BillingReason, CollectionMethod: "charge_automatically", Created: in.Created,
		Currency: in.Currency, Customer: in.Customer, Metadata: map[string]string{}, Paid: in.Status == invoicePaid,
		// An invoice's own period is the one before its line's, as on Stripe: its line says what it pays for.
		PeriodStart: in.PeriodStart, PeriodEnd: in.PeriodStart, Status: in.Status, Subscription: in.Subscription, Total: in.Amount,
		Lines: listJSON{Object: "list", URL: "/v1/invoices/" + in.ID + "/lines", Data: []any{invoiceLineJSON{
			ID: derivedID("il_", in.ID, 24), Object: "line_item", Amount: in.Amount, Currency: in.Currency,
			Period: map[string]any{"start": in.PeriodStart, "end": in.PeriodEnd}, Price: priceObject(p), Quantity: 1, Type: "subscription"}}},
	}
	if in.Status == invoicePaid {
		out.AmountPaid, out.AmountRemaining = in.Amount, 0
	}
	return out
}

type portalSessionJSON struct {
	ID            string `json:"id"`
	Object        string `json:"object"`
	Configuration string `json:"configuration"`
	Created       int64  `json:"created"`
	Customer      string `json:"customer"`
	Flow          any    `json:"flow"`
	Livemode      bool   `json:"livemode"`
	Locale        any    `json:"locale"`
	OnBehalfOf    any    `json:"on_behalf_of"`
	ReturnURL     string `json:"return_url"`
	URL           string `json:"url"`
}
