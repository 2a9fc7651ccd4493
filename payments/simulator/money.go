package simulator

import (
	"strconv"
	"strings"
)

// zeroDecimal lists the currencies Stripe counts in whole units, so 500 JPY is ¥500, not ¥5.00.
var zeroDecimal = map[string]bool{
	"bif": true, "clp": true, "djf": true, "gnf": true, "jpy": true, "kmf": true,
	"krw": true, "mga": true, "pyg": true, "rwf": true, "ugx": true, "vnd": true,
	"vuv": true, "xaf": true, "xof": true, "xpf": true,
}

var currencySymbols = map[string]string{
	"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "CA$", "aud": "A$",
	"nzd": "NZ$", "inr": "₹", "krw": "₩", "chf": "CHF ",
}

// formatMoney renders minor units for people, e.g. formatMoney(4800, "usd") == "$48.00".
func formatMoney(amount int64, currency string) string {
	cur := strings.ToLower(currency)
	neg := amount < 0
	if neg {
		amount = -amount
	}
	var whole, frac string
	if zeroDecimal[cur] {
		whole = groupThousands(amount)
	} else {
		whole = groupThousands(amount / 100)
		frac = "." + leftPad(strconv.FormatInt(amount%100, 10), 2)
	}
	sign := ""
	if neg {
		sign = "-"
	}
	if sym, ok := currencySymbols[cur]; ok {
		return sign + sym + whole + frac
	}
	return sign + whole + frac + " " + strings.ToUpper(cur)
}

func groupThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func leftPad(s string, n int) string {
	for len(s) < n {
		s = "0" + s
	}
	return s
}
