package components

import "time"

// Plan is a membership plan as the plans page offers it.
type Plan struct {
	Code            string
	Name            string
	Interval        string // "month" or "year"
	Amount          int64
	Currency        string
	DiscountPercent int
}

// Membership is the user's membership as their account page shows it; Status is "" when they
// have never subscribed.
type Membership struct {
	Status            string // incomplete, active, past_due, canceled or unpaid
	PlanName          string
	PlanInterval      string
	CurrentPeriodEnd  time.Time
	CancelAtPeriodEnd bool
	DiscountPercent   int
	Invoices          []Invoice
	// Joining is set when the user is back from paying and the confirmation may still be on
	// its way: the panel says so instead of "not a member".
	Joining bool
}

// Member reports whether the membership's perks apply now.
func (m Membership) Member() bool { return m.Status == "active" || m.Status == "past_due" }

// Manageable reports whether there is a subscription to manage in the billing portal.
func (m Membership) Manageable() bool { return m.Member() || m.Status == "unpaid" }

// Invoice is one bill of a membership.
type Invoice struct {
	Paid      bool
	Amount    int64
	Currency  string
	PeriodEnd time.Time
	Created   time.Time
	URL       string
}

// MembershipStatusLabel is a membership status in words.
func MembershipStatusLabel(status string) string {
	switch status {
	case "active":
		return "Active"
	case "past_due":
		return "Payment overdue"
	case "unpaid":
		return "Unpaid"
	case "canceled":
		return "Ended"
	case "incomplete":
		return "Awaiting payment"
	}
	return "Not a member"
}

func perInterval(interval string) string {
	if interval == "year" {
		return "a year"
	}
	return "a month"
}

func dateOnly(t time.Time) string { return t.UTC().Format("2 January 2006") }
