package simulator

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// The billing API: customers, prices, subscriptions, invoices, Billing Portal sessions and
// the test clock. Parameters the simulator does not simulate are accepted and ignored where
// Stripe knows them, so a shop written for Stripe runs unchanged.

// readParams files a form into scalars and metadata, refusing parameters Stripe does not know.
func readParams(req *apiRequest, known map[string]bool) (map[string]string, map[string]string, *stripeError) {
	scalars, meta := map[string]string{}, map[string]string{}
	for key, vs := range req.form {
		parts, ok := splitKey(key)
		if !ok || !known[parts[0]] {
			return nil, nil, unknownParam(key)
		}
		v := ""
		if len(vs) > 0 {
			v = vs[0]
		}
		switch {
		case parts[0] == "metadata" && len(parts) == 2:
			if v != "" {
				meta[parts[1]] = v
			}
		case len(parts) == 1:
			scalars[key] = v
		default:
			scalars[strings.Join(parts, ".")] = v
		}
	}
	return scalars, meta, checkMetadata(meta)
}

var customerParams = map[string]bool{"address": true, "description": true, "email": true, "expand": true, "invoice_settings": true,
	"metadata": true, "name": true, "payment_method": true, "phone": true, "preferred_locales": true, "shipping": true, "tax": true,
	"tax_exempt": true, "tax_id_data": true, "test_clock": true}

func (s *Simulator) apiCreateCustomer(req *apiRequest) (int, any) {
	p, meta, se := readParams(req, customerParams)
	if se != nil {
		return fail(se)
	}
	if email := p["email"]; email != "" && !validEmail(email) {
		return fail(invalidRequest(http.StatusBadRequest, "email_invalid", "email", "Invalid email address: %s", email))
	}
	c := &customer{ID: newCustomerID(), Created: s.now().Unix(), Email: p["email"], Metadata: meta}
	if err := s.inTx(req.r.Context(), func(t *txn) error {
		if err := saveCustomer(t, c); err != nil {
			return err
		}
		return s.enqueue(t, c.ID, "customer.created", customerObject(c), nil, req.origin)
	}); err != nil {
		return fail(err)
	}
	return http.StatusOK, customerObject(c)
}

func (s *Simulator) apiGetCustomer(req *apiRequest) (int, any) {
	c, err := loadCustomer(req.r.Context(), s.db, req.r.PathValue("id"))
	if errors.Is(err, errNoBillingObject) {
		return fail(noSuch(http.StatusNotFound, "customer", req.r.PathValue("id"), "id"))
	}
	if err != nil {
		return fail(err)
	}
	return http.StatusOK, customerObject(c)
}

var priceParams = map[string]bool{"active": true, "billing_scheme": true, "currency": true, "currency_options": true,
	"custom_unit_amount": true, "expand": true, "lookup_key": true, "metadata": true, "nickname": true, "product": true,
	"product_data": true, "recurring": true, "tax_behavior": true, "tiers": true, "tiers_mode": true,
	"transfer_lookup_key": true, "transform_quantity": true, "unit_amount": true, "unit_amount_decimal": true}

