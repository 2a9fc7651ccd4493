package simulator

import (
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// paymentIntentParams lists the top-level parameters Stripe's create-PaymentIntent endpoint
// knows. Known but unsimulated ones are accepted and ignored, as for Checkout Sessions.
var paymentIntentParams = map[string]bool{
	"amount": true, "automatic_payment_methods": true, "capture_method": true, "confirm": true,
	"confirmation_method": true, "currency": true, "customer": true, "description": true,
	"error_on_requires_action": true, "expand": true, "mandate_data": true, "metadata": true,
	"off_session": true, "on_behalf_of": true, "payment_method": true, "payment_method_configuration": true,
	"payment_method_data": true, "payment_method_options": true, "payment_method_types": true,
	"radar_options": true, "receipt_email": true, "return_url": true, "setup_future_usage": true,
	"shipping": true, "statement_descriptor": true, "statement_descriptor_suffix": true,
	"transfer_data": true, "transfer_group": true, "use_stripe_sdk": true,
}

// confirmParams lists the parameters of POST /v1/payment_intents/{id}/confirm.
var confirmParams = []string{"capture_method", "error_on_requires_action", "expand", "mandate_data",
	"off_session", "payment_method", "payment_method_data", "payment_method_options",
	"payment_method_types", "radar_options", "receipt_email", "return_url", "setup_future_usage",
	"shipping", "use_stripe_sdk"}

// testPaymentMethods are Stripe's test PaymentMethod ids a server-side confirm may name.
var testPaymentMethods = map[string]string{
	"pm_card_visa":                            "4242424242424242",
	"pm_card_mastercard":                      "5555555555554444",
	"pm_card_chargeDeclined":                  "4000000000000002",
	"pm_card_visa_chargeDeclined":             "4000000000000002",
	"pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
	"pm_card_authenticationRequired":          "4000002760003184",
	"pm_card_threeDSecure2Required":           "4000002760003184",
}

func (s *Simulator) apiCreateIntent(req *apiRequest) (int, any) {
	in, p, se := s.parseCreateIntent(req)
	if se != nil {
		return fail(se)
	}
	err := s.inTx(req.r.Context(), func(t *txn) error {
		if err := saveIntent(t, in); err != nil {
			return err
		}
		return s.emitIntent(t, in, "payment_intent.created", s.intentObject(in), req.origin)
	})
	if err != nil {
		return fail(err)
	}
	if p == nil {
		return http.StatusOK, s.intentObject(in)
	}
	// confirm=true: the same as a confirm right after the create.
	return s.answerConfirm(req, in.ID, *p, req.form.Get("return_url"))
}

// parseCreateIntent validates a create request; with confirm=true it also returns the payment.
func (s *Simulator) parseCreateIntent(req *apiRequest) (*intent, *payment, *stripeError) {
	form := req.form
	in := &intent{ID: newPIID(), Created: s.now().Unix(), Status: piRequiresPaymentMethod, Metadata: map[string]string{}}
	in.ClientSecret = newID(in.ID+"_secret_", 25)
	var types []string
	automatic := ""
	for _, key := range slices.Sorted(maps.Keys(form)) {
		parts, ok := splitKey(key)
		if !ok || !paymentIntentParams[parts[0]] {
			return nil, nil, unknownParam(key)
		}
		v := form.Get(key)
		switch {
		case parts[0] == "metadata" && len(parts) == 2 && parts[1] != "":
			if v != "" {
				in.Metadata[parts[1]] = v
			}
		case parts[0] == "metadata" && !(len(parts) == 1 && v == ""):
			return nil, nil, invalidParam(key, "Invalid metadata: use metadata[key]=value")
		case parts[0] == "payment_method_types":
			types = append(types, form[key]...)
		case key == "automatic_payment_methods[enabled]":
			automatic = v
		}
	}
	if se := checkMetadata(in.Metadata); se != nil {
		return nil, nil, se
	}
	raw := form.Get("amount")
	if raw == "" {
		return nil, nil, missingParam("amount")
	}
	amount, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return nil, nil, invalidInteger("amount", raw)
	}
	in.Currency = strings.ToLower(form.Get("currency"))
	switch {
	case in.Currency == "":
		return nil, nil, missingParam("currency")
	case !supportedCurrency(in.Currency):
		return nil, nil, invalidCurrency("currency", form.Get("currency"))
	case amount < minimumCharge(in.Currency):
		return nil, nil, invalidRequest(http.StatusBadRequest, "amount_too_small", "amount",
			"Amount must be at least %s %s", formatMoney(minimumCharge(in.Currency), in.Currency), in.Currency)
	case amount > maxAmount:
		return nil, nil, invalidRequest(http.StatusBadRequest, "amount_too_large", "amount",
			"Amount must be no more than %s", formatMoney(maxAmount, in.Currency))
	}
	in.Amount = amount
	offered := paymentMethodTypes(in.Currency)
	switch {
	case automatic != "" && automatic != "true" && automatic != "false":
		return nil, nil, invalidParam("automatic_payment_methods[enabled]", "Invalid boolean: %s", automatic)
	case automatic == "true" && len(types) > 0:
		return nil, nil, invalidParam("payment_method_types",
			"You may only specify one of these parameters: automatic_payment_methods, payment_method_types.")
	case len(types) == 0:
		// Since API 2023-08-16 a PaymentIntent without payment_method_types has automatic payment methods.
		in.Automatic, in.MethodTypes = true, offered
	default:
		for _, typ := range types {
			if !slices.Contains(offered, typ) {
				return nil, nil, invalidParam("payment_method_types",
					"The payment method type %q is invalid. The checkout simulator offers %s in %s.", typ, strings.Join(offered, " and "), in.Currency)
			}
		}
		in.MethodTypes = types
	}
	if email := form.Get("receipt_email"); email != "" {
		if !validEmail(email) {
			return nil, nil, invalidRequest(http.StatusBadRequest, "email_invalid", "receipt_email", "Invalid email address: %s", email)
		}
		in.ReceiptEmail = email
	}
	in.Description = form.Get("description")
	if cm := form.Get("capture_method"); cm != "" && cm != "automatic" && cm != "automatic_async" {
		return nil, nil, invalidParam("capture_method", "The checkout simulator captures payments at once; capture_method %q is not simulated.", cm)
	}
	if form.Get("customer") != "" {
		return nil, nil, noSuch(http.StatusBadRequest, "customer", form.Get("customer"), "customer")
	}
	switch form.Get("confirm") {
	case "", "false":
		return in, nil, nil
	case "true":
		p, se := serverPayment(form, in)
		if se != nil {
			return nil, nil, se
		}
		return in, &p, nil
	default:
		return nil, nil, invalidParam("confirm", "Invalid boolean: %s", form.Get("confirm"))
	}
}

