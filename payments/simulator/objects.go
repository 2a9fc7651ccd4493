package simulator

import (
	"encoding/json"
	"maps"
)

// The structs below are the JSON Stripe's API version 2023-10-16 returns, trimmed to
// what a storefront can reasonably read; fields we never set are sent as null like Stripe does.

type sessionJSON struct {
	ID                       string               `json:"id"`
	Object                   string               `json:"object"`
	AfterExpiration          any                  `json:"after_expiration"`
	AllowPromotionCodes      any                  `json:"allow_promotion_codes"`
	AmountSubtotal           int64                `json:"amount_subtotal"`
	AmountTotal              int64                `json:"amount_total"`
	AutomaticTax             automaticTaxJSON     `json:"automatic_tax"`
	BillingAddressCollection any                  `json:"billing_address_collection"`
	CancelURL                *string              `json:"cancel_url"`
	ClientReferenceID        *string              `json:"client_reference_id"`
	Created                  int64                `json:"created"`
	Currency                 string               `json:"currency"`
	Customer                 any                  `json:"customer"`
	CustomerCreation         string               `json:"customer_creation"`
	CustomerDetails          *customerDetailsJSON `json:"customer_details"`
	CustomerEmail            *string              `json:"customer_email"`
	ExpiresAt                int64                `json:"expires_at"`
	Invoice                  any                  `json:"invoice"`
	LineItems                *listJSON            `json:"line_items,omitempty"`
	Livemode                 bool                 `json:"livemode"`
	Locale                   any                  `json:"locale"`
	Metadata                 map[string]string    `json:"metadata"`
	Mode                     string               `json:"mode"`
	PaymentIntent            any                  `json:"payment_intent"`
	PaymentMethodTypes       []string             `json:"payment_method_types"`
	PaymentStatus            string               `json:"payment_status"`
	RecoveredFrom            any                  `json:"recovered_from"`
	Status                   string               `json:"status"`
	SubmitType               any                  `json:"submit_type"`
	SuccessURL               string               `json:"success_url"`
	TotalDetails             totalDetailsJSON     `json:"total_details"`
	UIMode                   string               `json:"ui_mode"`
	URL                      *string              `json:"url"`
}

type automaticTaxJSON struct {
	Enabled bool `json:"enabled"`
	Status  any  `json:"status"`
}

type customerDetailsJSON struct {
	Address   any    `json:"address"`
	Email     string `json:"email"`
	Name      any    `json:"name"`
	Phone     any    `json:"phone"`
	TaxExempt string `json:"tax_exempt"`
	TaxIDs    []any  `json:"tax_ids"`
}

type totalDetailsJSON struct {
	AmountDiscount int64 `json:"amount_discount"`
	AmountShipping int64 `json:"amount_shipping"`
	AmountTax      int64 `json:"amount_tax"`
}

type listJSON struct {
	Object  string `json:"object"`
	Data    []any  `json:"data"`
	HasMore bool   `json:"has_more"`
	URL     string `json:"url"`
}

type lineItemJSON struct {
	ID             string    `json:"id"`
	Object         string    `json:"object"`
	AmountDiscount int64     `json:"amount_discount"`
	AmountSubtotal int64     `json:"amount_subtotal"`
	AmountTax      int64     `json:"amount_tax"`
	AmountTotal    int64     `json:"amount_total"`
	Currency       string    `json:"currency"`
	Description    string    `json:"description"`
	Price          priceJSON `json:"price"`
	Quantity       int64     `json:"quantity"`
}

type priceJSON struct {
	ID         string `json:"id"`
	Object     string `json:"object"`
	Active     bool   `json:"active"`
	Currency   string `json:"currency"`
	Livemode   bool   `json:"livemode"`
	Type       string `json:"type"`
	UnitAmount int64  `json:"unit_amount"`
}

type paymentIntentJSON struct {
	ID                 string            `json:"id"`
	Object             string            `json:"object"`
	Amount             int64             `json:"amount"`
	AmountReceived     int64             `json:"amount_received"`
	Created            int64             `json:"created"`
	Currency           string            `json:"currency"`
	LastPaymentError   *paymentErrorJSON `json:"last_payment_error"`
	LatestCharge       *string           `json:"latest_charge"`
	Livemode           bool              `json:"livemode"`
	Metadata           map[string]string `json:"metadata"`
	PaymentMethodTypes []string          `json:"payment_method_types"`
	ReceiptEmail       *string           `json:"receipt_email"`
	Status             string            `json:"status"`
}

type paymentErrorJSON struct {
	Type        string `json:"type"`
	Code        string `json:"code"`
	DeclineCode string `json:"decline_code,omitempty"`
	Message     string `json:"message"`
}

type chargeJSON struct {
	ID                   string             `json:"id"`
	Object               string             `json:"object"`
	Amount               int64              `json:"amount"`
	AmountCaptured       int64              `json:"amount_captured"`
	AmountRefunded       int64              `json:"amount_refunded"`
	BalanceTransaction   *string            `json:"balance_transaction"`
	BillingDetails       billingDetailsJSON `json:"billing_details"`
	Captured             bool               `json:"captured"`
	Created              int64              `json:"created"`
	Currency             string             `json:"currency"`
	Disputed             bool               `json:"disputed"`
	FailureCode          *string            `json:"failure_code"`
	FailureMessage       *string            `json:"failure_message"`
	Livemode             bool               `json:"livemode"`
	Metadata             map[string]string  `json:"metadata"`
	Paid                 bool               `json:"paid"`
	PaymentIntent        string             `json:"payment_intent"`
	PaymentMethodDetails json.RawMessage    `json:"payment_method_details"`
	Refunded             bool               `json:"refunded"`
	Status               string             `json:"status"`
}

