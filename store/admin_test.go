package store

import (
	"context"
	"errors"
	"testing"
)

var testAdmin = Actor{ID: 0, Email: "boss@example.com"}

func TestUpdateProductVersion(t *testing.T) {
	t.Parallel()
	db := mustOpenDB(t)
	ctx := context.Background()
	p := seededCatalogue(t, db, 2)[0]
	in := ProductInput{Slug: p.Slug, Name: "First edit", Price: 100, Active: true}
	saved, err := db.UpdateProduct(ctx, testAdmin, p.ID, p.Version, in)
	if err != nil || saved.Version != p.Version+1 || saved.Name != "First edit" {
		t.Fatalf("first edit: %+v, %v", saved, err)
	}
	in.Name = "Second edit, made from the old version"
	if _, err := db.UpdateProduct(ctx, testAdmin, p.ID, p.Version, in); !errors.Is(err, ErrStale) {
		t.Errorf("edit of a stale version: %v, want ErrStale", err)
	}
	if got := mustProduct(t, db, p.ID); got.Name != "First edit" {
		t.Errorf("name %q: the first edit was lost", got.Name)
	}
	other := seededCatalogue(t, db, 2)[1]
	in.Slug = other.Slug
	if _, err := db.UpdateProduct(ctx, testAdmin, p.ID, saved.Version, in); !errors.Is(err, ErrConflict) {
		t.Errorf("taken slug: %v, want ErrConflict", err)
	}
	if _, err := db.UpdateProduct(ctx, testAdmin, 9999, 1, ProductInput{Slug: "x", Name: "x", Price: 1}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown product: %v, want ErrNotFound", err)
	}
}

func TestRequestRefund(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newCheckoutFixture(t, "cs_refund")
	if _, _, err := f.db.RequestRefund(ctx, testAdmin, f.order.ID, 0); err == nil {
		t.Error("a refund of an unpaid order was accepted")
	}
	mustApplyEvent(t, f.db, settleFor("evt_paid", f.order, StatusPaid, true), OutcomeApplied)
	total := f.order.AmountTotal
	if _, _, err := f.db.RequestRefund(ctx, testAdmin, f.order.ID, total+1); err == nil {
		t.Error("a refund above the total was accepted")
	}
	first, _, err := f.db.RequestRefund(ctx, testAdmin, f.order.ID, 500)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.db.RequestRefund(ctx, testAdmin, f.order.ID, total-499); err == nil {
		t.Error("a second refund above what is left was accepted")
	}
	if err := f.db.RefundFailed(ctx, first.ID, "refused"); err != nil {
		t.Fatal(err)
	}
	all, _, err := f.db.RequestRefund(ctx, testAdmin, f.order.ID, 0)
	if err != nil || all.Amount != total {
		t.Fatalf("refund of the rest after a failed one: %+v, %v; want all %d", all, err, total)
	}
	o := mustGetOrder(t, f.db, f.order.ID)
	if pending, _ := f.db.RefundPending(ctx, o); pending != total {
		t.Errorf("pending %d, want %d", pending, total)
	}
	if o.Status != StatusPaid {
		t.Errorf("status %s before the provider reports the refund, want paid", o.Status)
	}
	mustApplyEvent(t, f.db, refundFor("evt_refunded", "pi_cs_refund", total, true), OutcomeApplied)
	o = wantOrderStatus(t, f.db, f.order.ID, StatusRefunded)
	if pending, _ := f.db.RefundPending(ctx, o); pending != 0 {
		t.Errorf("pending %d after the refund was reported, want 0", pending)
	}
}

func TestAcceptAsPaid(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newCheckoutFixture(t, "cs_review")
	ch := settleFor("evt_wrong", f.order, StatusPaid, true)
	ch.Payment.Amount--
	mustApplyEvent(t, f.db, ch, OutcomeNeedsReview)
	if _, err := f.db.AcceptAsPaid(ctx, testAdmin, f.order.ID, " "); err == nil {
		t.Error("accepted without a note")
	}
	o, err := f.db.AcceptAsPaid(ctx, testAdmin, f.order.ID, "checked the bank statement")
	if err != nil || o.Status != StatusPaid || o.StockState != StockSold {
		t.Fatalf("accept: %+v, %v", o, err)
	}
	if _, err := f.db.AcceptAsPaid(ctx, testAdmin, f.order.ID, "again"); err == nil {
		t.Error("accepted an order that is not under review")
	}
	entries, _ := f.db.AuditLog(ctx, 5, 0)
	if len(entries) == 0 || entries[0].Action != "order.accept" {
		t.Errorf("audit %+v, want the accept first", entries)
	}
}

func TestReapplyEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newCheckoutFixture(t, "cs_real")
	stray := settleFor("evt_stray", f.order, StatusPaid, true)
	stray.Order = OrderRef{SessionID: "cs_fixed_later"}
	mustApplyEvent(t, f.db, stray, OutcomeUnmatched)
	if res, err := f.db.ReapplyEvent(ctx, testAdmin, "evt_stray"); err != nil || res.Outcome != OutcomeUnmatched {
		t.Fatalf("re-apply while still unmatched: %+v, %v", res, err)
	}
	// An operator fixes the order's session id by hand; the event now finds it.
	if _, err := f.db.write.Exec(f.db.d.query("UPDATE orders SET checkout_session_id = 'cs_fixed_later' WHERE id = ?"), f.order.ID); err != nil {
		t.Fatal(err)
	}
	res, err := f.db.ReapplyEvent(ctx, testAdmin, "evt_stray")
	if err != nil || res.Outcome != OutcomeApplied || res.Order == nil || res.Order.Status != StatusPaid {
		t.Fatalf("re-apply: %+v, %v", res, err)
	}
	var inv *InvalidError
	if _, err := f.db.ReapplyEvent(ctx, testAdmin, "evt_stray"); !errors.As(err, &inv) {
		t.Errorf("second re-apply: %v, want refused", err)
	}
	var rows int
	rows = countRows(t, f.db, "SELECT count(*) FROM stripe_events WHERE id = 'evt_stray'")
	e, _ := f.db.Event(ctx, "evt_stray")
	if rows != 1 || e.Outcome != OutcomeApplied || e.OrderID != f.order.ID {
		t.Errorf("%d rows, outcome %s, order %d: want one row, applied, order %d", rows, e.Outcome, e.OrderID, f.order.ID)
	}
	if _, err := f.db.ReapplyEvent(ctx, testAdmin, "evt_none"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown event: %v, want ErrNotFound", err)
	}
	if p := mustProduct(t, f.db, f.products[0].ID); p.Sold != 2 {
		t.Errorf("sold %d after the re-applied payment, want 2", p.Sold)
	}
}
