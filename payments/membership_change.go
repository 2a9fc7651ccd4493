package payments

import (
	"encoding/json"
	"fmt"

	"github.com/stripe/stripe-go/v76"

	"storefront/store"
)

// Subscription events the shop handles, beside the order events in HandledEventTypes.
var membershipEventTypes = []stripe.EventType{
	stripe.EventTypeCustomerSubscriptionCreated,
	stripe.EventTypeCustomerSubscriptionUpdated,
	stripe.EventTypeCustomerSubscriptionDeleted,
	stripe.EventTypeInvoicePaid,
	stripe.EventTypeInvoicePaymentFailed,
}

func init() { HandledEventTypes = append(HandledEventTypes, membershipEventTypes...) }

// Metadata the shop puts on a subscription checkout: which plan, for whom.
const metaPlan = "plan"

// subscriptionObject is a Subscription, an Invoice or a subscription-mode Checkout Session,
// read through the fields that are stable across API versions.
type subscriptionObject struct {
	ID                string            `json:"id"`
	Object            string            `json:"object"`
	Mode              string            `json:"mode"`
	Status            string            `json:"status"`
	Customer          json.RawMessage   `json:"customer"`
	Subscription      json.RawMessage   `json:"subscription"`
	ClientReferenceID string            `json:"client_reference_id"`
	PaymentStatus     string            `json:"payment_status"`
	Metadata          map[string]string `json:"metadata"`
	CurrentPeriodEnd  int64             `json:"current_period_end"`
	CancelAtPeriodEnd bool              `json:"cancel_at_period_end"`
	Items             struct {
		Data []struct {
			Price struct {
				Recurring *struct {
					Interval string `json:"interval"`
				} `json:"recurring"`
			} `json:"price"`
		} `json:"data"`
	} `json:"items"`
	// An invoice's.
	AmountPaid       int64  `json:"amount_paid"`
	AmountDue        int64  `json:"amount_due"`
	Currency         string `json:"currency"`
	AttemptCount     int64  `json:"attempt_count"`
	BillingReason    string `json:"billing_reason"`
	HostedInvoiceURL string `json:"hosted_invoice_url"`
	Created          int64  `json:"created"`
	PeriodEnd        int64  `json:"period_end"`
	Lines            struct {
		Data []struct {
			Period struct {
				End int64 `json:"end"`
			} `json:"period"`
		} `json:"data"`
	} `json:"lines"`
}

// planOfInterval names the shop's plan billed at a Stripe price interval.
var planOfInterval = map[string]string{"month": "monthly", "year": "yearly"}

// subscriptionStatuses maps Stripe's subscription statuses to the shop's. Stripe's
// incomplete_expired is an incomplete one given up on; trialing (the shop offers no trials)
// and paused read as their nearest.
var subscriptionStatuses = map[string]store.SubscriptionStatus{
	"incomplete": store.SubIncomplete, "incomplete_expired": store.SubCanceled, "trialing": store.SubActive,
	"active": store.SubActive, "past_due": store.SubPastDue, "canceled": store.SubCanceled,
	"unpaid": store.SubUnpaid, "paused": store.SubUnpaid,
}

// membershipChange reads a subscription, invoice or subscription checkout event (typ, created
// and the whole event as payload); handled is false for an event that is not about a membership
// (an order's checkout, say). It decodes the payload itself, through the fields it reads, so
// that it depends on nothing else of how changeOf decodes events.
func membershipChange(typ stripe.EventType, created int64, payload []byte, ch *store.Change) (handled bool, err error) {
	switch typ {
	case stripe.EventTypeCustomerSubscriptionCreated, stripe.EventTypeCustomerSubscriptionUpdated,
		stripe.EventTypeCustomerSubscriptionDeleted, stripe.EventTypeInvoicePaid, stripe.EventTypeInvoicePaymentFailed,
		stripe.EventTypeCheckoutSessionCompleted:
	default:
		return false, nil
	}
	var ev struct {
		Data struct {
			Object subscriptionObject `json:"object"`
		} `json:"data"`
	}
	if err := json.Unmarshal(payload, &ev); err != nil {
		return false, fmt.Errorf("decode event data.object: %w", err)
	}
	obj := ev.Data.Object
	mc := &store.MembershipChange{Customer: idOf(obj.Customer), UserRef: obj.Metadata[metaUserID]}
	switch typ {
	case stripe.EventTypeCheckoutSessionCompleted:
		if obj.Mode != string(stripe.CheckoutSessionModeSubscription) {
			return false, nil // an order's checkout: change.go reads it
		}
		mc.UserRef = obj.ClientReferenceID
		subID := idOf(obj.Subscription)
		if subID == "" {
			break
		}
		paid := obj.PaymentStatus == "paid"
		mc.Subscription = &store.SubscriptionSnapshot{ID: subID, Plan: obj.Metadata[metaPlan], Status: store.SubIncomplete,
			Seen: created, CheckoutPaid: paid}
	case stripe.EventTypeInvoicePaid, stripe.EventTypeInvoicePaymentFailed:
		subID := idOf(obj.Subscription)
		if subID == "" {
			return false, nil // a one-off invoice: not a membership's
		}
		periodEnd := obj.PeriodEnd
		if len(obj.Lines.Data) > 0 {
			// An invoice's own period_end is when it was drawn up; its line says what it pays for.
			periodEnd = obj.Lines.Data[0].Period.End
		}
		paid := typ == stripe.EventTypeInvoicePaid
		amount := obj.AmountDue
		if paid {
			amount = obj.AmountPaid
		}
		mc.Invoice = &store.InvoiceSnapshot{ID: obj.ID, SubscriptionID: subID, Paid: paid, Amount: amount,
			Currency: obj.Currency, PeriodEnd: periodEnd, AttemptCount: obj.AttemptCount, HostedURL: obj.HostedInvoiceURL,
			Created: obj.Created, Seen: created, Renewal: obj.BillingReason == "subscription_cycle"}
	default:
		status, ok := subscriptionStatuses[obj.Status]
		if !ok {
			return true, fmt.Errorf("subscription %s has unknown status %q", obj.ID, obj.Status)
		}
		if typ == stripe.EventTypeCustomerSubscriptionDeleted {
			status = store.SubCanceled
		}
		plan := ""
		if items := obj.Items.Data; len(items) > 0 && items[0].Price.Recurring != nil {
			plan = planOfInterval[items[0].Price.Recurring.Interval]
		}
		mc.Subscription = &store.SubscriptionSnapshot{ID: obj.ID, Plan: plan, Status: status,
			CurrentPeriodEnd: obj.CurrentPeriodEnd, CancelAtPeriodEnd: obj.CancelAtPeriodEnd, Seen: created}
	}
	ch.Effect, ch.Membership = store.EffectMembership, mc
	return true, nil
}
