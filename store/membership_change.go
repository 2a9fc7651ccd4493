package store

// MembershipChange is what one payment event says about a membership: a new snapshot of the
// subscription, an invoice's outcome, or both. The payments package fills it from the
// provider's objects; the store keeps the newest snapshot (see applyMembership).
type MembershipChange struct {
	// Customer is the provider's customer the subscription belongs to; UserRef is the shop's
	// user id as the provider carried it (client reference or metadata), when it did.
	Customer string `json:"customer,omitempty"`
	UserRef  string `json:"userRef,omitempty"`

	Subscription *SubscriptionSnapshot `json:"subscription,omitempty"`
	Invoice      *InvoiceSnapshot      `json:"invoice,omitempty"`
}

// SubscriptionSnapshot is a subscription as one event saw it.
type SubscriptionSnapshot struct {
	ID     string             `json:"id"`
	Plan   string             `json:"plan,omitempty"` // a plan code; "" when the event does not say
	Status SubscriptionStatus `json:"status"`
	// CurrentPeriodEnd is when the paid-for period ends (Unix seconds); 0 when the event does
	// not say (a completed checkout), which makes the snapshot older than any that does.
	CurrentPeriodEnd  int64 `json:"currentPeriodEnd,omitempty"`
	CancelAtPeriodEnd bool  `json:"cancelAtPeriodEnd,omitempty"`
	// Seen is when the provider took the snapshot: its event's created time (Unix seconds).
	Seen int64 `json:"seen"`
	// CheckoutPaid is set by a completed checkout that was paid: the first invoice is paid.
	CheckoutPaid bool `json:"checkoutPaid,omitempty"`
}

// InvoiceSnapshot is an invoice's outcome as one event saw it.
type InvoiceSnapshot struct {
	ID             string `json:"id"`
	SubscriptionID string `json:"subscriptionId"`
	Paid           bool   `json:"paid"`
	Amount         int64  `json:"amount"`
	Currency       string `json:"currency"`
	// PeriodEnd is the end of the service period the invoice pays for (Unix seconds).
	PeriodEnd    int64  `json:"periodEnd"`
	AttemptCount int64  `json:"attemptCount,omitempty"`
	HostedURL    string `json:"hostedUrl,omitempty"`
	Created      int64  `json:"created"`
	Seen         int64  `json:"seen"`
	// Renewal is set for an invoice that renews a running subscription (not its first).
	Renewal bool `json:"renewal,omitempty"`
}
