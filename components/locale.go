package components

import (
	"context"
	"strconv"
	"strings"
)

// Locale is how a shopper's language writes an amount of money: the decimal and grouping
// marks, and which side of the number the currency's symbol goes. The table below follows
// CLDR (as browsers' Intl.NumberFormat does, with narrow symbols such as "$" and "€") for the
// languages the shop matches; every other language gets en-US.
type Locale struct {
	Tag      string // BCP 47, such as "de-DE"
	decimal  string
	group    string
	minGroup int  // digits the whole part needs before it is grouped: 5 in Spanish ("1234,50 €")
	prefix   bool // the symbol comes first ("€12.50"), not last ("12,50 €")
	gap      string
	symbols  map[string]string // this language's own symbol for a currency, over narrowSymbols
}

const (
	nbsp       = "\u00a0"
	narrowNbsp = "\u202f"
)

// Locales are the languages whose money format the shop knows, the first the default.
var Locales = []Locale{
	{Tag: "en-US", decimal: ".", group: ",", minGroup: 4, prefix: true},
	{Tag: "en-GB", decimal: ".", group: ",", minGroup: 4, prefix: true},
	{Tag: "de-DE", decimal: ",", group: ".", minGroup: 4, gap: nbsp},
	{Tag: "fr-FR", decimal: ",", group: narrowNbsp, minGroup: 4, gap: nbsp},
	{Tag: "es-ES", decimal: ",", group: ".", minGroup: 5, gap: nbsp},
	{Tag: "it-IT", decimal: ",", group: ".", minGroup: 5, gap: nbsp},
	{Tag: "nl-NL", decimal: ",", group: ".", minGroup: 4, prefix: true, gap: nbsp},
	{Tag: "pt-BR", decimal: ",", group: ".", minGroup: 4, prefix: true, gap: nbsp},
	{Tag: "sv-SE", decimal: ",", group: nbsp, minGroup: 4, gap: nbsp},
	{Tag: "pl-PL", decimal: ",", group: nbsp, minGroup: 5, gap: nbsp},
	{Tag: "ja-JP", decimal: ".", group: ",", minGroup: 4, prefix: true, symbols: map[string]string{"jpy": "￥"}},
}

// narrowSymbols are the currencies written with a sign rather than their ISO code.
var narrowSymbols = map[string]string{"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "inr": "₹", "krw": "₩"}

// minorDigits is how many digits a currency's minor unit has where it is not 2 (ISO 4217, as
// Stripe counts them: its zero-decimal and three-decimal currencies).
var minorDigits = map[string]int{
	"bif": 0, "clp": 0, "djf": 0, "gnf": 0, "jpy": 0, "kmf": 0, "krw": 0, "mga": 0, "pyg": 0,
	"rwf": 0, "ugx": 0, "vnd": 0, "vuv": 0, "xaf": 0, "xof": 0, "xpf": 0,
	"bhd": 3, "jod": 3, "kwd": 3, "omr": 3, "tnd": 3,
}

// MinorDigits is how many decimals an amount of currency has: 2 for most, 0 for the yen.
func MinorDigits(currency string) int {
	if d, ok := minorDigits[strings.ToLower(currency)]; ok {
		return d
	}
	return 2
}

// Format writes amount, in the currency's minor units, as this locale writes money.
func (l Locale) Format(amount int64, currency string) string {
	cur := strings.ToLower(currency)
	sign := ""
	if amount < 0 {
		sign, amount = "-", -amount
	}
	digits := MinorDigits(cur)
	scale := int64(1)
	for range digits {
		scale *= 10
	}
	whole := strconv.FormatInt(amount/scale, 10)
	if len(whole) >= l.minGroup {
		for i := len(whole) - 3; i > 0; i -= 3 {
			whole = whole[:i] + l.group + whole[i:]
		}
	}
	num := whole
	if digits > 0 {
		frac := strconv.FormatInt(amount%scale, 10)
		num += l.decimal + strings.Repeat("0", digits-len(frac)) + frac
	}
	symbol, gap := l.symbols[cur], l.gap
	if symbol == "" {
		symbol = narrowSymbols[cur]
	}
	if symbol == "" {
		symbol, gap = strings.ToUpper(cur), nbsp // an ISO code never touches the number
	}
	if l.prefix {
		return sign + symbol + gap + num
	}
	return sign + num + gap + symbol
}

type localeKey struct{}

// WithLocale returns ctx carrying the shopper's locale, which MoneyIn formats with.
func WithLocale(ctx context.Context, l Locale) context.Context {
	return context.WithValue(ctx, localeKey{}, l)
}

// LocaleOf is the locale ctx carries, or the default (en-US).
func LocaleOf(ctx context.Context) Locale {
	if l, ok := ctx.Value(localeKey{}).(Locale); ok {
		return l
	}
	return Locales[0]
}

// LocaleIndex is the position in Locales of the locale ctx carries.
func LocaleIndex(ctx context.Context) int {
	tag := LocaleOf(ctx).Tag
	for i, l := range Locales {
		if l.Tag == tag {
			return i
		}
	}
	return 0
}

// MoneyIn formats an amount in minor units for the shopper whose locale ctx carries, such as
// "€12.50" in en-US and "12,50 €" in de-DE.
func MoneyIn(ctx context.Context, amount int64, currency string) string {
	return LocaleOf(ctx).Format(amount, currency)
}
