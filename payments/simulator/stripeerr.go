package simulator

import (
	"fmt"
	"net/http"
)

// stripeError is the body of a Stripe API error; stripe-go turns it into *stripe.Error.
type stripeError struct {
	Status  int    `json:"-"`
	Type    string `json:"type"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
	Param   string `json:"param,omitempty"`
}

func (e *stripeError) Error() string {
	if e.Param != "" {
		return fmt.Sprintf("%s (%s): %s", e.Type, e.Param, e.Message)
	}
	return e.Type + ": " + e.Message
}

func invalidRequest(status int, code, param, format string, args ...any) *stripeError {
	return &stripeError{Status: status, Type: "invalid_request_error", Code: code, Param: param, Message: fmt.Sprintf(format, args...)}
}

// invalidParam is a bad value with no more specific code: Stripe then sends none, only the param and a message.
func invalidParam(param, format string, args ...any) *stripeError {
	return invalidRequest(http.StatusBadRequest, "", param, format, args...)
}

// integerOutOfRange is Stripe's answer to a well-formed integer outside the allowed range.
func integerOutOfRange(param, format string, args ...any) *stripeError {
	return invalidRequest(http.StatusBadRequest, "parameter_invalid_integer", param, format, args...)
}

// exclusiveParams is Stripe's parameters_exclusive: two parameters that may not be sent together.
func exclusiveParams(a, b string) *stripeError {
	return invalidRequest(http.StatusBadRequest, "parameters_exclusive", a, "You may only specify one of these parameters: %s, %s.", a, b)
}

func missingParam(param string) *stripeError {
	return invalidRequest(http.StatusBadRequest, "parameter_missing", param, "Missing required param: %s.", param)
}

func unknownParam(param string) *stripeError {
	return invalidRequest(http.StatusBadRequest, "parameter_unknown", param, "Received unknown parameter: %s", param)
}

func invalidInteger(param, value string) *stripeError {
	return invalidRequest(http.StatusBadRequest, "parameter_invalid_integer", param, "Invalid integer: %s", value)
}

// noSuch is Stripe's resource_missing: 404 for the object named in the path, 400 for one named in a parameter.
func noSuch(status int, kind, id, param string) *stripeError {
	return invalidRequest(status, "resource_missing", param, "No such %s: '%s'", kind, id)
}

func apiError(err error) *stripeError {
	return &stripeError{Status: http.StatusInternalServerError, Type: "api_error", Message: "The checkout simulator failed: " + err.Error()}
}
