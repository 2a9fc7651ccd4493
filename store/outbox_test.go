package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

func mustListMail(tb testing.TB, db *DB, status MailStatus) []OutboxMail {
	tb.Helper()
	mails, err := db.ListMail(context.Background(), status, 0)
	if err != nil {
		tb.Fatal(err)
	}
	return mails
}

func mailOfKind(mails []OutboxMail, kind MailKind) []OutboxMail {
	var out []OutboxMail
	for _, m := range mails {
		if m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}

func TestOrderMailQueuedOnce(t *testing.T) {
	t.Run("receipt under duplicate and concurrent events", func(t *testing.T) {
		f := newCheckoutFixture(t, "cs_once")
		var wg sync.WaitGroup
		for i := range 24 {
			// Half the deliveries repeat one event id; the rest are other events saying paid too.
			id := "evt_paid"
			if i%2 == 1 {
				id = fmt.Sprintf("evt_paid_%d", i)
			}
			wg.Go(func() {
				if _, err := f.db.ApplyChange(context.Background(), settleFor(id, f.order, StatusPaid, true)); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		receipts := mailOfKind(mustListMail(t, f.db, ""), MailReceipt)
		if len(receipts) != 1 {
			t.Fatalf("%d receipts queued, want 1", len(receipts))
		}
		r := receipts[0]
		if r.To != "buyer@example.com" || r.OrderID != f.order.ID || r.Status != MailPending {
			t.Errorf("receipt = %+v", r)
		}
		if r.Data.Order == nil || len(r.Data.Order.Items) != 2 || r.Data.Order.Status != StatusPaid || r.Data.Order.PaidAt.IsZero() {
			t.Errorf("receipt data = %+v", r.Data.Order)
		}
	})

	t.Run("refund and failure notices", func(t *testing.T) {
		f := newCheckoutFixture(t, "cs_refund")
		mustApplyEvent(t, f.db, settleFor("evt_1", f.order, StatusPaid, true), OutcomeApplied)
		mustApplyEvent(t, f.db, refundFor("evt_2", "pi_cs_refund", f.order.AmountTotal, true), OutcomeApplied)
		mustApplyEvent(t, f.db, refundFor("evt_3", "pi_cs_refund", f.order.AmountTotal, true), OutcomeStale)
		refunds := mailOfKind(mustListMail(t, f.db, ""), MailRefunded)
		if len(refunds) != 1 || refunds[0].Data.RefundAmount != f.order.AmountTotal {
			t.Fatalf("refund notices = %+v", refunds)
		}

		g := newCheckoutFixture(t, "cs_failed")
		mustApplyEvent(t, g.db, settleFor("evt_4", g.order, StatusProcessing, false), OutcomeApplied)
		mustApplyEvent(t, g.db, settleFor("evt_5", g.order, StatusFailed, false), OutcomeApplied)
		mails := mustListMail(t, g.db, "")
		if len(mails) != 1 || mails[0].Kind != MailPaymentFailed {
			t.Fatalf("mails = %+v, want one payment failed notice", mails)
		}
	})

	t.Run("account address when the payment carried none", func(t *testing.T) {
		f := newCheckoutFixture(t, "cs_account")
		ch := settleFor("evt_1", f.order, StatusPaid, true)
		ch.CustomerEmail = ""
		mustApplyEvent(t, f.db, ch, OutcomeApplied)
		mails := mustListMail(t, f.db, "")
		if len(mails) != 1 || mails[0].To != f.user.Email {
			t.Fatalf("mails = %+v, want the receipt to %s", mails, f.user.Email)
		}
	})

	t.Run("nothing when the order needs review", func(t *testing.T) {
		f := newCheckoutFixture(t, "cs_mismatch")
		ch := settleFor("evt_1", f.order, StatusPaid, true)
		ch.Payment.Amount++
		mustApplyEvent(t, f.db, ch, OutcomeNeedsReview)
		if mails := mustListMail(t, f.db, ""); len(mails) != 0 {
			t.Fatalf("mails = %+v, want none for an order that needs review", mails)
		}
	})
}

func TestClaimMail(t *testing.T) {
	ctx := context.Background()
	f := newCheckoutFixture(t, "cs_claim")
	mustApplyEvent(t, f.db, settleFor("evt_1", f.order, StatusPaid, true), OutcomeApplied)
	lease := 5 * time.Minute

	m, ok, err := f.db.ClaimMail(ctx, fixedNow, lease)
	if err != nil || !ok || m.Attempts != 1 || m.Kind != MailReceipt {
		t.Fatalf("ClaimMail = %+v, %v, %v", m, ok, err)
	}
	if _, ok, _ := f.db.ClaimMail(ctx, fixedNow.Add(lease-time.Second), lease); ok {
		t.Fatal("a claimed message was claimed again within its lease")
	}
	again, ok, err := f.db.ClaimMail(ctx, fixedNow.Add(lease), lease)
	if err != nil || !ok || again.ID != m.ID || again.Attempts != 2 {
		t.Fatalf("after the lease: %+v, %v, %v", again, ok, err)
	}
	if err := f.db.RetryMail(ctx, m.ID, fixedNow.Add(time.Hour), "connection refused"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := f.db.ClaimMail(ctx, fixedNow.Add(time.Hour-time.Second), lease); ok {
		t.Fatal("claimed before its retry time")
	}
	if err := f.db.MarkMailSent(ctx, m.ID, fixedNow.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := f.db.ClaimMail(ctx, fixedNow.Add(48*time.Hour), lease); ok {
		t.Fatal("a sent message was claimed")
	}
	sent := mustListMail(t, f.db, MailSent)
	if len(sent) != 1 || sent[0].SentAt.IsZero() || sent[0].LastError != "" {
		t.Fatalf("sent = %+v", sent)
	}
}

func TestOrderLookupMail(t *testing.T) {
	ctx := context.Background()
	db := mustOpenDB(t)
	products := seededCatalogue(t, db, 1)
	ref := CartRef{Token: "guest-cart"}
	mustCartWithLines(t, db, ref, [2]int64{products[0].ID, 1})
	o, _ := mustPrepareOrder(t, db, ref)
	mustAttachSession(t, db, o.ID, "cs_guest", fixedNow.Add(time.Hour))
	mustApplyEvent(t, db, settleFor("evt_1", mustGetOrder(t, db, o.ID), StatusPaid, true), OutcomeApplied)

	for _, email := range []string{"buyer@example.com", "nobody@example.com", "buyer@example.com"} {
		if err := db.RequestOrderLookup(ctx, email); err != nil {
			t.Fatal(err)
		}
	}
	lookups := mailOfKind(mustListMail(t, db, ""), MailOrderLookup)
	if len(lookups) != 3 {
		t.Fatalf("%d lookups recorded, want 3", len(lookups))
	}
	for _, m := range lookups {
		switch m.To {
		case "buyer@example.com":
			if m.Status != MailPending || len(m.Data.Orders) != 1 || m.Data.Orders[0].ID != o.ID {
				t.Errorf("lookup for the buyer = %+v", m)
			}
		default:
			if m.Status != MailSkipped || len(m.Data.Orders) != 0 {
				t.Errorf("lookup for an address without orders = %+v", m)
			}
		}
	}
}