// serverPayment is the card a server-side confirm names with one of Stripe's test PaymentMethods.
func serverPayment(form map[string][]string, in *intent) (payment, *stripeError) {
	pm := ""
	if v := form["payment_method"]; len(v) > 0 {
		pm = v[0]
	}
	if pm == "" {
		return payment{}, invalidRequest(http.StatusBadRequest, "payment_intent_unexpected_state", "payment_method",
			"You cannot confirm this PaymentIntent because it's missing a payment method. Name one of Stripe's test PaymentMethods, such as payment_method=pm_card_visa, or pay through the Payment Element.")
	}
	number, ok := testPaymentMethods[pm]
	if !ok {
		return payment{}, noSuch(http.StatusBadRequest, "PaymentMethod", pm, "payment_method")
	}
	if !slices.Contains(in.MethodTypes, "card") {
		return payment{}, invalidParam("payment_method", "This PaymentIntent does not accept cards (payment_method_types %s).", strings.Join(in.MethodTypes, ", "))
	}
	p := payment{method: methodCard, expMonth: 12, expYear: 2034}
	for _, c := range elementCards {
		if c.number == number {
			p.card = c
		}
	}
	return p, nil
}

func (s *Simulator) apiGetIntent(req *apiRequest) (int, any) {
	if err := checkParams(req.form, "client_secret", "expand"); err != nil {
		return fail(err)
	}
	id := req.r.PathValue("id")
	in, err := loadIntent(req.r.Context(), s.db, id)
	if errors.Is(err, errNoIntent) {
		// Not one of the API's: perhaps the intent a Checkout Session made.
		return s.apiGetPaymentIntent(req)
	}
	if err != nil {
		return fail(err)
	}
	return http.StatusOK, s.intentObject(in)
}

