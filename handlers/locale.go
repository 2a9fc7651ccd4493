package handlers

import (
	"net/http"

	"golang.org/x/text/language"

	"storefront/components"
)

// localeMatcher picks, from a browser's Accept-Language, the closest language whose money format
// the shop knows (de-AT → de-DE, en-AU → en-GB); anything else gets the first, en-US.
var localeMatcher = func() language.Matcher {
	tags := make([]language.Tag, len(components.Locales))
	for i, l := range components.Locales {
		tags[i] = language.MustParse(l.Tag)
	}
	return language.NewMatcher(tags)
}()

// localeFor is the locale for an Accept-Language header.
func localeFor(acceptLanguage string) components.Locale {
	if acceptLanguage == "" {
		return components.Locales[0]
	}
	_, i := language.MatchStrings(localeMatcher, acceptLanguage)
	return components.Locales[i]
}

// withLocale gives every request the locale its Accept-Language asks for, so pages (and the
// live updates a page's stream sends) write prices the way the shopper reads them.
func withLocale(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l := localeFor(r.Header.Get("Accept-Language"))
		next.ServeHTTP(w, r.WithContext(components.WithLocale(r.Context(), l)))
	})
}

// money is an amount as the requesting shopper reads it.
func (s *server) money(r *http.Request, amount int64, currency string) string {
	return components.MoneyIn(r.Context(), amount, currency)
}
