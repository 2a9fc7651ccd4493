package simulator

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// The payment objects a Checkout Session creates, as API version 2023-10-16 renders them.

type paymentIntentJSON struct {
	ID                        string            `json:"id"`
	Object                    string            `json:"object"`
	Amount                    int64             `json:"amount"`
	AmountCapturable          int64             `json:"amount_capturable"`
	AmountDetails             map[string]any    `json:"amount_details"`
	AmountReceived            int64             `json:"amount_received"`
	Application               any               `json:"application"`
	ApplicationFeeAmount      any               `json:"application_fee_amount"`
	AutomaticPaymentMethods   any               `json:"automatic_payment_methods"`
	CanceledAt                any               `json:"canceled_at"`
	CancellationReason        any               `json:"cancellation_reason"`
	CaptureMethod             string            `json:"capture_method"`
	ClientSecret              string            `json:"client_secret"`
	ConfirmationMethod        string            `json:"confirmation_method"`
	Created                   int64             `json:"created"`
	Currency                  string            `json:"currency"`
	Customer                  any               `json:"customer"`
	Description               any               `json:"description"`
	LastPaymentError          *paymentErrorJSON `json:"last_payment_error"`
	LatestCharge              *string           `json:"latest_charge"`
	Livemode                  bool              `json:"livemode"`
	Metadata                  map[string]string `json:"metadata"`
	NextAction                any               `json:"next_action"`
	OnBehalfOf                any               `json:"on_behalf_of"`
	PaymentMethod             *string           `json:"payment_method"`
	PaymentMethodOptions      map[string]any    `json:"payment_method_options"`
	PaymentMethodTypes        []string          `json:"payment_method_types"`
	Processing                any               `json:"processing"`
	ReceiptEmail              *string           `json:"receipt_email"`
	Review                    any               `json:"review"`
	SetupFutureUsage          any               `json:"setup_future_usage"`
	Shipping                  any               `json:"shipping"`
	StatementDescriptor       any               `json:"statement_descriptor"`
	StatementDescriptorSuffix any               `json:"statement_descriptor_suffix"`
	Status                    string            `json:"status"`
	TransferData              any               `json:"transfer_data"`
	TransferGroup             any               `json:"transfer_group"`
}

type paymentErrorJSON struct {
	Type        string `json:"type"`
	Code        string `json:"code"`
	DeclineCode string `json:"decline_code,omitempty"`
	Message     string `json:"message"`
}

type chargeJSON struct {
	ID                            string             `json:"id"`
	Object                        string             `json:"object"`
	Amount                        int64              `json:"amount"`
	AmountCaptured                int64              `json:"amount_captured"`
	AmountRefunded                int64              `json:"amount_refunded"`
	Application                   any                `json:"application"`
	ApplicationFee                any                `json:"application_fee"`
	BalanceTransaction            *string            `json:"balance_transaction"`
	BillingDetails                billingDetailsJSON `json:"billing_details"`
	CalculatedStatementDescriptor string             `json:"calculated_statement_descriptor"`
	Captured                      bool               `json:"captured"`
	Created                       int64              `json:"created"`
	Currency                      string             `json:"currency"`
	Customer                      any                `json:"customer"`
	Description                   any                `json:"description"`
	Disputed                      bool               `json:"disputed"`
	FailureBalanceTransaction     any                `json:"failure_balance_transaction"`
	FailureCode                   *string            `json:"failure_code"`
	FailureMessage                *string            `json:"failure_message"`
	FraudDetails                  map[string]any     `json:"fraud_details"`
	Livemode                      bool               `json:"livemode"`
	Metadata                      map[string]string  `json:"metadata"`
	Outcome                       *outcomeJSON       `json:"outcome"`
	Paid                          bool               `json:"paid"`
	PaymentIntent                 string             `json:"payment_intent"`
	PaymentMethod                 string             `json:"payment_method"`
	PaymentMethodDetails          json.RawMessage    `json:"payment_method_details"`
	ReceiptEmail                  *string            `json:"receipt_email"`
	ReceiptURL                    any                `json:"receipt_url"`
	Refunded                      bool               `json:"refunded"`
	Review                        any                `json:"review"`
	Shipping                      any                `json:"shipping"`
	Status                        string             `json:"status"`
}

// outcomeJSON is the network's verdict on a charge.
type outcomeJSON struct {
	NetworkStatus string `json:"network_status"`
	Reason        any    `json:"reason"`
	RiskLevel     string `json:"risk_level"`
	SellerMessage string `json:"seller_message"`
	Type          string `json:"type"`
}

type billingDetailsJSON struct {
	Address any    `json:"address"`
	Email   string `json:"email"`
	Name    any    `json:"name"`
	Phone   any    `json:"phone"`
}

