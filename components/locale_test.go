package components

import (
	"context"
	"testing"
)

func TestMoneyByLocale(t *testing.T) {
	for _, tc := range []struct {
		locale   string
		amount   int64
		currency string
		want     string
	}{
		{"en-US", 1250, "eur", "€12.50"},
		{"en-US", 2400, "usd", "$24.00"},
		{"en-US", 123456789, "usd", "$1,234,567.89"},
		{"en-GB", 5, "gbp", "£0.05"},
		{"de-DE", 1250, "eur", "12,50\u00a0€"},
		{"de-DE", 123450, "eur", "1.234,50\u00a0€"},
		{"fr-FR", 1250, "eur", "12,50\u00a0€"},
		{"fr-FR", 123450, "eur", "1\u202f234,50\u00a0€"},
		{"es-ES", 123450, "eur", "1234,50\u00a0€"}, // Spanish groups from five digits
		{"es-ES", 1234550, "eur", "12.345,50\u00a0€"},
		{"nl-NL", 1250, "eur", "€\u00a012,50"},
		{"ja-JP", 1250, "jpy", "￥1,250"}, // no minor unit
		{"en-US", 1250, "jpy", "¥1,250"},
		{"de-DE", 1250, "jpy", "1.250\u00a0¥"},
		{"en-US", 12345, "kwd", "KWD\u00a012.345"}, // three decimals, an ISO code
		{"de-DE", 1250, "chf", "12,50\u00a0CHF"},
		{"en-US", -1250, "eur", "-€12.50"},
	} {
		l := localeNamed(t, tc.locale)
		if got := l.Format(tc.amount, tc.currency); got != tc.want {
			t.Errorf("%s: Format(%d, %s) = %q, want %q", tc.locale, tc.amount, tc.currency, got, tc.want)
		}
	}
}

func TestMoneyInContext(t *testing.T) {
	if got, want := MoneyIn(context.Background(), 1250, "eur"), "€12.50"; got != want {
		t.Errorf("with no locale: %q, want %q (en-US)", got, want)
	}
	ctx := WithLocale(context.Background(), localeNamed(t, "de-DE"))
	if got, want := MoneyIn(ctx, 1250, "eur"), "12,50\u00a0€"; got != want {
		t.Errorf("in de-DE: %q, want %q", got, want)
	}
	if got, want := Locales[LocaleIndex(ctx)].Tag, "de-DE"; got != want {
		t.Errorf("LocaleIndex names %s, want %s", got, want)
	}
}

func localeNamed(t *testing.T, tag string) Locale {
	t.Helper()
	for _, l := range Locales {
		if l.Tag == tag {
			return l
		}
	}
	t.Fatalf("no locale %s", tag)
	return Locale{}
}