func (s *Simulator) apiConfirmIntent(req *apiRequest) (int, any) {
	if err := checkParams(req.form, confirmParams...); err != nil {
		return fail(err)
	}
	id := req.r.PathValue("id")
	in, err := loadIntent(req.r.Context(), s.db, id)
	if err != nil {
		return s.intentFailure(id, err)
	}
	p, se := serverPayment(req.form, in)
	if se != nil {
		return fail(se)
	}
	if email := req.form.Get("receipt_email"); email != "" {
		if !validEmail(email) {
			return fail(invalidRequest(http.StatusBadRequest, "email_invalid", "receipt_email", "Invalid email address: %s", email))
		}
		p.email = email
	}
	returnURL := req.form.Get("return_url")
	if returnURL != "" {
		if se := checkURL("return_url", returnURL); se != nil {
			return fail(se)
		}
	}
	return s.answerConfirm(req, id, p, returnURL)
}

// answerConfirm confirms and answers as Stripe does: the intent, or a 402 card_error carrying
// the intent when the card was declined.
func (s *Simulator) answerConfirm(req *apiRequest, id string, p payment, returnURL string) (int, any) {
	in, err := s.confirmIntent(req.r.Context(), id, p, returnURL, req.origin)
	if err != nil {
		return s.intentFailure(id, err)
	}
	obj := s.intentObject(in)
	if in.Status == piRequiresPaymentMethod && in.LastError != nil {
		return http.StatusPaymentRequired, map[string]any{"error": declineError(in, obj)}
	}
	return http.StatusOK, obj
}

// declineError is the body of a declined confirm: the card error with the charge and the intent.
func declineError(in *intent, obj paymentIntentJSON) map[string]any {
	e := map[string]any{"type": in.LastError.Type, "code": in.LastError.Code, "message": in.LastError.Message,
		"charge": in.ChargeID, "payment_intent": obj}
	if in.LastError.DeclineCode != "" {
		e["decline_code"] = in.LastError.DeclineCode
	}
	return e
}

func (s *Simulator) apiCancelIntent(req *apiRequest) (int, any) {
	if err := checkParams(req.form, "cancellation_reason", "expand"); err != nil {
		return fail(err)
	}
	reason := req.form.Get("cancellation_reason")
	switch reason {
	case "", "duplicate", "fraudulent", "requested_by_customer", "abandoned":
	default:
		return fail(invalidParam("cancellation_reason",
			"Invalid cancellation_reason: must be one of duplicate, fraudulent, requested_by_customer, or abandoned"))
	}
	id := req.r.PathValue("id")
	in, err := s.cancelIntent(req.r.Context(), id, reason, req.origin)
	if err != nil {
		return s.intentFailure(id, err)
	}
	return http.StatusOK, s.intentObject(in)
}

// intentFailure answers for an intent that is missing or in the wrong state.
func (s *Simulator) intentFailure(id string, err error) (int, any) {
	var unexpected *errUnexpectedState
	switch {
	case errors.Is(err, errNoIntent):
		return fail(noSuch(http.StatusNotFound, "payment_intent", id, "intent"))
	case errors.As(err, &unexpected):
		return fail(unexpected.stripeError())
	}
	return fail(err)
}
