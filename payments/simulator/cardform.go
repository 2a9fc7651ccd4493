package simulator

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// testCard is one of Stripe's documented test card numbers.
type testCard struct {
	number      string
	brand       string
	declineCode string // "" for a card that pays
	message     string // what the customer is told when it is declined
	label       string // what the hosted page says it does
}

// testCards are the cards the hosted page accepts; every other number is refused so nobody types a real one.
var testCards = []testCard{
	{number: "4242424242424242", brand: "visa", label: "Visa: payment succeeds"},
	{number: "5555555555554444", brand: "mastercard", label: "Mastercard: payment succeeds"},
	{number: "4000000000000002", brand: "visa", declineCode: "generic_decline", message: "Your card was declined.", label: "Declined (generic decline)"},
	{number: "4000000000009995", brand: "visa", declineCode: "insufficient_funds", message: "Your card has insufficient funds.", label: "Declined (insufficient funds)"},
}

// testAccount is a test bank account number for the delayed bank transfer.
type testAccount struct {
	number   string
	succeeds bool
	label    string
}

var testAccounts = []testAccount{
	{number: "000123456789", succeeds: true, label: "Transfer succeeds after a short delay"},
	{number: "000111111116", succeeds: false, label: "Transfer fails after a short delay"},
}

// payForm is what the customer typed into the hosted page, kept to re-render it with errors.
type payForm struct {
	Email         string
	Method        string
	CardNumber    string
	Expiry        string
	AccountNumber string
	Errors        map[string]string // keyed by form field name
}

// readPayForm takes the fields of POST /c/pay/{id}; CVC is deliberately not echoed back.
func readPayForm(v url.Values) payForm {
	return payForm{
		Email:         strings.TrimSpace(v.Get("email")),
		Method:        v.Get("method"),
		CardNumber:    strings.TrimSpace(v.Get("card_number")),
		Expiry:        strings.TrimSpace(v.Get("expiry")),
		AccountNumber: strings.TrimSpace(v.Get("account_number")),
		Errors:        map[string]string{},
	}
}

// validate checks the form like Checkout's own field checks, returning a payment when it is complete.
// A bank transfer is a choice only when the session's currency has a bank debit (banks).
func (f *payForm) validate(cvc string, now time.Time, banks bool) (payment, bool) {
	if f.Method == "" {
		// Browsers always send the checked radio; a hand-written post without one means a card.
		f.Method = methodCard
	}
	p := payment{email: f.Email, method: f.Method}
	switch {
	case f.Email == "":
		f.Errors["email"] = "Enter your email address."
	case !validEmail(f.Email):
		f.Errors["email"] = "Enter a valid email address, like name@example.com."
	}
	switch f.Method {
	case methodCard:
		p.card, p.expMonth, p.expYear = f.validateCard(strings.TrimSpace(cvc), now)
	case methodBankTransfer:
		if !banks {
			f.Errors["method"] = "Bank transfers are not available in this currency: pay by card."
			break
		}
		p.account = f.validateAccount()
	default:
		f.Errors["method"] = "Choose a payment method."
	}
	return p, len(f.Errors) == 0
}

func (f *payForm) validateCard(cvc string, now time.Time) (testCard, int, int) {
	var card testCard
	number := strings.NewReplacer(" ", "", "-", "").Replace(f.CardNumber)
	switch {
	case number == "":
		f.Errors["card_number"] = "Enter your card number."
	case !allDigits(number):
		f.Errors["card_number"] = "Your card number is invalid."
	case len(number) < 12 || len(number) > 19:
		f.Errors["card_number"] = "Your card number is incomplete."
	case !luhn(number):
		f.Errors["card_number"] = "Your card number is invalid."
	default:
		found := false
		for _, c := range testCards {
			if c.number == number {
				card, found = c, true
			}
		}
		if !found {
			f.Errors["card_number"] = "This is a simulated checkout: use one of the test cards listed on this page."
		}
	}

	month, year, ok := parseExpiry(f.Expiry)
	switch {
	case f.Expiry == "":
		f.Errors["expiry"] = "Enter your card's expiration date (MM/YY)."
	case !ok:
		f.Errors["expiry"] = "Your card's expiration date is incomplete: use MM/YY."
	case year < now.Year() || (year == now.Year() && month < int(now.Month())):
		f.Errors["expiry"] = "Your card's expiration date is in the past."
	case year > now.Year()+50:
		f.Errors["expiry"] = "Your card's expiration year is invalid."
	}

	switch {
	case cvc == "":
		f.Errors["cvc"] = "Enter your card's security code."
	case !allDigits(cvc):
		f.Errors["cvc"] = "Your card's security code is invalid."
	case len(cvc) != 3:
		f.Errors["cvc"] = "Your card's security code must be 3 digits."
	}
	return card, month, year
}

func (f *payForm) validateAccount() testAccount {
	number := strings.NewReplacer(" ", "", "-", "").Replace(f.AccountNumber)
	if number == "" {
		f.Errors["account_number"] = "Enter your account number."
		return testAccount{}
	}
	for _, a := range testAccounts {
		if a.number == number {
			return a
		}
	}
	f.Errors["account_number"] = "This is a simulated checkout: use one of the test account numbers listed on this page."
	return testAccount{}
}

// parseExpiry accepts MM/YY, MM / YY, MM/YYYY and MMYY.
func parseExpiry(s string) (month, year int, ok bool) {
	s = strings.ReplaceAll(s, " ", "")
	var mm, yy string
	if i := strings.IndexByte(s, '/'); i >= 0 {
		mm, yy = s[:i], s[i+1:]
	} else if len(s) == 4 {
		mm, yy = s[:2], s[2:]
	} else {
		return 0, 0, false
	}
	if len(mm) < 1 || len(mm) > 2 || (len(yy) != 2 && len(yy) != 4) || !allDigits(mm) || !allDigits(yy) {
		return 0, 0, false
	}
	month, _ = strconv.Atoi(mm)
	year, _ = strconv.Atoi(yy)
	if len(yy) == 2 {
		year += 2000
	}
	return month, year, month >= 1 && month <= 12
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// luhn is the checksum every real card number satisfies, which catches typos before anything else.
func luhn(number string) bool {
	sum := 0
	double := false
	for i := len(number) - 1; i >= 0; i-- {
		d := int(number[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// groupDigits shows a card number the way it is printed on the card.
func groupDigits(n string) string {
	var b strings.Builder
	for i, r := range n {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}
