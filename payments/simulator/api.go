package simulator

import (
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxAPIBody bounds request bodies; real Checkout requests are a few kilobytes.
const maxAPIBody = 1 << 20

// apiRequest is one API call with its parsed form and the request identity events will cite.
type apiRequest struct {
	w      http.ResponseWriter
	r      *http.Request
	form   url.Values
	origin origin
}

// apiFunc answers an API call with a status and either an object or a *stripeError.
type apiFunc func(req *apiRequest) (int, any)

// authenticate accepts any test secret key, like Stripe's test mode, and refuses live keys loudly.
func (s *Simulator) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := apiKey(r)
		var se *stripeError
		switch {
		case key == "":
			se = invalidRequest(http.StatusUnauthorized, "", "",
				"You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').")
		case strings.HasPrefix(key, "sk_live_"), strings.HasPrefix(key, "rk_live_"):
			se = invalidRequest(http.StatusUnauthorized, "", "",
				"Live mode API keys (sk_live_…) are refused: this is the storefront's checkout simulator, which only runs in test mode. Use an sk_test_ key.")
		case !strings.HasPrefix(key, "sk_test_"):
			se = invalidRequest(http.StatusUnauthorized, "", "", "Invalid API Key provided: %s****", truncate(key, 8))
		}
		if se != nil {
			w.Header().Set("WWW-Authenticate", `Basic realm="Stripe"`)
			writeAPI(w, newRequestID(), se.Status, map[string]any{"error": se})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// apiKey reads the key from Bearer auth (stripe-go) or Basic auth (curl -u sk_test_…:).
func apiKey(r *http.Request) string {
	if user, _, ok := r.BasicAuth(); ok {
		return user
	}
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// api adapts an apiFunc: it parses the form, names the request and writes Stripe-shaped JSON.
func (s *Simulator) api(fn apiFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		reqID := newRequestID()
		r.Body = http.MaxBytesReader(w, r.Body, maxAPIBody)
		if err := r.ParseForm(); err != nil {
			writeAPI(w, reqID, http.StatusBadRequest, map[string]any{"error": invalidRequest(http.StatusBadRequest, "", "", "Could not parse the request body: %v", err)})
			return
		}
		if se := checkVersion(r.Header.Get("Stripe-Version")); se != nil {
			writeAPI(w, reqID, se.Status, map[string]any{"error": se})
			return
		}
		req := &apiRequest{w: w, r: r, form: r.Form, origin: origin{requestID: reqID, idempotencyKey: strings.TrimSpace(r.Header.Get("Idempotency-Key"))}}
		status, body := fn(req)
		var se *stripeError
		if errors.As(asError(body), &se) {
			if se.Status >= 500 {
				s.log.Error("simulator API call failed", "error", se.Message, "method", r.Method, "path", r.URL.Path)
			}
			body = map[string]any{"error": se}
		}
		writeAPI(w, reqID, status, body)
	}
}

func asError(v any) error {
	if err, ok := v.(error); ok {
		return err
	}
	return nil
}

// fail turns an error into the status and body an apiFunc returns.
func fail(err error) (int, any) {
	var se *stripeError
	if !errors.As(err, &se) {
		se = apiError(err)
	}
	return se.Status, se
}

func writeAPI(w http.ResponseWriter, reqID string, status int, body any) {
	var b []byte
	if raw, ok := body.(json.RawMessage); ok {
		b = raw
	} else {
		var err error
		if b, err = json.MarshalIndent(body, "", "  "); err != nil {
			status = http.StatusInternalServerError
			b = []byte(`{"error":{"type":"api_error","message":"could not encode the response"}}`)
		}
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Request-Id", reqID)
	h.Set("Stripe-Version", apiVersion)
	h.Set("Cache-Control", "no-cache, no-store")
	w.WriteHeader(status)
	w.Write(b)
	w.Write([]byte("\n"))
}

func (s *Simulator) apiCreateSession(req *apiRequest) (int, any) {
	// A Price given by id is read as the price_data it stands for (billing.go).
	form, priceIDs, err := s.expandPrices(req.r.Context(), req.form)
	if err != nil {
		return fail(err)
	}
	p, se := parseCreateParams(form, s.now(), s.cfg.SessionTTL)
	if se != nil {
		return se.Status, se
	}
	for i, id := range priceIDs {
		p.lineItems[i].PriceID = id
	}
	sess := &session{
		ID:                newSessionID(),
		Created:           s.now().Unix(),
		ExpiresAt:         p.expiresAt,
		Status:            statusOpen,
		PaymentStatus:     paymentUnpaid,
		Currency:          p.currency,
		ClientReferenceID: p.clientReferenceID,
		CustomerEmail:     p.customerEmail,
		SuccessURL:        p.successURL,
		CancelURL:         p.cancelURL,
		Metadata:          p.metadata,
		LineItems:         p.lineItems,
	}
	for _, li := range p.lineItems {
		sess.AmountSubtotal += li.amount()
	}
	// No discounts, shipping or tax in the simulator, so the total is the subtotal.
	sess.AmountTotal = sess.AmountSubtotal
	err = s.inTx(req.r.Context(), func(t *txn) error {
		billing, err := s.prepareSubscriptionCheckout(t, p)
		if err != nil {
			return err
		}
		if err := insertSession(t, sess); err != nil {
			return err
		}
		if sess.Billing = billing; billing != nil {
			if err := saveCheckoutSubscription(t, sess.ID, billing); err != nil {
				return err
			}
		}
		// Expiry must be noticed on time even if it is sooner than the scheduler's next wake-up.
		t.queuedJobs = true
		return nil
	})
	if err != nil {
		return fail(err)
	}
	return http.StatusOK, s.sessionObject(sess, parseExpand(p.expand))
}

func (s *Simulator) apiGetSession(req *apiRequest) (int, any) {
	if err := checkParams(req.form, "expand"); err != nil {
		return fail(err)
	}
	sess, err := s.sessionForAPI(req)
	if err != nil {
		return fail(err)
	}
	return http.StatusOK, s.sessionObject(sess, parseExpand(expandValues(req.form)))
}

func (s *Simulator) apiGetLineItems(req *apiRequest) (int, any) {
	q, se := parseListQuery(req.form)
	if se != nil {
		return fail(se)
	}
	sess, err := s.sessionForAPI(req)
	if err != nil {
		return fail(err)
	}
	page, se := lineItemsPage(sess, q)
	if se != nil {
		return fail(se)
	}
	return http.StatusOK, page
}

func (s *Simulator) sessionForAPI(req *apiRequest) (*session, error) {
	id := req.r.PathValue("id")
	sess, err := loadSession(req.r.Context(), s.db, "id", id)
	if errors.Is(err, errNoSession) {
		return nil, noSuch(http.StatusNotFound, "checkout.session", id, "session")
	}
	return sess, err
}

func (s *Simulator) apiExpireSession(req *apiRequest) (int, any) {
	if err := checkParams(req.form, "expand"); err != nil {
		return fail(err)
	}
	id := req.r.PathValue("id")
	sess, err := s.expireSession(req.r.Context(), id, req.origin)
	switch {
	case errors.Is(err, errNoSession):
		return fail(noSuch(http.StatusNotFound, "checkout.session", id, "session"))
	case errors.Is(err, errNotOpen):
		// Stripe sends no code for this one: only the type and the message.
		return fail(invalidRequest(http.StatusBadRequest, "", "",
			"Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session (%s) has a status of %q.", id, sess.Status))
	case err != nil:
		return fail(err)
	}
	return http.StatusOK, s.sessionObject(sess, parseExpand(expandValues(req.form)))
}

// refundParams lists the parameters Stripe's create-refund endpoint knows.
var refundParams = map[string]bool{
	"amount": true, "charge": true, "currency": true, "customer": true, "expand": true,
	"instructions_email": true, "metadata": true, "origin": true, "payment_intent": true,
	"reason": true, "refund_application_fee": true, "reverse_transfer": true,
}

func (s *Simulator) apiCreateRefund(req *apiRequest) (int, any) {
	rr := refundRequest{metadata: map[string]string{}}
	for key, vs := range req.form {
		parts, ok := splitKey(key)
		if !ok || !refundParams[parts[0]] {
			return fail(unknownParam(key))
		}
		if parts[0] == "metadata" && len(parts) == 2 && vs[0] != "" {
			rr.metadata[parts[1]] = vs[0]
		}
	}
	if err := checkMetadata(rr.metadata); err != nil {
		return fail(err)
	}
	rr.paymentIntent = req.form.Get("payment_intent")
	rr.charge = req.form.Get("charge")
	if rr.paymentIntent == "" && rr.charge == "" {
		return fail(invalidRequest(http.StatusBadRequest, "parameter_missing", "payment_intent",
			"One of the following params should be provided for this request: payment_intent or charge."))
	}
	if raw := req.form.Get("amount"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return fail(invalidInteger("amount", raw))
		}
		if n <= 0 {
			return fail(integerOutOfRange("amount", "Invalid positive integer"))
		}
		rr.amount = n
	}
	if reason := req.form.Get("reason"); reason != "" {
		switch reason {
		case "duplicate", "fraudulent", "requested_by_customer":
			rr.reason = &reason
		default:
			return fail(invalidParam("reason", "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer"))
		}
	}
	ref, err := s.refund(req.r.Context(), rr, req.origin)
	if err != nil {
		return fail(err)
	}
	return http.StatusOK, ref
}

func (s *Simulator) apiGetRefund(req *apiRequest) (int, any) {
	if err := checkParams(req.form, "expand"); err != nil {
		return fail(err)
	}
	id := req.r.PathValue("id")
	ref, err := s.loadRefund(req.r.Context(), id)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return fail(noSuch(http.StatusNotFound, "refund", id, "id"))
		}
		return fail(err)
	}
	return http.StatusOK, ref
}

func (s *Simulator) apiUnknown(req *apiRequest) (int, any) {
	return fail(invalidRequest(http.StatusNotFound, "", "",
		"Unrecognized request URL (%s: %s). The checkout simulator serves only Checkout Sessions, Payment Intents, Refunds, Events, Customers, Prices, Subscriptions, Invoices and Billing Portal sessions.", req.r.Method, req.r.URL.Path))
}

// expandValues collects expand[]=… and expand[0]=… alike.
func expandValues(form url.Values) []string {
	var out []string
	for key, vs := range form {
		if key == "expand" || strings.HasPrefix(key, "expand[") {
			out = append(out, vs...)
		}
	}
	return out
}
