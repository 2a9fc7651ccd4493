package simulator

import (
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// maxEventTypes is how many types[] Stripe accepts in one list call.
const maxEventTypes = 20

// apiListEvents is GET /v1/events, newest first. Each event is the very payload queued for the
// webhook (same id, same JSON), so a shop can reconcile from this list what a webhook missed.
func (s *Simulator) apiListEvents(req *apiRequest) (int, any) {
	q, se := parseListQuery(req.form, "created", "delivery_success", "type", "types")
	if se != nil {
		return fail(se)
	}
	if se := eventTypeFilter(&q, req); se != nil {
		return fail(se)
	}
	switch v := req.form.Get("delivery_success"); v {
	case "":
	case "true":
		q.filter("delivered_ms IS NOT NULL")
	case "false":
		q.filter("delivered_ms IS NULL")
	default:
		return fail(invalidParam("delivery_success", "Invalid boolean: %s", v))
	}
	data, more, err := s.pageRows(req.r.Context(), "events", "payload", "event", q, func(row rowScanner) (any, error) {
		var payload []byte
		err := row.Scan(&payload)
		return json.RawMessage(payload), err
	})
	if err != nil {
		return fail(err)
	}
	return http.StatusOK, listJSON{Object: "list", Data: data, HasMore: more, URL: "/v1/events"}
}

// eventTypeFilter reads type (one name, * a wildcard for a part: checkout.session.*) or types[]
// (up to 20 exact names); Stripe takes one or the other.
func eventTypeFilter(q *listQuery, req *apiRequest) *stripeError {
	var types []string
	for key, vs := range req.form {
		if strings.HasPrefix(key, "types[") {
			types = append(types, vs...)
		}
	}
	typ := req.form.Get("type")
	switch {
	case typ != "" && len(types) > 0:
		return exclusiveParams("type", "types")
	case len(types) > maxEventTypes:
		return invalidParam("types", "You may pass at most %d types.", maxEventTypes)
	case len(types) > 0:
		q.filter("type IN (?"+strings.Repeat(", ?", len(types)-1)+")", anySlice(types)...)
	case typ != "":
		// GLOB's * is Stripe's wildcard; other GLOB metacharacters never occur in event names.
		q.filter("type GLOB ?", typ)
	}
	return nil
}

func anySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// apiGetEvent is GET /v1/events/{id}.
func (s *Simulator) apiGetEvent(req *apiRequest) (int, any) {
	if err := checkParams(req.form, "expand"); err != nil {
		return fail(err)
	}
	id := req.r.PathValue("id")
	var payload []byte
	err := s.db.QueryRowContext(req.r.Context(), `SELECT payload FROM events WHERE id = ?`, id).Scan(&payload)
	if errors.Is(err, sql.ErrNoRows) {
		return fail(noSuch(http.StatusNotFound, "event", id, "id"))
	}
	if err != nil {
		return fail(err)
	}
	return http.StatusOK, json.RawMessage(payload)
}
