package simulator

import (
	"net/http"
	"regexp"
	"strings"
)

var apiVersionRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// checkVersion accepts a request in the one API version the simulator renders (or one naming no
// version, which gets it), and refuses any other with Stripe's error shape rather than answer in
// a shape the client did not ask for. Every response names the version in its Stripe-Version header.
func checkVersion(header string) *stripeError {
	v := strings.TrimSpace(header)
	switch {
	case v == "" || v == apiVersion:
		return nil
	case !apiVersionRE.MatchString(v):
		return invalidRequest(http.StatusBadRequest, "", "", "Invalid Stripe API version: %s", v)
	default:
		return invalidRequest(http.StatusBadRequest, "", "",
			"The checkout simulator renders only Stripe API version %s (the one stripe-go v76 pins), not %s. Send Stripe-Version: %s, or none.",
			apiVersion, v, apiVersion)
	}
}
