package simulator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// devView is the simulator's own dashboard: recent sessions and the state of webhook delivery.
type devView struct {
	BaseURL    string
	WebhookURL string
	Rows       []devRow
	Intents    []devRow // payment intents of the PaymentIntents API, with ClientReferenceID the order
	Pending    int
	LastError  string
	Error      string
	Faults     faultsView
	// Subscriptions are the billing test clock's rows (portal.go).
	Subscriptions []devSubscription
}

// faultsView fills the dev page's fault injection form.
type faultsView struct {
	Active    string // the SIMULATOR_FAULTS spelling of what is on; "" when nothing is
	Drop      string
	Duplicate string
	Delay     string
	Reorder   bool
	NewerAPI  bool
}

func newFaultsView(f faults) faultsView {
	v := faultsView{Active: f.String(), Reorder: f.Reorder, NewerAPI: f.NewerAPI}
	if f.Drop > 0 {
		v.Drop = strconv.FormatFloat(f.Drop, 'g', -1, 64)
	}
	if f.Duplicate > 0 {
		v.Duplicate = strconv.FormatFloat(f.Duplicate, 'g', -1, 64)
	}
	if f.Delay > 0 {
		v.Delay = f.Delay.String()
	}
	return v
}

type devRow struct {
	ID                string
	PayURL            string
	Created           string
	Amount            string
	Refunded          string
	Status            string
	PaymentStatus     string
	ClientReferenceID string
	PaymentIntent     string
	CanRefund         bool
	CanExpire         bool
	CanSettle         bool // a bank transfer waits for its result
}

func (s *Simulator) handleDevPage(w http.ResponseWriter, r *http.Request) {
	s.renderDev(w, r, http.StatusOK, "")
}

func (s *Simulator) renderDev(w http.ResponseWriter, r *http.Request, status int, msg string) {
	v, err := s.devView(r.Context())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	v.Error = msg
	s.render(w, r, status, devPage(v))
}

func (s *Simulator) devView(ctx context.Context) (devView, error) {
	v := devView{BaseURL: s.baseURL, WebhookURL: s.cfg.WebhookURL, Faults: newFaultsView(s.currentFaults())}
	subscriptions, err := s.devSubscriptions(ctx) // the test clock's rows (portal.go)
	if err != nil {
		return v, err
	}
	v.Subscriptions = subscriptions
	sessions, err := recentSessions(ctx, s.db, 50)
	if err != nil {
		return v, err
	}
	for _, sess := range sessions {
		row := devRow{
			ID:            sess.ID,
			Created:       time.Unix(sess.Created, 0).UTC().Format("2006-01-02 15:04:05Z"),
			Amount:        formatMoney(sess.AmountTotal, sess.Currency),
			Status:        sess.Status,
			PaymentStatus: sess.PaymentStatus,
			PaymentIntent: sess.PaymentIntent,
			CanRefund:     sess.refundable() > 0,
			CanExpire:     sess.Status == statusOpen,
		}
		if sess.ClientReferenceID != nil {
			row.ClientReferenceID = *sess.ClientReferenceID
		}
		if sess.AmountRefunded > 0 {
			row.Refunded = formatMoney(sess.AmountRefunded, sess.Currency)
		}
		if row.CanExpire {
			row.PayURL = s.payURL(sess.ID)
		}
		if err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM jobs WHERE session_id = ? AND done_ms IS NULL)`,
			sess.ID).Scan(&row.CanSettle); err != nil {
			return v, fmt.Errorf("find pending jobs: %w", err)
		}
		v.Rows = append(v.Rows, row)
	}
	if v.Intents, err = s.devIntentRows(ctx); err != nil {
		return v, err
	}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MAX(CASE WHEN attempts > 0 THEN last_error END), '')
		FROM events WHERE delivered_ms IS NULL AND abandoned_ms IS NULL`).Scan(&v.Pending, &v.LastError); err != nil {
		return v, fmt.Errorf("count pending deliveries: %w", err)
	}
	return v, nil
}