type billingDetailsJSON struct {
	Address any    `json:"address"`
	Email   string `json:"email"`
	Name    any    `json:"name"`
	Phone   any    `json:"phone"`
}

type refundJSON struct {
	ID            string            `json:"id"`
	Object        string            `json:"object"`
	Amount        int64             `json:"amount"`
	Charge        string            `json:"charge"`
	Created       int64             `json:"created"`
	Currency      string            `json:"currency"`
	Metadata      map[string]string `json:"metadata"`
	PaymentIntent string            `json:"payment_intent"`
	Reason        *string           `json:"reason"`
	Status        string            `json:"status"`
}

// expansion says which expandable fields a request asked for.
type expansion struct {
	lineItems     bool
	paymentIntent bool
}

func parseExpand(values []string) expansion {
	var e expansion
	for _, v := range values {
		switch v {
		case "line_items":
			e.lineItems = true
		case "payment_intent":
			e.paymentIntent = true
		}
	}
	return e
}

// sessionObject renders a session; the url is only present while the session can still be paid, as on Stripe.
func (s *Simulator) sessionObject(sess *session, exp expansion) sessionJSON {
	out := sessionJSON{
		ID:                 sess.ID,
		Object:             "checkout.session",
		AmountSubtotal:     sess.AmountSubtotal,
		AmountTotal:        sess.AmountTotal,
		CancelURL:          sess.CancelURL,
		ClientReferenceID:  sess.ClientReferenceID,
		Created:            sess.Created,
		Currency:           sess.Currency,
		CustomerCreation:   "if_required",
		CustomerEmail:      sess.CustomerEmail,
		ExpiresAt:          sess.ExpiresAt.Unix(),
		Metadata:           maps.Clone(sess.Metadata),
		Mode:               "payment",
		PaymentMethodTypes: []string{"card", "us_bank_account"},
		PaymentStatus:      sess.PaymentStatus,
		Status:             sess.Status,
		SuccessURL:         sess.SuccessURL,
		UIMode:             "hosted",
	}
	if out.Metadata == nil {
		out.Metadata = map[string]string{}
	}
	if sess.Status == statusOpen {
		u := s.payURL(sess.ID)
		out.URL = &u
	}
	if sess.Status == statusComplete {
		out.CustomerDetails = &customerDetailsJSON{Email: sess.PaidEmail, TaxExempt: "none", TaxIDs: []any{}}
	}
	if sess.PaymentIntent != "" {
		if exp.paymentIntent {
			out.PaymentIntent = paymentIntentObject(sess, nil)
		} else {
			out.PaymentIntent = sess.PaymentIntent
		}
	}
	if exp.lineItems {
		l := lineItemsList(sess)
		out.LineItems = &l
	}
	return out
}

func lineItemsList(sess *session) listJSON {
	data := make([]any, 0, len(sess.LineItems))
	for _, li := range sess.LineItems {
		data = append(data, lineItemJSON{
			ID:             li.ID,
			Object:         "item",
			AmountSubtotal: li.amount(),
			AmountTotal:    li.amount(),
			Currency:       li.Currency,
			Description:    li.Name,
			Price: priceJSON{
				ID: "price_" + li.ID[len("li_"):], Object: "price", Currency: li.Currency,
				Type: "one_time", UnitAmount: li.UnitAmount,
			},
			Quantity: li.Quantity,
		})
	}
	return listJSON{Object: "list", Data: data, URL: "/v1/checkout/sessions/" + sess.ID + "/line_items"}
}

func paymentIntentObject(sess *session, lastErr *paymentErrorJSON) paymentIntentJSON {
	out := paymentIntentJSON{
		ID:                 sess.PaymentIntent,
		Object:             "payment_intent",
		Amount:             sess.AmountTotal,
		Created:            sess.PICreated,
		Currency:           sess.Currency,
		LastPaymentError:   lastErr,
		Metadata:           map[string]string{},
		PaymentMethodTypes: []string{pmType(sess.PaymentMethod)},
		Status:             sess.PIStatus,
	}
	if sess.PIStatus == piSucceeded {
		out.AmountReceived = sess.AmountTotal
	}
	if sess.ChargeID != "" {
		c := sess.ChargeID
		out.LatestCharge = &c
	}
	if sess.PaidEmail != "" {
		e := sess.PaidEmail
		out.ReceiptEmail = &e
	}
	return out
}

// pmType names the Stripe payment method type our two choices stand for.
func pmType(method string) string {
	if method == methodBankTransfer {
		return "us_bank_account"
	}
	return "card"
}

// chargeObject renders the session's successful charge.
func chargeObject(sess *session) chargeJSON {
	c := chargeJSON{
		ID:                   sess.ChargeID,
		Object:               "charge",
		Amount:               sess.AmountTotal,
		AmountCaptured:       sess.AmountTotal,
		AmountRefunded:       sess.AmountRefunded,
		BillingDetails:       billingDetailsJSON{Email: sess.PaidEmail},
		Captured:             true,
		Created:              sess.ChargeCreated,
		Currency:             sess.Currency,
		Metadata:             map[string]string{},
		Paid:                 true,
		PaymentIntent:        sess.PaymentIntent,
		PaymentMethodDetails: sess.PMDetails,
		Refunded:             sess.AmountRefunded >= sess.AmountTotal,
		Status:               "succeeded",
	}
	if sess.BalanceTxn != "" {
		b := sess.BalanceTxn
		c.BalanceTransaction = &b
	}
	if len(c.PaymentMethodDetails) == 0 {
		c.PaymentMethodDetails = json.RawMessage("null")
	}
	return c
}
