package simulator

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Subscriptions, as Stripe Billing runs them for a Checkout in subscription mode: the first
// invoice is paid at checkout; each renewal bills the customer's default card; a card that
// fails leaves the subscription past_due while the invoice is retried, and unpaid once the
// retries run out; a new card pays the open invoice at once. Time moves only when asked: the
// dev page's "Advance to next renewal" (or POST /v1/test_helpers/subscriptions/{id}/advance)
// is the simulator's test clock.

func newCustomerID() string     { return newID("cus_", 14) }
func newPriceID() string        { return newID("price_", 24) }
func newProductID() string      { return newID("prod_", 14) }
func newSubscriptionID() string { return newID("sub_", 24) }
func newInvoiceID() string      { return newID("in_", 24) }
func newPortalID() string       { return newID("bps_", 24) }

// cardFailsCharges is Stripe's test card that can be saved to a customer (the billing portal
// accepts it) while every charge on it fails: a renewal on it goes past due.
const cardFailsCharges = "4000000000000341"

func init() {
	testCards = append(testCards, testCard{number: cardFailsCharges, brand: "visa", declineCode: "card_declined",
		message: "Your card was declined.", label: "Saves as a membership's card, but every charge fails (renewals fail)"})
}

// attaches reports whether a card can be saved to a customer: one that pays, or the one whose
// charges fail only later.
func attaches(card testCard) bool { return card.declineCode == "" || card.number == cardFailsCharges }

// errNothingToBill means the subscription has no renewal or retry to run now.
var errNothingToBill = errors.New("nothing to bill")

// addInterval is when a period that starts at start ends.
func addInterval(start int64, interval string) int64 {
	t := time.Unix(start, 0).UTC()
	switch interval {
	case "day":
		t = t.AddDate(0, 0, 1)
	case "week":
		t = t.AddDate(0, 0, 7)
	case "year":
		t = t.AddDate(1, 0, 0)
	default:
		t = t.AddDate(0, 1, 0)
	}
	return t.Unix()
}

// cardOf is the test card a customer has on file; ok is false when there is none.
func cardOf(c *customer) (testCard, bool) {
	for _, card := range testCards {
		if card.number == c.CardNumber {
			return card, true
		}
	}
	return testCard{}, false
}

