package simulator

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Stripe's list limits: limit runs from 1 to 100 and defaults to 10.
const (
	defaultListLimit = 10
	maxListLimit     = 100
)

// listQuery is a validated page request of a list endpoint, with the filters the endpoint adds.
type listQuery struct {
	limit         int
	startingAfter string
	endingBefore  string
	where         []string // SQL conditions, joined with AND
	args          []any
}

func (q *listQuery) filter(cond string, args ...any) {
	q.where = append(q.where, cond)
	q.args = append(q.args, args...)
}

// pagingParams are the parameters every list endpoint takes.
var pagingParams = []string{"limit", "starting_after", "ending_before", "expand"}

// checkParams refuses any parameter not in allowed (by its name before the first '['), as Stripe
// answers an unknown query parameter with parameter_unknown.
func checkParams(form url.Values, allowed ...string) *stripeError {
	for _, key := range slices.Sorted(maps.Keys(form)) {
		parts, ok := splitKey(key)
		if !ok || !slices.Contains(allowed, parts[0]) {
			return unknownParam(key)
		}
	}
	return nil
}

// parseListQuery reads limit, starting_after and ending_before after checking that every parameter
// is one the endpoint knows: the paging ones and filters. A "created" filter is applied here too.
func parseListQuery(form url.Values, filters ...string) (listQuery, *stripeError) {
	q := listQuery{limit: defaultListLimit}
	if err := checkParams(form, append(slices.Clone(pagingParams), filters...)...); err != nil {
		return q, err
	}
	if raw := form.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		switch {
		case err != nil:
			return q, invalidInteger("limit", raw)
		case n < 1:
			return q, integerOutOfRange("limit", "This value must be greater than or equal to 1.")
		case n > maxListLimit:
			return q, integerOutOfRange("limit", "This value must be less than or equal to %d (it currently is '%d').", maxListLimit, n)
		}
		q.limit = n
	}
	q.startingAfter, q.endingBefore = form.Get("starting_after"), form.Get("ending_before")
	if q.startingAfter != "" && q.endingBefore != "" {
		return q, exclusiveParams("ending_before", "starting_after")
	}
	if slices.Contains(filters, "created") {
		return q, q.createdRange(form, "created")
	}
	return q, nil
}

// createdRange adds Stripe's created filter, created=T or created[gt|gte|lt|lte]=T, on column.
func (q *listQuery) createdRange(form url.Values, column string) *stripeError {
	ops := map[string]string{"": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
	for _, key := range slices.Sorted(maps.Keys(form)) {
		parts, _ := splitKey(key)
		if parts[0] != "created" {
			continue
		}
		op := ""
		if len(parts) == 2 {
			op = parts[1]
		}
		sqlOp, ok := ops[op]
		if !ok || len(parts) > 2 {
			return unknownParam(key)
		}
		raw := form.Get(key)
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return invalidInteger(key, raw)
		}
		q.filter(column+" "+sqlOp+" ?", n)
	}
	return nil
}

// pageBounds pages through ids held in memory, oldest first, returning the slice bounds of the page.
func pageBounds(ids []string, q listQuery, kind string) (from, to int, more bool, _ *stripeError) {
	from, to = 0, len(ids)
	switch {
	case q.startingAfter != "":
		i := slices.Index(ids, q.startingAfter)
		if i < 0 {
			return 0, 0, false, noSuch(http.StatusBadRequest, kind, q.startingAfter, "starting_after")
		}
		from = i + 1
	case q.endingBefore != "":
		i := slices.Index(ids, q.endingBefore)
		if i < 0 {
			return 0, 0, false, noSuch(http.StatusBadRequest, kind, q.endingBefore, "ending_before")
		}
		to = i
		from = max(0, to-q.limit)
		return from, to, from > 0, nil
	}
	to = min(to, from+q.limit)
	return from, to, to < len(ids), nil
}

// pageRows pages through table newest first (by rowid), as Stripe lists objects; scan reads one row
// of columns. The cursor ids must name rows of the table.
func (s *Simulator) pageRows(ctx context.Context, table, columns, kind string, q listQuery, scan func(rowScanner) (any, error)) (data []any, more bool, err error) {
	where := slices.Clone(q.where)
	args := slices.Clone(q.args)
	order := "DESC"
	for _, c := range []struct{ id, param, op string }{{q.startingAfter, "starting_after", "<"}, {q.endingBefore, "ending_before", ">"}} {
		if c.id == "" {
			continue
		}
		var cursor int64
		err := s.db.QueryRowContext(ctx, `SELECT rowid FROM `+table+` WHERE id = ?`, c.id).Scan(&cursor)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, false, noSuch(http.StatusBadRequest, kind, c.id, c.param)
		}
		if err != nil {
			return nil, false, fmt.Errorf("find %s %s: %w", kind, c.id, err)
		}
		where = append(where, "rowid "+c.op+" ?")
		args = append(args, cursor)
		if c.op == ">" {
			order = "ASC" // the page just before the cursor, read nearest first and turned round below
		}
	}
	query := `SELECT ` + columns + ` FROM ` + table
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY rowid ` + order + ` LIMIT ?`
	rows, err := s.db.QueryContext(ctx, query, append(args, q.limit+1)...)
	if err != nil {
		return nil, false, fmt.Errorf("list %s: %w", kind, err)
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, false, fmt.Errorf("list %s: %w", kind, err)
		}
		data = append(data, v)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("list %s: %w", kind, err)
	}
	if more = len(data) > q.limit; more {
		data = data[:q.limit]
	}
	if order == "ASC" {
		slices.Reverse(data)
	}
	if data == nil {
		data = []any{}
	}
	return data, more, nil
}
