package simulator

import "crypto/rand"

const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newID returns prefix followed by n random base-62 characters, like Stripe's object ids.
func newID(prefix string, n int) string {
	out := make([]byte, 0, len(prefix)+n)
	out = append(out, prefix...)
	buf := make([]byte, n+n/2)
	for len(out) < len(prefix)+n {
		rand.Read(buf) // never fails since Go 1.24
		for _, c := range buf {
			// Rejection sampling keeps every character equally likely.
			if c >= 248 {
				continue
			}
			out = append(out, idAlphabet[c%62])
			if len(out) == len(prefix)+n {
				break
			}
		}
	}
	return string(out)
}

func newSessionID() string  { return newID("cs_test_", 48) }
func newEventID() string    { return newID("evt_", 24) }
func newPIID() string       { return newID("pi_", 24) }
func newChargeID() string   { return newID("ch_", 24) }
func newRefundID() string   { return newID("re_", 24) }
func newTxnID() string      { return newID("txn_", 24) }
func newRequestID() string  { return newID("req_", 14) }
func newLineItemID() string { return newID("li_", 24) }