// expandPrices turns each line_items[N][price]=price_… of a Checkout Session into the
// price_data it stands for, so that one parser checks both; it returns the price ids by line.
// An unknown price id is left as it is, for the parser to refuse.
func (s *Simulator) expandPrices(ctx context.Context, form url.Values) (url.Values, map[int]string, error) {
	out := url.Values{}
	ids := map[int]string{}
	for key, vs := range form {
		parts, ok := splitKey(key)
		if !ok || parts[0] != "line_items" || len(parts) != 3 || parts[2] != "price" || len(vs) == 0 {
			out[key] = vs
			continue
		}
		p, err := loadPrice(ctx, s.db, vs[0])
		if errors.Is(err, errNoBillingObject) {
			out[key] = vs
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		var n int
		fmt.Sscan(parts[1], &n)
		ids[n] = p.ID
		prefix := "line_items[" + parts[1] + "][price_data]"
		out.Set(prefix+"[currency]", p.Currency)
		out.Set(prefix+"[unit_amount]", fmt.Sprint(p.UnitAmount))
		out.Set(prefix+"[product_data][name]", p.ProductName)
		if p.Interval != "" {
			out.Set(prefix+"[recurring][interval]", p.Interval)
		}
	}
	return out, ids, nil
}

// prepareSubscriptionCheckout checks a subscription-mode session's customer and price, making an
// inactive price from price_data as Stripe does, and returns what the session adds.
func (s *Simulator) prepareSubscriptionCheckout(t *txn, p *createParams) (*checkoutSubscription, error) {
	if p.customer != "" {
		if _, err := loadCustomer(t.ctx, t, p.customer); errors.Is(err, errNoBillingObject) {
			return nil, noSuch(400, "customer", p.customer, "customer")
		} else if err != nil {
			return nil, err
		}
	}
	if p.mode != modeSubscription {
		return nil, nil
	}
	li := p.lineItems[0]
	priceID := li.PriceID
	if priceID == "" {
		pr := &price{ID: newPriceID(), Created: s.now().Unix(), Product: newProductID(), ProductName: li.Name,
			UnitAmount: li.UnitAmount, Currency: li.Currency, Interval: li.Interval}
		if err := insertPrice(t, pr); err != nil {
			return nil, err
		}
		priceID = pr.ID
	}
	return &checkoutSubscription{Customer: p.customer, Price: priceID, Metadata: p.subscriptionMetadata}, nil
}

// startSubscription completes a subscription-mode session paid by a card that charges: the
// customer (created if the session named none) gets the card, the subscription starts with its
// first invoice paid, and Stripe's events follow in Stripe's order.
func (s *Simulator) startSubscription(t *txn, sess *session, p payment, now int64) error {
	b := sess.Billing
	c := &customer{ID: newCustomerID(), Created: now, Email: p.email}
	if b.Customer != "" {
		var err error
		if c, err = loadCustomer(t.ctx, t, b.Customer); err != nil {
			return err
		}
	}
	c.CardNumber, c.CardBrand = p.card.number, p.card.brand
	c.CardExp = fmt.Sprintf("%02d/%d", p.expMonth, p.expYear)
	if c.Email == "" {
		c.Email = p.email
	}
	if err := saveCustomer(t, c); err != nil {
		return err
	}
	pr, err := loadPrice(t.ctx, t, b.Price)
	if err != nil {
		return err
	}
	sub := &subscription{ID: newSubscriptionID(), Created: now, Customer: c.ID, Price: pr.ID, ItemID: newID("si_", 14),
		Status: subIncomplete, PeriodStart: now, PeriodEnd: addInterval(now, pr.Interval), Metadata: b.Metadata}
	in := &invoice{ID: newInvoiceID(), Created: now, Customer: c.ID, Subscription: sub.ID, Status: invoiceOpen,
		Amount: pr.UnitAmount, Currency: pr.Currency, PeriodStart: sub.PeriodStart, PeriodEnd: sub.PeriodEnd,
		BillingReason: "subscription_create", Price: pr.ID}
	sub.LatestInvoice = in.ID
	if err := s.emitSubscription(t, sub, pr, "customer.subscription.created", nil); err != nil {
		return err
	}
	if err := s.openInvoice(t, in, pr); err != nil {
		return err
	}
	// The first invoice's payment is the session's payment intent and charge.
	sess.PMDetails, sess.PaidEmail = cardDetails(p), p.email
	sess.ChargeID, sess.ChargeCreated, sess.PIStatus, sess.PILastError = newChargeID(), now, piSucceeded, nil
	sess.BalanceTxn = newTxnID()
	if err := s.emit(t, sess, "charge.succeeded", chargeObject(sess)); err != nil {
		return err
	}
	if err := s.emit(t, sess, "payment_intent.succeeded", paymentIntentObject(sess)); err != nil {
		return err
	}
	if err := s.collect(t, sub, in, pr, c); err != nil {
		return err
	}
	b.Customer, b.Subscription = c.ID, sub.ID
	if err := saveCheckoutSubscription(t, sess.ID, b); err != nil {
		return err
	}
	sess.Status, sess.PaymentStatus = statusComplete, paymentPaid
	if err := s.emit(t, sess, "checkout.session.completed", s.sessionObject(sess, expansion{})); err != nil {
		return err
	}
	return saveSession(t, sess)
}

// collect tries to pay an open invoice with the customer's card and moves the subscription as
// Stripe does: active once paid; past_due after a failed attempt; unpaid when retries run out.
func (s *Simulator) collect(t *txn, sub *subscription, in *invoice, pr *price, c *customer) error {
	in.AttemptCount++
	card, ok := cardOf(c)
	before := sub.Status
	if ok && card.declineCode == "" {
		in.Status = invoicePaid
		for _, typ := range []string{"invoice.paid", "invoice.payment_succeeded"} {
			if err := s.emitInvoice(t, in, pr, typ); err != nil {
				return err
			}
		}
		sub.Status = subActive
	} else {
		if err := s.emitInvoice(t, in, pr, "invoice.payment_failed"); err != nil {
			return err
		}
		switch {
		case sub.Status == subIncomplete:
			// A first payment that fails leaves the subscription incomplete.
		case in.AttemptCount >= maxRenewalAttempts:
			sub.Status = subUnpaid
		default:
			sub.Status = subPastDue
		}
	}
	if err := saveInvoice(t, in); err != nil {
		return err
	}
	if sub.Status != before {
		if err := s.emitSubscription(t, sub, pr, "customer.subscription.updated", map[string]any{"status": before}); err != nil {
			return err
		}
	}
	return saveSubscription(t, sub)
}

// advance is the test clock: it moves a subscription to its next renewal and bills it, or,
// while a renewal is past due, to the invoice's next retry. A subscription set to cancel at the
// period's end ends instead.
func (s *Simulator) advance(ctx context.Context, id string) (*subscription, error) {
	var sub *subscription
	err := s.inTx(ctx, func(t *txn) error {
		var err error
		if sub, err = loadSubscription(ctx, t, id); err != nil {
			return err
		}
		pr, err := loadPrice(ctx, t, sub.Price)
		if err != nil {
			return err
		}
		c, err := loadCustomer(ctx, t, sub.Customer)
		if err != nil {
			return err
		}
		switch {
		case sub.Status == subPastDue:
			in, err := loadInvoice(ctx, t, sub.LatestInvoice)
			if err != nil {
				return err
			}
			return s.collect(t, sub, in, pr, c)
		case sub.Status != subActive:
			return errNothingToBill
		case sub.CancelAtPeriodEnd:
			sub.Status, sub.CanceledAt = subCanceled, sub.PeriodEnd
			if err := s.emitSubscription(t, sub, pr, "customer.subscription.deleted", nil); err != nil {
				return err
			}
			return saveSubscription(t, sub)
		}
		prev := map[string]any{"latest_invoice": sub.LatestInvoice}
		return s.startPeriod(t, sub, pr, c, sub.PeriodEnd, "subscription_cycle", prev)
	})
	return sub, err
}

// updateCard attaches a new default card to the customer; a past-due or unpaid subscription's
// open invoice is then paid with it at once.
func (s *Simulator) updateCard(ctx context.Context, customerID string, p payment) error {
	return s.inTx(ctx, func(t *txn) error {
		c, err := loadCustomer(ctx, t, customerID)
		if err != nil {
			return err
		}
		c.CardNumber, c.CardBrand = p.card.number, p.card.brand
		c.CardExp = fmt.Sprintf("%02d/%d", p.expMonth, p.expYear)
		if err := saveCustomer(t, c); err != nil {
			return err
		}
		if err := s.enqueue(t, c.ID, "customer.updated", customerObject(c), map[string]any{"invoice_settings": nil}, origin{}); err != nil {
			return err
		}
		subs, err := subscriptionsWhere(ctx, t, "customer = ? AND status IN ('past_due', 'unpaid')", c.ID)
		if err != nil {
			return err
		}
		for _, sub := range subs {
			pr, err := loadPrice(ctx, t, sub.Price)
			if err != nil {
				return err
			}
			in, err := loadInvoice(ctx, t, sub.LatestInvoice)
			if err != nil {
				return err
			}
			if in.Status != invoiceOpen {
				continue
			}
			if err := s.collect(t, sub, in, pr, c); err != nil {
				return err
			}
		}
		return nil
	})
}

// setCancelAtPeriodEnd cancels a subscription at the end of its period, or resumes it.
func (s *Simulator) setCancelAtPeriodEnd(ctx context.Context, sub *subscription, cancel bool) error {
	return s.inTx(ctx, func(t *txn) error {
		if sub.Status == subCanceled || sub.CancelAtPeriodEnd == cancel {
			return nil
		}
		pr, err := loadPrice(ctx, t, sub.Price)
		if err != nil {
			return err
		}
		sub.CancelAtPeriodEnd = cancel
		if err := s.emitSubscription(t, sub, pr, "customer.subscription.updated", map[string]any{"cancel_at_period_end": !cancel}); err != nil {
			return err
		}
		return saveSubscription(t, sub)
	})
}

// switchPrice moves a subscription to another recurring price. Another interval starts a new
// period at once, billed now (Stripe resets the billing cycle when the interval changes); the
// same interval keeps the period and bills the new price at renewal.
func (s *Simulator) switchPrice(ctx context.Context, sub *subscription, priceID string) error {
	return s.inTx(ctx, func(t *txn) error {
		next, err := loadPrice(ctx, t, priceID)
		if err != nil {
			return err
		}
		old, err := loadPrice(ctx, t, sub.Price)
		if err != nil {
			return err
		}
		if sub.Status == subCanceled || next.ID == old.ID {
			return nil
		}
		prev := map[string]any{"items": subscriptionObject(sub, old).Items}
		sub.Price = next.ID
		if next.Interval == old.Interval {
			if err := s.emitSubscription(t, sub, next, "customer.subscription.updated", prev); err != nil {
				return err
			}
			return saveSubscription(t, sub)
		}
		c, err := loadCustomer(ctx, t, sub.Customer)
		if err != nil {
			return err
		}
		return s.startPeriod(t, sub, next, c, s.now().Unix(), "subscription_update", prev)
	})
}

// startPeriod starts a new billing period of sub at start, priced pr, and bills it: the
// subscription's update (with prev, its attributes before), the invoice's creation and
// finalization, then the payment attempt.
func (s *Simulator) startPeriod(t *txn, sub *subscription, pr *price, c *customer, start int64, reason string, prev map[string]any) error {
	prev["current_period_start"], prev["current_period_end"] = sub.PeriodStart, sub.PeriodEnd
	sub.PeriodStart, sub.PeriodEnd = start, addInterval(start, pr.Interval)
	in := &invoice{ID: newInvoiceID(), Created: s.now().Unix(), Customer: c.ID, Subscription: sub.ID, Status: invoiceOpen,
		Amount: pr.UnitAmount, Currency: pr.Currency, PeriodStart: sub.PeriodStart, PeriodEnd: sub.PeriodEnd,
		BillingReason: reason, Price: pr.ID}
	sub.LatestInvoice = in.ID
	if err := s.emitSubscription(t, sub, pr, "customer.subscription.updated", prev); err != nil {
		return err
	}
	if err := s.openInvoice(t, in, pr); err != nil {
		return err
	}
	return s.collect(t, sub, in, pr, c)
}

// openInvoice announces a new invoice: created, then finalized, as Stripe does before charging it.
func (s *Simulator) openInvoice(t *txn, in *invoice, pr *price) error {
	for _, typ := range []string{"invoice.created", "invoice.finalized"} {
		if err := s.emitInvoice(t, in, pr, typ); err != nil {
			return err
		}
	}
	return nil
}

// Subscription and invoice events share one delivery queue per subscription, in the order they happen.
func (s *Simulator) emitSubscription(t *txn, sub *subscription, pr *price, typ string, prev map[string]any) error {
	return s.enqueue(t, sub.ID, typ, subscriptionObject(sub, pr), prev, origin{})
}

func (s *Simulator) emitInvoice(t *txn, in *invoice, pr *price, typ string) error {
	return s.enqueue(t, in.Subscription, typ, invoiceObject(in, pr), nil, origin{})
}

// recurringPrices lists the active recurring prices in a currency: what the portal offers to switch to.
func recurringPrices(ctx context.Context, q querier, currency string) ([]*price, error) {
	all, err := listPrices(ctx, q, nil)
	if err != nil {
		return nil, err
	}
	var out []*price
	for _, p := range all {
		if p.Active && p.Interval != "" && p.Currency == currency && strings.TrimSpace(p.LookupKey) != "" {
			out = append(out, p)
		}
	}
	return out, nil
}

// perInterval is " per month" for a recurring price's interval, "" for a one-time price.
func perInterval(interval string) string {
	if interval == "" {
		return ""
	}
	return " per " + interval
}