func (s *Simulator) apiCreatePrice(req *apiRequest) (int, any) {
	p, meta, se := readParams(req, priceParams)
	if se != nil {
		return fail(se)
	}
	pr := &price{ID: newPriceID(), Created: s.now().Unix(), Currency: strings.ToLower(p["currency"]), Interval: p["recurring.interval"],
		LookupKey: p["lookup_key"], Active: p["active"] != "false", Metadata: meta, ProductName: p["product_data.name"]}
	switch {
	case pr.Currency == "":
		return fail(missingParam("currency"))
	case !supportedCurrency(pr.Currency):
		return fail(invalidCurrency("currency", p["currency"]))
	case p["product"] != "":
		return fail(noSuch(http.StatusBadRequest, "product", p["product"], "product"))
	case pr.ProductName == "":
		return fail(invalidParam("product_data", "You must specify either `product` or `product_data` when creating a price."))
	}
	n, err := strconv.ParseInt(p["unit_amount"], 10, 64)
	if err != nil || n < 0 || n > maxAmount {
		return fail(invalidInteger("unit_amount", p["unit_amount"]))
	}
	pr.UnitAmount, pr.Product = n, newProductID()
	switch pr.Interval {
	case "", "day", "week", "month", "year":
	default:
		return fail(invalidParam("recurring[interval]", "Invalid recurring[interval]: must be one of day, week, month, or year"))
	}
	err = s.inTx(req.r.Context(), func(t *txn) error {
		if pr.LookupKey != "" {
			taken, err := listPrices(t.ctx, t, []string{pr.LookupKey})
			if err != nil {
				return err
			}
			if len(taken) > 0 && p["transfer_lookup_key"] != "true" {
				return invalidParam("lookup_key", "A price (`%s`) already uses that lookup key.", taken[0].ID)
			}
			if _, err := t.ExecContext(t.ctx, `UPDATE prices SET lookup_key = NULL WHERE lookup_key = ?`, pr.LookupKey); err != nil {
				return err
			}
		}
		return insertPrice(t, pr)
	})
	if err != nil {
		return fail(err)
	}
	return http.StatusOK, priceObject(pr)
}

func (s *Simulator) apiGetPrice(req *apiRequest) (int, any) {
	pr, err := loadPrice(req.r.Context(), s.db, req.r.PathValue("id"))
	if errors.Is(err, errNoBillingObject) {
		return fail(noSuch(http.StatusNotFound, "price", req.r.PathValue("id"), "price"))
	}
	if err != nil {
		return fail(err)
	}
	return http.StatusOK, priceObject(pr)
}

// apiListPrices is GET /v1/prices, newest first, filtered by lookup_keys[] and active.
func (s *Simulator) apiListPrices(req *apiRequest) (int, any) {
	var keys []string
	for key, vs := range req.form {
		if key == "lookup_keys" || strings.HasPrefix(key, "lookup_keys[") {
			keys = append(keys, vs...)
		}
	}
	prices, err := listPrices(req.r.Context(), s.db, keys)
	if err != nil {
		return fail(err)
	}
	data := []any{}
	for _, p := range prices {
		if a := req.form.Get("active"); a != "" && (a == "true") != p.Active {
			continue
		}
		data = append(data, priceObject(p))
	}
	return http.StatusOK, listJSON{Object: "list", Data: data, URL: "/v1/prices"}
}

func (s *Simulator) apiGetSubscription(req *apiRequest) (int, any) {
	sub, pr, err := s.subscriptionForAPI(req)
	if err != nil {
		return fail(err)
	}
	return http.StatusOK, subscriptionObject(sub, pr)
}

func (s *Simulator) subscriptionForAPI(req *apiRequest) (*subscription, *price, error) {
	id := req.r.PathValue("id")
	sub, err := loadSubscription(req.r.Context(), s.db, id)
	if errors.Is(err, errNoBillingObject) {
		return nil, nil, noSuch(http.StatusNotFound, "subscription", id, "id")
	}
	if err != nil {
		return nil, nil, err
	}
	pr, err := loadPrice(req.r.Context(), s.db, sub.Price)
	return sub, pr, err
}

// apiListSubscriptions is GET /v1/subscriptions?customer=…, newest first.
func (s *Simulator) apiListSubscriptions(req *apiRequest) (int, any) {
	cond, args := "1", []any{}
	if c := req.form.Get("customer"); c != "" {
		cond, args = "customer = ?", append(args, c)
	}
	subs, err := subscriptionsWhere(req.r.Context(), s.db, cond, args...)
	if err != nil {
		return fail(err)
	}
	data := []any{}
	for _, sub := range subs {
		pr, err := loadPrice(req.r.Context(), s.db, sub.Price)
		if err != nil {
			return fail(err)
		}
		data = append(data, subscriptionObject(sub, pr))
	}
	return http.StatusOK, listJSON{Object: "list", Data: data, URL: "/v1/subscriptions"}
}

