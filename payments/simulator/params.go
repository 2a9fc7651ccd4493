package simulator

import (
	"maps"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Limits Stripe enforces on Checkout Sessions.
const (
	maxLineItems      = 100
	maxQuantity       = 999_999
	maxAmount         = 99_999_999 // in minor units: $999,999.99
	maxMetadataKeys   = 50
	maxMetadataKeyLen = 40
	maxMetadataValLen = 500
	maxClientRefLen   = 200
	maxURLLen         = 5000
	minExpiresIn      = 30 * time.Minute
	maxExpiresIn      = 24 * time.Hour
)

// checkoutSessionParams lists every top-level parameter Stripe's create-session endpoint knows.
// Known but unsimulated ones are accepted and ignored rather than refused, so a storefront
// that also runs against real Stripe is not broken by the simulator.
var checkoutSessionParams = map[string]bool{
	"after_expiration": true, "allow_promotion_codes": true, "automatic_tax": true,
	"billing_address_collection": true, "cancel_url": true, "client_reference_id": true,
	"consent_collection": true, "currency": true, "customer": true, "customer_creation": true,
	"customer_email": true, "customer_update": true, "custom_fields": true, "custom_text": true,
	"discounts": true, "expand": true, "expires_at": true, "invoice_creation": true,
	"line_items": true, "locale": true, "metadata": true, "mode": true, "payment_intent_data": true,
	"payment_method_collection": true, "payment_method_configuration": true,
	"payment_method_options": true, "payment_method_types": true, "phone_number_collection": true,
	"redirect_on_completion": true, "return_url": true, "setup_intent_data": true,
	"shipping_address_collection": true, "shipping_options": true, "submit_type": true,
	"subscription_data": true, "success_url": true, "tax_id_collection": true, "ui_mode": true,
}

// createParams is a validated POST /v1/checkout/sessions.
type createParams struct {
	successURL        string
	cancelURL         *string
	clientReferenceID *string
	customerEmail     *string
	metadata          map[string]string
	expiresAt         time.Time
	lineItems         []lineItem
	currency          string
	expand            []string
	// Subscription mode (billing.go): the customer, and subscription_data[metadata].
	mode                 string
	customer             string
	subscriptionMetadata map[string]string
}

// splitKey splits "line_items[0][price_data][currency]" into its parts.
func splitKey(key string) ([]string, bool) {
	i := strings.IndexByte(key, '[')
	if i < 0 {
		return []string{key}, key != ""
	}
	parts := []string{key[:i]}
	rest := key[i:]
	for rest != "" {
		if rest[0] != '[' {
			return nil, false
		}
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			return nil, false
		}
		parts = append(parts, rest[1:j])
		rest = rest[j+1:]
	}
	return parts, parts[0] != ""
}

// rawItem gathers one line item's parameters before validation.
type rawItem struct {
	fields map[string]string // keyed by the path after line_items[N], e.g. "price_data][currency"
}

// rawCreate holds the scalar parameters of a create request as they were sent, before validation.
type rawCreate struct {
	mode, successURL, cancelURL, clientReferenceID, customerEmail string
	expiresAt, currency, uiMode, customer                         string
}

// scalarCreateParams maps each scalar parameter the simulator reads to where it is kept.
var scalarCreateParams = map[string]func(*rawCreate) *string{
	"mode":                func(r *rawCreate) *string { return &r.mode },
	"success_url":         func(r *rawCreate) *string { return &r.successURL },
	"cancel_url":          func(r *rawCreate) *string { return &r.cancelURL },
	"client_reference_id": func(r *rawCreate) *string { return &r.clientReferenceID },
	"customer_email":      func(r *rawCreate) *string { return &r.customerEmail },
	"expires_at":          func(r *rawCreate) *string { return &r.expiresAt },
	"currency":            func(r *rawCreate) *string { return &r.currency },
	"ui_mode":             func(r *rawCreate) *string { return &r.uiMode },
	"customer":            func(r *rawCreate) *string { return &r.customer },
}

// parseCreateParams validates the form stripe-go encodes from stripe.CheckoutSessionParams.
func parseCreateParams(form url.Values, now time.Time, ttl time.Duration) (*createParams, *stripeError) {
	p := &createParams{metadata: map[string]string{}, subscriptionMetadata: map[string]string{}}
	var raw rawCreate
	items := map[int]*rawItem{}
	for _, key := range slices.Sorted(maps.Keys(form)) {
		if err := readCreateParam(p, &raw, items, key, form[key]); err != nil {
			return nil, err
		}
	}
	if err := raw.validate(p, now, ttl); err != nil {
		return nil, err
	}
	return p, parseLineItems(p, items)
}

