// Package simulator is an in-process, stateful, test-mode-only stand-in for
// Stripe's hosted Checkout, so a developer with no Stripe account can buy
// something end to end.
//
// The storefront talks to it through stripe-go exactly as it talks to Stripe
// (only the backend URL changes): it serves the Checkout Sessions, Payment
// Intents (create, retrieve, confirm, cancel), Refunds and Events API in Stripe's
// API version 2023-10-16, with Stripe's list paging and error codes, a hosted
// payment page at each session's url, a stand-in for Stripe.js at /v3/ whose
// Payment Element (a frame from the simulator) confirms PaymentIntents on the
// shop's own page, with a simulated 3-D Secure challenge, and it POSTs
// Stripe-format, Stripe-signed events to the configured webhook endpoint,
// retrying with back-off until they are acknowledged. Sessions, scheduled
// work and pending deliveries live in SQLite so they survive a restart.
// GET /v1/events lists the very events delivered as webhooks, so a shop can
// reconcile from it what a webhook missed.
//
// Webhook faults (drop, duplicate, delay, reorder, a newer api_version) are
// switched on with SIMULATOR_FAULTS=drop:0.2,duplicate:0.1,delay:2s,reorder,newer-api-version
// or on the dev page, to watch reconcile and exactly-once handling at work.
//
// A developer refunds or expires a session from the dev page at the
// simulator's root URL, or with curl:
//
//	curl -X POST <base>/v1/refunds -u sk_test_x: -d payment_intent=pi_…
//	curl -X POST <base>/v1/checkout/sessions/cs_test_…/expire -u sk_test_x:
//
// Memberships run as Stripe Billing runs them (billing.go): Customers, recurring Prices (found
// by lookup key), Checkout in subscription mode, Subscriptions and their Invoices, and a
// Billing Portal page (cancel at period end, resume, switch plan, change card). Time moves on
// only when asked, like a Stripe test clock: "Advance to next renewal" on the dev page, or
//
//	curl -X POST <base>/v1/test_helpers/subscriptions/sub_…/advance -u sk_test_x:
//
// bills the next renewal (or, while one is past due, its next retry). The test card
// 4000 0000 0000 0341 can be saved as a customer's card but every charge on it fails: a
// renewal then goes past_due, and unpaid after three attempts; a new card in the portal pays
// the open invoice at once.
package simulator