func (s *Simulator) apiGetInvoice(req *apiRequest) (int, any) {
	id := req.r.PathValue("id")
	in, err := loadInvoice(req.r.Context(), s.db, id)
	if errors.Is(err, errNoBillingObject) {
		return fail(noSuch(http.StatusNotFound, "invoice", id, "invoice"))
	}
	if err != nil {
		return fail(err)
	}
	pr, err := loadPrice(req.r.Context(), s.db, in.Price)
	if err != nil {
		return fail(err)
	}
	return http.StatusOK, invoiceObject(in, pr)
}

var portalParams = map[string]bool{"configuration": true, "customer": true, "expand": true, "flow_data": true, "locale": true,
	"on_behalf_of": true, "return_url": true}

// apiCreatePortalSession is POST /v1/billing_portal/sessions: a link to the portal page.
func (s *Simulator) apiCreatePortalSession(req *apiRequest) (int, any) {
	p, _, se := readParams(req, portalParams)
	if se != nil {
		return fail(se)
	}
	if p["customer"] == "" {
		return fail(missingParam("customer"))
	}
	if p["return_url"] != "" {
		if se := checkURL("return_url", p["return_url"]); se != nil {
			return fail(se)
		}
	}
	c, err := loadCustomer(req.r.Context(), s.db, p["customer"])
	if errors.Is(err, errNoBillingObject) {
		return fail(noSuch(http.StatusBadRequest, "customer", p["customer"], "customer"))
	}
	if err != nil {
		return fail(err)
	}
	ps := portalSessionJSON{ID: newPortalID(), Object: "billing_portal.session", Configuration: "bpc_simulator",
		Created: s.now().Unix(), Customer: c.ID, ReturnURL: p["return_url"]}
	ps.URL = s.baseURL + "/p/session/" + ps.ID
	_, err = s.db.ExecContext(req.r.Context(), `INSERT INTO portal_sessions (id, created, customer, return_url) VALUES (?, ?, ?, ?)`,
		ps.ID, ps.Created, ps.Customer, ps.ReturnURL)
	if err != nil {
		return fail(err)
	}
	return http.StatusOK, ps
}

// apiAdvanceSubscription is the simulator's test clock by API:
// POST /v1/test_helpers/subscriptions/{id}/advance bills the next renewal (or the next retry of
// a past-due one) now.
func (s *Simulator) apiAdvanceSubscription(req *apiRequest) (int, any) {
	id := req.r.PathValue("id")
	sub, err := s.advance(req.r.Context(), id)
	switch {
	case errors.Is(err, errNoBillingObject):
		return fail(noSuch(http.StatusNotFound, "subscription", id, "id"))
	case errors.Is(err, errNothingToBill):
		return fail(invalidRequest(http.StatusBadRequest, "", "", "Subscription %s is %s: it has no renewal or retry to bill.", id, sub.Status))
	case err != nil:
		return fail(err)
	}
	pr, err := loadPrice(req.r.Context(), s.db, sub.Price)
	if err != nil {
		return fail(err)
	}
	return http.StatusOK, subscriptionObject(sub, pr)
}

// apiListCustomers is GET /v1/customers, newest first, filtered by email.
func (s *Simulator) apiListCustomers(req *apiRequest) (int, any) {
	query, args := `SELECT id FROM customers ORDER BY created DESC, rowid DESC LIMIT 100`, []any{}
	if email := req.form.Get("email"); email != "" {
		query, args = `SELECT id FROM customers WHERE email = ? ORDER BY created DESC, rowid DESC LIMIT 100`, []any{email}
	}
	rows, err := s.db.QueryContext(req.r.Context(), query, args...)
	if err != nil {
		return fail(err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fail(err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	data := []any{}
	for _, id := range ids {
		c, err := loadCustomer(req.r.Context(), s.db, id)
		if err != nil {
			return fail(err)
		}
		data = append(data, customerObject(c))
	}
	return http.StatusOK, listJSON{Object: "list", Data: data, URL: "/v1/customers"}
}