type refundJSON struct {
	ID                     string            `json:"id"`
	Object                 string            `json:"object"`
	Amount                 int64             `json:"amount"`
	BalanceTransaction     string            `json:"balance_transaction"`
	Charge                 string            `json:"charge"`
	Created                int64             `json:"created"`
	Currency               string            `json:"currency"`
	Metadata               map[string]string `json:"metadata"`
	PaymentIntent          string            `json:"payment_intent"`
	Reason                 *string           `json:"reason"`
	ReceiptNumber          any               `json:"receipt_number"`
	SourceTransferReversal any               `json:"source_transfer_reversal"`
	Status                 string            `json:"status"`
	TransferReversal       any               `json:"transfer_reversal"`
}

// derivedID names an object that stands in a fixed relation to another (the payment method of a
// payment intent, its client secret), so it is the same at every rendering without being stored.
func derivedID(prefix, of string, n int) string {
	sum := sha256.Sum256([]byte(prefix + of))
	return prefix + hex.EncodeToString(sum[:])[:n]
}

func paymentIntentObject(sess *session) paymentIntentJSON {
	out := paymentIntentJSON{
		ID:                   sess.PaymentIntent,
		Object:               "payment_intent",
		Amount:               sess.AmountTotal,
		AmountDetails:        map[string]any{"tip": map[string]any{}},
		CaptureMethod:        "automatic",
		ClientSecret:         derivedID(sess.PaymentIntent+"_secret_", "", 25),
		ConfirmationMethod:   "automatic",
		Created:              sess.PICreated,
		Currency:             sess.Currency,
		LastPaymentError:     sess.PILastError,
		Metadata:             map[string]string{},
		PaymentMethodOptions: map[string]any{},
		PaymentMethodTypes:   []string{pmType(sess.PaymentMethod, sess.Currency)},
		Status:               sess.PIStatus,
	}
	if sess.PIStatus == piSucceeded {
		out.AmountReceived = sess.AmountTotal
	}
	out.LatestCharge, out.ReceiptEmail = optional(sess.ChargeID), optional(sess.PaidEmail)
	if sess.PIStatus != piRequiresPaymentMethod {
		pm := paymentMethodID(sess)
		out.PaymentMethod = &pm
	}
	return out
}

func paymentMethodID(sess *session) string { return derivedID("pm_", sess.PaymentIntent, 24) }

// Why a bank debit with the failing test account fails, as Stripe's test account 000111111116 does.
const (
	bankFailureCode    = "account_closed"
	bankFailureMessage = "The customer's bank account has been closed."
)

// chargeObject renders the session's charge: pending while a bank debit settles, succeeded once
// paid, failed when the debit bounced.
func chargeObject(sess *session) chargeJSON {
	c := chargeJSON{
		ID:                            sess.ChargeID,
		Object:                        "charge",
		Amount:                        sess.AmountTotal,
		AmountCaptured:                sess.AmountTotal,
		AmountRefunded:                sess.AmountRefunded,
		BillingDetails:                billingDetailsJSON{Email: sess.PaidEmail},
		CalculatedStatementDescriptor: "STOREFRONT SIMULATOR",
		Captured:                      true,
		Created:                       sess.ChargeCreated,
		Currency:                      sess.Currency,
		FraudDetails:                  map[string]any{},
		Metadata:                      map[string]string{},
		Outcome: &outcomeJSON{NetworkStatus: "approved_by_network", RiskLevel: "normal",
			SellerMessage: "Payment complete.", Type: "authorized"},
		Paid:                 true,
		PaymentIntent:        sess.PaymentIntent,
		PaymentMethod:        paymentMethodID(sess),
		PaymentMethodDetails: sess.PMDetails,
		Refunded:             sess.AmountRefunded >= sess.AmountTotal,
		Status:               "succeeded",
	}
	switch sess.PIStatus {
	case piProcessing:
		c.Paid, c.Refunded, c.Status, c.Outcome = false, false, "pending", nil
	case piRequiresPaymentMethod:
		code, msg := bankFailureCode, bankFailureMessage
		c.Paid, c.Refunded, c.Status, c.AmountCaptured, c.Captured = false, false, "failed", 0, false
		c.FailureCode, c.FailureMessage = &code, &msg
		c.Outcome = &outcomeJSON{NetworkStatus: "declined_by_network", Reason: code, RiskLevel: "not_assessed",
			SellerMessage: msg, Type: "issuer_declined"}
	}
	c.ReceiptEmail, c.BalanceTransaction = optional(sess.PaidEmail), optional(sess.BalanceTxn)
	if len(c.PaymentMethodDetails) == 0 {
		c.PaymentMethodDetails = json.RawMessage("null")
	}
	return c
}