// readCreateParam files one form key into p, raw or items; known but unsimulated parameters are ignored.
func readCreateParam(p *createParams, raw *rawCreate, items map[int]*rawItem, key string, vs []string) *stripeError {
	v := ""
	if len(vs) > 0 {
		v = vs[0]
	}
	parts, ok := splitKey(key)
	if !ok {
		return invalidParam(key, "Invalid parameter name: %s", key)
	}
	name := parts[0]
	if !checkoutSessionParams[name] {
		return unknownParam(key)
	}
	if field, ok := scalarCreateParams[name]; ok {
		if len(parts) != 1 {
			return unknownParam(key)
		}
		*field(raw) = v
		return nil
	}
	switch name {
	case "metadata":
		switch {
		case len(parts) == 1 && v == "":
			// "metadata=" clears metadata on Stripe; on creation it means none.
		case len(parts) == 2 && parts[1] != "":
			if v != "" {
				p.metadata[parts[1]] = v
			}
		default:
			return invalidParam(key, "Invalid metadata: use metadata[key]=value")
		}
	case "subscription_data":
		// Only metadata is simulated; the rest of subscription_data is accepted and ignored.
		if len(parts) == 3 && parts[1] == "metadata" && parts[2] != "" && v != "" {
			p.subscriptionMetadata[parts[2]] = v
		}
	case "expand":
		if len(parts) != 2 {
			return invalidParam(key, "Invalid array: use expand[]=field")
		}
		p.expand = append(p.expand, vs...)
	case "line_items":
		if len(parts) < 3 {
			return invalidParam("line_items", "Invalid array")
		}
		idx, err := strconv.Atoi(parts[1])
		if err == nil && idx >= maxLineItems {
			return invalidParam("line_items", "You may only specify up to %d line items.", maxLineItems)
		}
		if err != nil || idx < 0 {
			return invalidParam("line_items", "Invalid array")
		}
		it := items[idx]
		if it == nil {
			it = &rawItem{fields: map[string]string{}}
			items[idx] = it
		}
		it.fields[strings.Join(parts[2:], "][")] = v
	}
	return nil
}

// optional is nil for an empty parameter, as Stripe renders an absent string as null.
func optional(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}

// validate checks the scalar parameters and fills them into p.
func (raw rawCreate) validate(p *createParams, now time.Time, ttl time.Duration) *stripeError {
	if raw.mode == "" {
		return missingParam("mode")
	}
	if raw.mode != "payment" && raw.mode != modeSubscription {
		return invalidParam("mode", "The checkout simulator supports only mode=payment and mode=subscription (got %q); use real Stripe test mode for %s mode.", raw.mode, raw.mode)
	}
	p.mode, p.customer = raw.mode, raw.customer
	if raw.uiMode != "" && raw.uiMode != "hosted" {
		return invalidParam("ui_mode", "The checkout simulator supports only the hosted ui_mode (got %q).", raw.uiMode)
	}
	p.successURL = raw.successURL
	p.cancelURL = optional(raw.cancelURL)
	p.clientReferenceID = optional(raw.clientReferenceID)
	p.customerEmail = optional(raw.customerEmail)
	p.currency = strings.ToLower(raw.currency)
	if p.successURL == "" {
		return missingParam("success_url")
	}
	if err := checkURL("success_url", p.successURL); err != nil {
		return err
	}
	if p.cancelURL != nil {
		if err := checkURL("cancel_url", *p.cancelURL); err != nil {
			return err
		}
	}
	if p.clientReferenceID != nil && len(*p.clientReferenceID) > maxClientRefLen {
		return invalidParam("client_reference_id", "Invalid string: client_reference_id must be at most %d characters", maxClientRefLen)
	}
	if p.customerEmail != nil && !validEmail(*p.customerEmail) {
		return invalidRequest(http.StatusBadRequest, "email_invalid", "customer_email", "Invalid email address: %s", *p.customerEmail)
	}
	if err := checkMetadata(p.metadata); err != nil {
		return err
	}
	p.expiresAt = now.Add(ttl)
	if raw.expiresAt != "" {
		secs, err := strconv.ParseInt(raw.expiresAt, 10, 64)
		if err != nil {
			return invalidInteger("expires_at", raw.expiresAt)
		}
		at := time.Unix(secs, 0)
		if at.Before(now.Add(minExpiresIn)) || at.After(now.Add(maxExpiresIn)) {
			return invalidParam("expires_at", "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.")
		}
		p.expiresAt = at
	}
	return nil
}

