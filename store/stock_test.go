package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// setStock limits a product's stock, as an admin's edit would.
func setStock(tb testing.TB, db *DB, productID, stock int64) {
	tb.Helper()
	mustExec(tb, db, "UPDATE products SET stock = ? WHERE id = ?", stock, productID)
}

func mustProduct(tb testing.TB, db *DB, id int64) Product {
	tb.Helper()
	p, err := db.AnyProduct(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// stockShopper is a user whose cart holds quantity of product, with a checkout under way.
func stockShopper(tb testing.TB, db *DB, productID int64, quantity int64, sessionID string) (CartRef, Order, error) {
	tb.Helper()
	ref := CartRef{UserID: mustCreateUser(tb, db).ID}
	mustCartWithLines(tb, db, ref, [2]int64{productID, quantity})
	o, _, err := db.PrepareOrder(context.Background(), ref)
	if err == nil {
		mustAttachSession(tb, db, o.ID, sessionID, fixedNow.Add(31*time.Minute))
		o = mustGetOrder(tb, db, o.ID)
	}
	return ref, o, err
}

func wantCounters(tb testing.TB, db *DB, productID, held, sold int64) {
	tb.Helper()
	p := mustProduct(tb, db, productID)
	if p.Held != held || p.Sold != sold {
		tb.Errorf("product %d held %d sold %d, want held %d sold %d", productID, p.Held, p.Sold, held, sold)
	}
}

func TestStockHolds(t *testing.T) {
	t.Parallel()
	t.Run("a checkout holds its quantities; one asking for more than is free is refused and writes nothing", func(t *testing.T) {
		db := mustOpenDB(t)
		mug := seededCatalogue(t, db, 1)[0]
		setStock(t, db, mug.ID, 3)
		if _, _, err := stockShopper(t, db, mug.ID, 2, "cs_a"); err != nil {
			t.Fatal(err)
		}
		wantCounters(t, db, mug.ID, 2, 0)
		_, _, err := stockShopper(t, db, mug.ID, 2, "cs_b")
		var short *StockError
		if !errors.As(err, &short) || short.Product != mug.Name || short.Available != 1 {
			t.Fatalf("second checkout: %v, want a StockError naming %s with 1 left", err, mug.Name)
		}
		if !strings.Contains(err.Error(), mug.Name) {
			t.Errorf("message %q does not name the product", err.Error())
		}
		wantCounters(t, db, mug.ID, 2, 0)
		var orders int
		db.read.QueryRow("SELECT count(*) FROM orders").Scan(&orders)
		if orders != 1 {
			t.Errorf("%d orders, want 1: the refused checkout wrote one", orders)
		}
	})
	t.Run("paid sells, expired and failed release, a refund does not restock", func(t *testing.T) {
		db := mustOpenDB(t)
		mug := seededCatalogue(t, db, 1)[0]
		setStock(t, db, mug.ID, 10)
		_, paid, _ := stockShopper(t, db, mug.ID, 2, "cs_paid")
		_, expired, _ := stockShopper(t, db, mug.ID, 3, "cs_expired")
		_, failed, _ := stockShopper(t, db, mug.ID, 1, "cs_failed")
		wantCounters(t, db, mug.ID, 6, 0)
		mustApplyEvent(t, db, settleFor("evt_paid", paid, StatusPaid, true), OutcomeApplied)
		mustApplyEvent(t, db, settleFor("evt_expired", expired, StatusExpired, false), OutcomeApplied)
		mustApplyEvent(t, db, settleFor("evt_processing", failed, StatusProcessing, true), OutcomeApplied)
		wantCounters(t, db, mug.ID, 1, 2)
		mustApplyEvent(t, db, settleFor("evt_failed", failed, StatusFailed, false), OutcomeApplied)
		wantCounters(t, db, mug.ID, 0, 2)
		if p := mustProduct(t, db, mug.ID); p.Available() != 8 {
			t.Errorf("available %d, want 8", p.Available())
		}
		mustApplyEvent(t, db, refundFor("evt_refund", "pi_cs_paid", 2*mug.Price, true), OutcomeApplied)
		wantOrderStatus(t, db, paid.ID, StatusRefunded)
		wantCounters(t, db, mug.ID, 0, 2)
	})
	t.Run("a late payment takes stock if it is there, else the order needs review as oversold", func(t *testing.T) {
		db := mustOpenDB(t)
		mug := seededCatalogue(t, db, 1)[0]
		setStock(t, db, mug.ID, 3)
		_, late, _ := stockShopper(t, db, mug.ID, 2, "cs_late")
		mustApplyEvent(t, db, settleFor("evt_late_expired", late, StatusExpired, false), OutcomeApplied)
		_, other, err := stockShopper(t, db, mug.ID, 2, "cs_other")
		if err != nil {
			t.Fatal(err)
		}
		mustApplyEvent(t, db, settleFor("evt_other_paid", other, StatusPaid, true), OutcomeApplied)
		res := mustApplyEvent(t, db, settleFor("evt_late_paid", late, StatusPaid, true), OutcomeNeedsReview)
		if !strings.HasPrefix(res.Reason, ReasonOversold) {
			t.Errorf("reason %q, want oversold", res.Reason)
		}
		o := wantOrderStatus(t, db, late.ID, StatusNeedsReview)
		if !strings.HasPrefix(o.ReviewReason, ReasonOversold) {
			t.Errorf("review reason %q, want oversold", o.ReviewReason)
		}
		wantCounters(t, db, mug.ID, 0, 2)

		_, lucky, _ := stockShopper(t, db, mug.ID, 1, "cs_lucky")
		mustApplyEvent(t, db, settleFor("evt_lucky_expired", lucky, StatusExpired, false), OutcomeApplied)
		mustApplyEvent(t, db, settleFor("evt_lucky_paid", lucky, StatusPaid, true), OutcomeApplied)
		wantCounters(t, db, mug.ID, 0, 3)
	})
	t.Run("a changed cart's new checkout replaces the old one's hold", func(t *testing.T) {
		db := mustOpenDB(t)
		mug := seededCatalogue(t, db, 1)[0]
		setStock(t, db, mug.ID, 5)
		ref, first, _ := stockShopper(t, db, mug.ID, 2, "cs_first")
		mustAddToCart(t, db, ref, mug.ID, 1)
		second, reused := mustPrepareOrder(t, db, ref)
		if reused || second.ID == first.ID {
			t.Fatal("a changed cart reused its old order")
		}
		wantCounters(t, db, mug.ID, 3, 0)
		if got := mustGetOrder(t, db, first.ID).StockState; got != StockReleased {
			t.Errorf("old checkout stock %s, want released", got)
		}
		again, reused := mustPrepareOrder(t, db, ref)
		if !reused || again.ID != second.ID {
			t.Fatalf("unchanged cart: order %d reused %t, want %d reused", again.ID, reused, second.ID)
		}
		wantCounters(t, db, mug.ID, 3, 0)
	})
	t.Run("a failed session creation releases the hold", func(t *testing.T) {
		db := mustOpenDB(t)
		mug := seededCatalogue(t, db, 1)[0]
		setStock(t, db, mug.ID, 5)
		ref := CartRef{UserID: mustCreateUser(t, db).ID}
		mustCartWithLines(t, db, ref, [2]int64{mug.ID, 4})
		o, _ := mustPrepareOrder(t, db, ref)
		wantCounters(t, db, mug.ID, 4, 0)
		if err := db.FailCheckout(context.Background(), o.ID); err != nil {
			t.Fatal(err)
		}
		wantCounters(t, db, mug.ID, 0, 0)
	})
}

func TestCatalogueVersionFollowsStock(t *testing.T) {
	t.Parallel()
	db := mustOpenDB(t)
	ctx := context.Background()
	products := seededCatalogue(t, db, 2)
	limited, unlimited := products[0], products[1]
	setStock(t, db, limited.ID, 5)
	version := func() int64 {
		_, v, err := db.Catalogue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	before := version()
	stockShopper(t, db, unlimited.ID, 1, "cs_unlimited")
	if got := version(); got != before {
		t.Errorf("holding an unlimited product moved the catalogue version %d → %d", before, got)
	}
	stockShopper(t, db, limited.ID, 1, "cs_limited")
	if got := version(); got == before {
		t.Error("holding a limited product left the catalogue version as it was: its 'only N left' would be stale")
	}
	list, _, _ := db.Catalogue(ctx)
	for _, p := range list {
		if p.ID == limited.ID && p.Available() != 4 {
			t.Errorf("catalogue shows %d available, want 4", p.Available())
		}
	}
}

func TestDisputes(t *testing.T) {
	t.Parallel()
	dispute := func(id, pi string) Change {
		return withEvent(id, "charge.dispute.created", "dp_"+id, Change{Order: OrderRef{PaymentIntent: pi}, Effect: EffectDispute})
	}
	t.Run("a dispute moves a paid order to review", func(t *testing.T) {
		f := newCheckoutFixture(t, "cs_disputed")
		mustApplyEvent(t, f.db, settleFor("evt_paid", f.order, StatusPaid, true), OutcomeApplied)
		mustApplyEvent(t, f.db, dispute("evt_dispute", "pi_cs_disputed"), OutcomeNeedsReview)
		o := wantOrderStatus(t, f.db, f.order.ID, StatusNeedsReview)
		if o.ReviewReason != ReasonDisputed {
			t.Errorf("reason %q, want disputed", o.ReviewReason)
		}
	})
	t.Run("a dispute that arrives first ends the same way", func(t *testing.T) {
		f := newCheckoutFixture(t, "cs_early")
		mustApplyEvent(t, f.db, settleFor("evt_processing", f.order, StatusProcessing, true), OutcomeApplied)
		mustApplyEvent(t, f.db, dispute("evt_dispute", "pi_cs_early"), OutcomeRecorded)
		mustApplyEvent(t, f.db, settleFor("evt_paid", f.order, StatusPaid, true), OutcomeNeedsReview)
		o := wantOrderStatus(t, f.db, f.order.ID, StatusNeedsReview)
		if o.ReviewReason != ReasonDisputed {
			t.Errorf("reason %q, want disputed", o.ReviewReason)
		}
	})
	t.Run("a dispute for an unknown payment is kept", func(t *testing.T) {
		db := mustOpenDB(t)
		mustApplyEvent(t, db, dispute("evt_unknown", "pi_unknown"), OutcomeUnmatched)
	})
}
