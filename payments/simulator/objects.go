package simulator

import (
	"maps"
	"strconv"
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
	ClientSecret             any                  `json:"client_secret"`
	Consent                  any                  `json:"consent"`
	ConsentCollection        any                  `json:"consent_collection"`
	Created                  int64                `json:"created"`
	Currency                 string               `json:"currency"`
	CurrencyConversion       any                  `json:"currency_conversion"`
	CustomFields             []any                `json:"custom_fields"`
	CustomText               customTextJSON       `json:"custom_text"`
	Customer                 any                  `json:"customer"`
	CustomerCreation         string               `json:"customer_creation"`
	CustomerDetails          *customerDetailsJSON `json:"customer_details"`
	CustomerEmail            *string              `json:"customer_email"`
	ExpiresAt                int64                `json:"expires_at"`
	Invoice                  any                  `json:"invoice"`
	InvoiceCreation          enabledJSON          `json:"invoice_creation"`
	LineItems                *listJSON            `json:"line_items,omitempty"`
	Livemode                 bool                 `json:"livemode"`
	Locale                   any                  `json:"locale"`
	Metadata                 map[string]string    `json:"metadata"`
	Mode                     string               `json:"mode"`
	PaymentIntent            any                  `json:"payment_intent"`
	PaymentLink              any                  `json:"payment_link"`
	PaymentMethodCollection  string               `json:"payment_method_collection"`
	PaymentMethodOptions     map[string]any       `json:"payment_method_options"`
	PaymentMethodTypes       []string             `json:"payment_method_types"`
	PaymentStatus            string               `json:"payment_status"`
	PhoneNumberCollection    enabledJSON          `json:"phone_number_collection"`
	RecoveredFrom            any                  `json:"recovered_from"`
	SetupIntent              any                  `json:"setup_intent"`
	ShippingAddressColl      any                  `json:"shipping_address_collection"`
	ShippingCost             any                  `json:"shipping_cost"`
	ShippingDetails          any                  `json:"shipping_details"`
	ShippingOptions          []any                `json:"shipping_options"`
	Status                   string               `json:"status"`
	SubmitType               any                  `json:"submit_type"`
	Subscription             any                  `json:"subscription"`
	SuccessURL               string               `json:"success_url"`
	TotalDetails             totalDetailsJSON     `json:"total_details"`
	UIMode                   string               `json:"ui_mode"`
	URL                      *string              `json:"url"`
}

// customTextJSON is Checkout's custom_text; the simulator shows none, so every entry is null.
type customTextJSON struct {
	AfterSubmit              any `json:"after_submit"`
	ShippingAddress          any `json:"shipping_address"`
	Submit                   any `json:"submit"`
	TermsOfServiceAcceptance any `json:"terms_of_service_acceptance"`
}

// enabledJSON is the {"enabled": false} shape of features the simulator does not offer.
type enabledJSON struct {
	Enabled bool `json:"enabled"`
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

// priceJSON is the ad-hoc price Checkout makes from price_data; it is inactive, as Stripe's are.
type priceJSON struct {
	ID                string            `json:"id"`
	Object            string            `json:"object"`
	Active            bool              `json:"active"`
	BillingScheme     string            `json:"billing_scheme"`
	Created           int64             `json:"created"`
	Currency          string            `json:"currency"`
	CustomUnitAmount  any               `json:"custom_unit_amount"`
	Livemode          bool              `json:"livemode"`
	LookupKey         any               `json:"lookup_key"`
	Metadata          map[string]string `json:"metadata"`
	Nickname          any               `json:"nickname"`
	Product           string            `json:"product"`
	Recurring         any               `json:"recurring"`
	TaxBehavior       string            `json:"tax_behavior"`
	TiersMode         any               `json:"tiers_mode"`
	TransformQuantity any               `json:"transform_quantity"`
	Type              string            `json:"type"`
	UnitAmount        int64             `json:"unit_amount"`
	UnitAmountDecimal string            `json:"unit_amount_decimal"`
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
		ID:                      sess.ID,
		Object:                  "checkout.session",
		AmountSubtotal:          sess.AmountSubtotal,
		AmountTotal:             sess.AmountTotal,
		CancelURL:               sess.CancelURL,
		ClientReferenceID:       sess.ClientReferenceID,
		Created:                 sess.Created,
		Currency:                sess.Currency,
		CustomerCreation:        "if_required",
		CustomerEmail:           sess.CustomerEmail,
		ExpiresAt:               sess.ExpiresAt.Unix(),
		Metadata:                maps.Clone(sess.Metadata),
		Mode:                    "payment",
		CustomFields:            []any{},
		InvoiceCreation:         enabledJSON{},
		PaymentMethodCollection: "if_required",
		PaymentMethodOptions:    map[string]any{},
		PaymentMethodTypes:      paymentMethodTypes(sess.Currency),
		ShippingOptions:         []any{},
		PaymentStatus:           sess.PaymentStatus,
		Status:                  sess.Status,
		SuccessURL:              sess.SuccessURL,
		UIMode:                  "hosted",
	}
	if out.Metadata == nil {
		out.Metadata = map[string]string{}
	}
	if b := sess.Billing; b != nil {
		out.Mode = modeSubscription
		out.Customer, out.Subscription = optional(b.Customer), optional(b.Subscription)
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
			out.PaymentIntent = paymentIntentObject(sess)
		} else {
			out.PaymentIntent = sess.PaymentIntent
		}
	}
	if exp.lineItems {
		// Expanded, line_items is the list's first page, as GET …/line_items would give it.
		l, _ := lineItemsPage(sess, listQuery{limit: defaultListLimit})
		out.LineItems = &l
	}
	return out
}

// lineItemsPage is one page of a session's line items, in the order they were given.
func lineItemsPage(sess *session, q listQuery) (listJSON, *stripeError) {
	ids := make([]string, len(sess.LineItems))
	for i, li := range sess.LineItems {
		ids[i] = li.ID
	}
	from, to, more, err := pageBounds(ids, q, "line_item")
	if err != nil {
		return listJSON{}, err
	}
	data := make([]any, 0, to-from)
	for _, li := range sess.LineItems[from:to] {
		data = append(data, lineItemObject(sess, li))
	}
	return listJSON{Object: "list", Data: data, HasMore: more, URL: "/v1/checkout/sessions/" + sess.ID + "/line_items"}, nil
}

func lineItemObject(sess *session, li lineItem) lineItemJSON {
	suffix := li.ID[len("li_"):]
	return lineItemJSON{
		ID:             li.ID,
		Object:         "item",
		AmountSubtotal: li.amount(),
		AmountTotal:    li.amount(),
		Currency:       li.Currency,
		Description:    li.Name,
		Price: priceJSON{
			ID: "price_" + suffix, Object: "price", BillingScheme: "per_unit", Created: sess.Created,
			Currency: li.Currency, Metadata: map[string]string{}, Product: "prod_" + suffix,
			TaxBehavior: "unspecified", Type: "one_time", UnitAmount: li.UnitAmount,
			UnitAmountDecimal: strconv.FormatInt(li.UnitAmount, 10),
		},
		Quantity: li.Quantity,
	}
}