// parseLineItems validates the gathered line items, which must share one currency, into p.
func parseLineItems(p *createParams, items map[int]*rawItem) *stripeError {
	if len(items) == 0 {
		return invalidParam("line_items", "You must provide at least one line item (line_items) in %s mode.", p.mode)
	}
	if p.mode == modeSubscription && len(items) != 1 {
		return invalidParam("line_items", "The checkout simulator supports exactly one recurring line item in subscription mode.")
	}
	for i := range len(items) {
		if items[i] == nil {
			return invalidParam("line_items", "Invalid array: line_items indices must run from 0 without gaps")
		}
	}
	var total int64
	for i := range len(items) {
		li, err := parseLineItem(i, items[i].fields)
		if err != nil {
			return err
		}
		switch {
		case li.Interval != "" && p.mode != modeSubscription:
			return invalidParam(itemParam(i, "price_data][recurring"),
				"You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.")
		case li.Interval == "" && p.mode == modeSubscription:
			return invalidParam(itemParam(i, "price_data][recurring"),
				"You must provide at least one recurring price in `subscription` mode when using prices.")
		}
		if p.currency == "" {
			p.currency = li.Currency
		}
		if li.Currency != p.currency {
			return invalidParam(itemParam(i, "price_data][currency"),
				"All line items must use the same currency: line_items[%d] is in %s but the session is in %s.", i, li.Currency, p.currency)
		}
		total += li.amount()
		if total > maxAmount {
			return invalidRequest(http.StatusBadRequest, "amount_too_large", "line_items", "The total amount must be no more than %s.", formatMoney(maxAmount, p.currency))
		}
		p.lineItems = append(p.lineItems, li)
	}
	if low := minimumCharge(p.currency); total < low {
		return invalidRequest(http.StatusBadRequest, "amount_too_small", "line_items",
			"The Checkout Session's total amount due must add up to at least %s %s", formatMoney(low, p.currency), p.currency)
	}
	return nil
}

func itemParam(i int, path string) string {
	return "line_items[" + strconv.Itoa(i) + "][" + path + "]"
}

// lineItemFields are the line item parameters the simulator reads; tax codes and behaviours
// are accepted so real-Stripe code passes, and have no effect.
var lineItemFields = map[string]bool{
	"quantity":                              true,
	"price":                                 true,
	"price_data][currency":                  true,
	"price_data][unit_amount":               true,
	"price_data][unit_amount_decimal":       true,
	"price_data][product":                   true,
	"price_data][product_data][name":        true,
	"price_data][product_data][description": true,
	"price_data][product_data][tax_code":    true,
	"price_data][tax_behavior":              true,
	"price_data][recurring][interval":       true,
	"price_data][recurring][interval_count": true,
}

// lineItemIgnoredPrefixes are nested line item parameters accepted and ignored.
var lineItemIgnoredPrefixes = []string{
	"price_data][product_data][images]", "price_data][product_data][metadata]",
	"adjustable_quantity]", "tax_rates]", "dynamic_tax_rates]",
}

