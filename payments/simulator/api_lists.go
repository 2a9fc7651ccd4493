package simulator

import (
	"errors"
	"net/http"
)

// apiListSessions is GET /v1/checkout/sessions, newest first, filtered by payment_intent, status
// or created. Filters naming objects the simulator never makes (customer, payment_link,
// subscription) match nothing.
func (s *Simulator) apiListSessions(req *apiRequest) (int, any) {
	q, se := parseListQuery(req.form, "created", "customer", "customer_details", "payment_intent", "payment_link", "status", "subscription")
	if se != nil {
		return fail(se)
	}
	if pi := req.form.Get("payment_intent"); pi != "" {
		q.filter("payment_intent = ?", pi)
	}
	if st := req.form.Get("status"); st != "" {
		if st != statusOpen && st != statusComplete && st != statusExpired {
			return fail(invalidParam("status", "Invalid status: must be one of open, complete, or expired"))
		}
		q.filter("status = ?", st)
	}
	for _, never := range []string{"customer", "customer_details[email]", "payment_link", "subscription"} {
		if req.form.Get(never) != "" {
			q.filter("0")
		}
	}
	exp := parseExpand(trimDataPrefix(expandValues(req.form)))
	data, more, err := s.pageRows(req.r.Context(), "sessions", sessionColumns, "checkout.session", q, func(row rowScanner) (any, error) {
		sess, err := scanSession(row)
		if err != nil {
			return nil, err
		}
		return s.sessionObject(sess, exp), nil
	})
	if err != nil {
		return fail(err)
	}
	return http.StatusOK, listJSON{Object: "list", Data: data, HasMore: more, URL: "/v1/checkout/sessions"}
}

// trimDataPrefix turns a list's expand[]=data.payment_intent into the object's payment_intent.
func trimDataPrefix(values []string) []string {
	out := make([]string, 0, len(values))
	for _, v := range values {
		if len(v) > len("data.") && v[:len("data.")] == "data." {
			out = append(out, v[len("data."):])
		}
	}
	return out
}

// apiListRefunds is GET /v1/refunds, newest first, filtered by charge, payment_intent or created.
func (s *Simulator) apiListRefunds(req *apiRequest) (int, any) {
	q, se := parseListQuery(req.form, "charge", "created", "payment_intent")
	if se != nil {
		return fail(se)
	}
	if ch := req.form.Get("charge"); ch != "" {
		q.filter("charge_id = ?", ch)
	}
	if pi := req.form.Get("payment_intent"); pi != "" {
		q.filter("payment_intent = ?", pi)
	}
	data, more, err := s.pageRows(req.r.Context(), "refunds", refundColumns, "refund", q, func(row rowScanner) (any, error) {
		return scanRefund(row)
	})
	if err != nil {
		return fail(err)
	}
	return http.StatusOK, listJSON{Object: "list", Data: data, HasMore: more, URL: "/v1/refunds"}
}

// apiGetPaymentIntent is GET /v1/payment_intents/{id}: the intent a session created when the customer paid.
func (s *Simulator) apiGetPaymentIntent(req *apiRequest) (int, any) {
	if err := checkParams(req.form, "client_secret", "expand"); err != nil {
		return fail(err)
	}
	id := req.r.PathValue("id")
	sess, err := loadSession(req.r.Context(), s.db, "payment_intent", id)
	if errors.Is(err, errNoSession) {
		return fail(noSuch(http.StatusNotFound, "payment_intent", id, "intent"))
	}
	if err != nil {
		return fail(err)
	}
	return http.StatusOK, paymentIntentObject(sess)
}
