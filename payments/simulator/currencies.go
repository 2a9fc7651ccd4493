package simulator

import (
	"slices"
	"strings"
)

// stripeCurrencies are the presentment currencies Stripe accepts (lower case, ISO 4217), as its
// "Supported currencies" page lists them; the simulator refuses any other code, as Stripe does.
var stripeCurrencies = strings.Fields(`usd aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn
	bhd bif bmd bnd bob brl bsd bwp byn bzd cad cdf chf clp cny cop crc cve czk djf dkk dop dzd egp
	etb eur fjd fkp gbp gel gip gmd gnf gtq gyd hkd hnl htg huf idr ils inr isk jmd jod jpy kes kgs
	khr kmf krw kwd kyd kzt lak lbp lkr lrd lsl mad mdl mga mkd mmk mnt mop mur mvr mwk mxn myr mzn
	nad ngn nio nok npr nzd omr pab pen pgk php pkr pln pyg qar ron rsd rub rwf sar sbd scr sek sgd
	shp sle sos srd std szl thb tjs tnd top try ttd twd tzs uah ugx uyu uzs vnd vuv wst xaf xcd xof
	xpf yer zar zmw`)

func supportedCurrency(cur string) bool { return slices.Contains(stripeCurrencies, cur) }

func invalidCurrency(param, got string) *stripeError {
	return invalidParam(param, "Invalid currency: %s. Stripe currently supports these currencies: %s",
		got, strings.Join(stripeCurrencies, ", "))
}

// minimumCharges are Stripe's documented minimum charge amounts, in minor units, for the currencies
// it settles in. Elsewhere Stripe's minimum is whatever converts to $0.50 at the day's rate, which a
// simulator cannot know, so there only a positive total is required.
var minimumCharges = map[string]int64{
	"usd": 50, "aed": 200, "aud": 50, "bgn": 100, "brl": 50, "cad": 50, "chf": 50, "czk": 1500,
	"dkk": 250, "eur": 50, "gbp": 30, "hkd": 400, "huf": 17500, "inr": 50, "jpy": 50, "mxn": 1000,
	"myr": 200, "nok": 300, "nzd": 50, "pln": 200, "ron": 200, "sek": 300, "sgd": 50, "thb": 1000,
}

// minimumCharge is the smallest total a payment-mode session in cur may have.
func minimumCharge(cur string) int64 {
	if m, ok := minimumCharges[cur]; ok {
		return m
	}
	return 1
}

// bankMethods names the delayed bank debit Checkout offers in each currency that has one, so a EUR
// session offers SEPA Direct Debit and never a US bank account.
var bankMethods = map[string]bankMethod{
	"usd": {Type: "us_bank_account", Label: "US bank account (ACH Direct Debit)"},
	"eur": {Type: "sepa_debit", Label: "SEPA Direct Debit"},
	"gbp": {Type: "bacs_debit", Label: "Bacs Direct Debit"},
}

// bankMethod is one delayed-notification payment method type.
type bankMethod struct {
	Type  string // Stripe's payment method type
	Label string // what the hosted page calls it
}

// paymentMethodTypes are the types a session in cur offers, in Stripe's order.
func paymentMethodTypes(cur string) []string {
	if b, ok := bankMethods[cur]; ok {
		return []string{"card", b.Type}
	}
	return []string{"card"}
}

// pmType names the Stripe payment method type a customer's choice stands for in cur.
func pmType(method, cur string) string {
	if method == methodBankTransfer {
		return bankMethods[cur].Type
	}
	return "card"
}