// devIntentRows lists the newest intents of the PaymentIntents API for the dev page.
func (s *Simulator) devIntentRows(ctx context.Context) ([]devRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM payment_intents ORDER BY created DESC, rowid DESC LIMIT 50`)
	if err != nil {
		return nil, fmt.Errorf("list payment intents: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list payment intents: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	var out []devRow
	for _, id := range ids {
		in, err := loadIntent(ctx, s.db, id)
		if err != nil {
			return nil, err
		}
		row := devRow{ID: in.ID, Created: time.Unix(in.Created, 0).UTC().Format("2006-01-02 15:04:05Z"),
			Amount: formatMoney(in.Amount, in.Currency), Status: in.Status, ClientReferenceID: in.Metadata["order_id"],
			CanRefund: in.asSession().refundable() > 0, CanSettle: in.Status == piProcessing}
		if in.AmountRefunded > 0 {
			row.Refunded = formatMoney(in.AmountRefunded, in.Currency)
		}
		out = append(out, row)
	}
	return out, nil
}

// handleDevRefund refunds whatever is left of a session's payment (or of a payment intent's),
// exactly as POST /v1/refunds would.
func (s *Simulator) handleDevRefund(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if strings.HasPrefix(id, "pi_") {
		s.devRefund(w, r, id)
		return
	}
	sess, err := loadSession(r.Context(), s.db, "id", id)
	if errors.Is(err, errNoSession) {
		s.renderDev(w, r, http.StatusNotFound, "No such checkout session: "+id)
		return
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if sess.PaymentIntent == "" {
		s.renderDev(w, r, http.StatusBadRequest, "Session "+id+" has not been paid, so there is nothing to refund.")
		return
	}
	s.devRefund(w, r, sess.PaymentIntent)
}

// devRefund refunds what is left of the payment intent's charge and returns to the dev page.
func (s *Simulator) devRefund(w http.ResponseWriter, r *http.Request, paymentIntent string) {
	if _, err := s.refund(r.Context(), refundRequest{paymentIntent: paymentIntent}, origin{}); err != nil {
		var se *stripeError
		if errors.As(err, &se) {
			s.renderDev(w, r, se.Status, se.Message)
			return
		}
		s.pageError(w, r, err)
		return
	}
	s.log.Info("simulated refund from the dev page", "payment_intent", paymentIntent, "id", r.PathValue("id"))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// handleDevSettle makes a bank transfer's pending result due now, instead of after the
// simulator's delay: for a developer who does not want to wait, and for tests that must see
// the processing state before the result.
func (s *Simulator) handleDevSettle(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var n int64
	err := s.inTx(r.Context(), func(t *txn) error {
		res, err := t.ExecContext(r.Context(), `UPDATE jobs SET due_ms = ? WHERE session_id = ? AND done_ms IS NULL`,
			time.Now().UnixMilli(), id)
		if err == nil {
			n, err = res.RowsAffected()
		}
		return err
	})
	switch {
	case err != nil:
		s.pageError(w, r, err)
	case n == 0:
		s.renderDev(w, r, http.StatusBadRequest, id+" has no bank transfer waiting for its result.")
	default:
		s.log.Info("bank transfer settled now from the dev page", "session_id", id)
		http.Redirect(w, r, "/", http.StatusSeeOther)
	}
}

// handleDevExpire expires an open session, exactly as POST /v1/checkout/sessions/{id}/expire would.
func (s *Simulator) handleDevExpire(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	_, err := s.expireSession(r.Context(), id, origin{})
	switch {
	case errors.Is(err, errNoSession):
		s.renderDev(w, r, http.StatusNotFound, "No such checkout session: "+id)
	case errors.Is(err, errNotOpen):
		s.renderDev(w, r, http.StatusBadRequest, "Session "+id+" is not open, so it cannot be expired.")
	case err != nil:
		s.pageError(w, r, err)
	default:
		http.Redirect(w, r, "/", http.StatusSeeOther)
	}
}

// maxDevForm bounds the dev page's form posts, which are a few dozen bytes.
const maxDevForm = 4 << 10

// handleDevFaults switches webhook fault injection from the dev page's form: fields drop and
// duplicate (chances from 0 to 1), delay (a duration such as 2s), reorder and newer_api_version
// (checkboxes). An empty form switches every fault off.
func (s *Simulator) handleDevFaults(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxDevForm)
	if err := r.ParseForm(); err != nil {
		s.renderDev(w, r, http.StatusBadRequest, "The fault injection form could not be read.")
		return
	}
	var spec []string
	for _, field := range []struct{ name, fault string }{{"drop", "drop"}, {"duplicate", "duplicate"}, {"delay", "delay"}} {
		if v := strings.TrimSpace(r.PostForm.Get(field.name)); v != "" && v != "0" {
			spec = append(spec, field.fault+":"+v)
		}
	}
	for _, box := range []struct{ name, fault string }{{"reorder", "reorder"}, {"newer_api_version", "newer-api-version"}} {
		if r.PostForm.Get(box.name) != "" {
			spec = append(spec, box.fault)
		}
	}
	f, err := parseFaults(strings.Join(spec, ","))
	if err != nil {
		s.renderDev(w, r, http.StatusBadRequest, strings.TrimPrefix(err.Error(), "simulator: "))
		return
	}
	s.setFaults(f)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