func parseLineItem(i int, f map[string]string) (lineItem, *stripeError) {
	paths := make([]string, 0, len(f))
	for path := range f {
		paths = append(paths, path)
	}
	sort.Strings(paths)
	for _, path := range paths {
		if lineItemFields[path] {
			continue
		}
		if slices.ContainsFunc(lineItemIgnoredPrefixes, func(pre string) bool { return strings.HasPrefix(path, pre) }) {
			continue
		}
		return lineItem{}, unknownParam(itemParam(i, path))
	}
	if id := f["price"]; id != "" {
		// The simulator has no catalogue, so any Price id is unknown to it.
		return lineItem{}, noSuch(http.StatusBadRequest, "price", id, itemParam(i, "price"))
	}
	if id := f["price_data][product"]; id != "" {
		return lineItem{}, noSuch(http.StatusBadRequest, "product", id, itemParam(i, "price_data][product"))
	}
	li := lineItem{ID: newLineItemID()}

	q, ok := f["quantity"]
	if !ok || q == "" {
		return li, missingParam(itemParam(i, "quantity"))
	}
	qty, err := strconv.ParseInt(q, 10, 64)
	if err != nil {
		return li, invalidInteger(itemParam(i, "quantity"), q)
	}
	if qty < 1 {
		return li, integerOutOfRange(itemParam(i, "quantity"), "This value must be greater than or equal to 1.")
	}
	if qty > maxQuantity {
		return li, integerOutOfRange(itemParam(i, "quantity"), "This value must be less than or equal to %d.", maxQuantity)
	}
	li.Quantity = qty

	hasPriceData := false
	for path := range f {
		if strings.HasPrefix(path, "price_data]") {
			hasPriceData = true
		}
	}
	if !hasPriceData {
		return li, invalidParam(itemParam(i, "price_data"), "You must specify either `price` or `price_data` for each line item.")
	}

	cur := strings.ToLower(f["price_data][currency"])
	if cur == "" {
		return li, missingParam(itemParam(i, "price_data][currency"))
	}
	if !supportedCurrency(cur) {
		return li, invalidCurrency(itemParam(i, "price_data][currency"), f["price_data][currency"])
	}
	li.Currency = cur

	amountParam := itemParam(i, "price_data][unit_amount")
	raw, hasInt := f["price_data][unit_amount"]
	dec, hasDec := f["price_data][unit_amount_decimal"]
	switch {
	case hasInt && hasDec:
		return li, invalidParam(amountParam, "You may only specify one of unit_amount and unit_amount_decimal.")
	case hasInt:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return li, invalidInteger(amountParam, raw)
		}
		li.UnitAmount = n
	case hasDec:
		amountParam = itemParam(i, "price_data][unit_amount_decimal")
		fl, err := strconv.ParseFloat(dec, 64)
		if err != nil || fl != float64(int64(fl)) {
			return li, invalidParam(amountParam, "The checkout simulator needs a whole number of minor units in unit_amount_decimal (got %s).", dec)
		}
		li.UnitAmount = int64(fl)
	default:
		return li, missingParam(amountParam)
	}
	// Stripe allows free lines (unit_amount=0) next to paid ones; the session total has its own minimum.
	if li.UnitAmount < 0 {
		return li, integerOutOfRange(amountParam, "This value must be greater than or equal to 0.")
	}
	if li.UnitAmount > maxAmount {
		return li, integerOutOfRange(amountParam, "This value must be less than or equal to %d.", maxAmount)
	}

	li.Name = strings.TrimSpace(f["price_data][product_data][name"])
	if li.Name == "" {
		return li, missingParam(itemParam(i, "price_data][product_data][name"))
	}
	li.Description = f["price_data][product_data][description"]
	if raw, ok := f["price_data][recurring][interval"]; ok {
		switch raw {
		case "day", "week", "month", "year":
			li.Interval = raw
		default:
			return li, invalidParam(itemParam(i, "price_data][recurring][interval"), "Invalid price_data[recurring][interval]: must be one of day, week, month, or year")
		}
		if n := f["price_data][recurring][interval_count"]; n != "" && n != "1" {
			return li, invalidParam(itemParam(i, "price_data][recurring][interval_count"), "The checkout simulator bills every single interval: interval_count must be 1.")
		}
	}
	return li, nil
}

func checkURL(param, raw string) *stripeError {
	u, err := url.Parse(raw)
	if len(raw) > maxURLLen || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return invalidRequest(http.StatusBadRequest, "url_invalid", param, "Not a valid URL")
	}
	return nil
}

func checkMetadata(m map[string]string) *stripeError {
	if len(m) > maxMetadataKeys {
		return invalidParam("metadata", "You can specify up to %d keys in metadata.", maxMetadataKeys)
	}
	for k, v := range m {
		if len(k) > maxMetadataKeyLen {
			return invalidParam("metadata["+k+"]", "Metadata keys can be at most %d characters long.", maxMetadataKeyLen)
		}
		if len(v) > maxMetadataValLen {
			return invalidParam("metadata["+k+"]", "Metadata values can be at most %d characters long.", maxMetadataValLen)
		}
	}
	return nil
}

// validEmail accepts a bare address like a@b.c, the shape Checkout's email field accepts.
func validEmail(s string) bool {
	if len(s) > 254 || strings.ContainsAny(s, " \t\r\n<>") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && strings.Contains(s[at+1:], ".")
}
