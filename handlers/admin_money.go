package handlers

import (
	"errors"
	"strconv"
	"strings"
)

// maxPrice is the largest amount a form may name, in minor units: a typo guard.
const maxPrice = 100_000_000 // 1,000,000.00

// parseMoney reads a decimal amount such as "12.50", "12.5" or "12" as minor units (1250).
// Its errors are messages for the form.
func parseMoney(s string) (int64, error) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "$"))
	whole, frac, hasPoint := strings.Cut(s, ".")
	if whole == "" && hasPoint {
		whole = "0"
	}
	if whole == "" || !allDigits(whole) || !allDigits(frac) || (hasPoint && frac == "") {
		return 0, errors.New("Enter an amount like 12.50.")
	}
	if len(frac) > 2 {
		return 0, errors.New("Use at most two decimal places.")
	}
	if len(whole) > 7 {
		return 0, errors.New("That amount is too large.")
	}
	units, _ := strconv.ParseInt(whole, 10, 64)
	cents, _ := strconv.ParseInt((frac + "00")[:2], 10, 64)
	amount := units*100 + cents
	switch {
	case amount <= 0:
		return 0, errors.New("The amount must be more than zero.")
	case amount > maxPrice:
		return 0, errors.New("That amount is too large.")
	}
	return amount, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
