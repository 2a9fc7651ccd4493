package handlers

import "net/http"

// routes lists every route the shop serves: the whole HTTP surface at a glance. Pages load the
// visitor (session and user) first; the webhook, health check and assets need no visitor.
func (s *server) routes(mux *http.ServeMux) {
	page := s.withVisitor
	mux.Handle("GET /{$}", page(s.handleCatalogue()))
	mux.Handle("GET /products/{slug}", page(s.handleProduct()))

	mux.Handle("GET /signup", page(s.handleSignupForm()))
	mux.Handle("POST /signup", page(s.handleSignup()))
	mux.Handle("GET /login", page(s.handleLoginForm()))
	mux.Handle("POST /login", page(s.handleLogin()))
	mux.Handle("POST /logout", page(s.handleLogout()))
	mux.Handle("GET /password/forgot", page(s.handleEmailRequestForm(s.forgotPassword())))
	mux.Handle("POST /password/forgot", page(s.handleEmailRequest(s.forgotPassword())))
	mux.Handle("GET /password/reset", page(s.handleResetPasswordForm()))
	mux.Handle("POST /password/reset", page(s.handleResetPassword()))
	mux.Handle("GET /account", page(s.handleAccount()))
	mux.Handle("POST /account/password", page(s.handleChangePassword()))
	mux.Handle("POST /account/delete", page(s.handleDeleteAccount()))
	mux.Handle("GET /account/events", page(s.handleMembershipEvents()))
	mux.Handle("GET /membership", page(s.handleMembership()))
	mux.Handle("POST /membership/checkout", page(s.handleMembershipCheckout()))
	mux.Handle("POST /membership/portal", page(s.handleMembershipPortal()))

	mux.Handle("GET /cart", page(s.handleCart()))
	mux.Handle("GET /cart/badge", page(s.handleCartBadge()))
	mux.Handle("POST /cart/items", page(s.handleAddToCart()))
	mux.Handle("POST /cart/items/{product_id}", page(s.handleSetCartQuantity()))

	mux.Handle("GET /config/", s.handleConfig())
	mux.Handle("POST /create-checkout-session/", page(s.handleCreateCheckoutSession()))
	mux.Handle("GET /success/", page(s.handleSuccess()))
	mux.Handle("GET /cancelled/", page(s.handleCancelled()))
	mux.Handle("POST /create-payment-intent/", page(s.handleCreatePaymentIntent()))
	mux.Handle("GET /pay/{id}", page(s.handlePay()))
	mux.Handle("GET /payment-complete/", page(s.handlePaymentComplete()))
	mux.Handle("POST /webhook/", s.handleWebhook())

	mux.Handle("GET /orders", page(s.handleOrders()))
	mux.Handle("GET /orders/{id}", page(s.handleOrder()))
	mux.Handle("GET /orders/lookup", page(s.handleEmailRequestForm(s.orderLookup())))
	mux.Handle("POST /orders/lookup", page(s.handleEmailRequest(s.orderLookup())))
	mux.Handle("GET /guest/orders/{id}", page(s.handleGuestOrder()))
	mux.Handle("POST /guest/orders/{id}/buy-again", page(s.handleGuestBuyAgain()))
	mux.Handle("POST /orders/{id}/pay", page(s.handlePayOrder()))
	mux.Handle("POST /orders/{id}/cancel", page(s.handleCancelOrder()))
	mux.Handle("POST /orders/{id}/buy-again", page(s.handleBuyAgain()))
	// The stream reads its visitor itself, on a short-lived goroutine (see handleOrderEvents).
	mux.Handle("GET /orders/events", s.handleOrderEvents())
	mux.Handle("GET /stock/events", s.handleStockEvents()) // live "Only N left", for anyone

	mux.Handle("GET /healthz", s.handleHealth())
	mux.Handle("GET /assets/", s.handleAssets())
	s.adminRoutes(mux) // the operator console, in admin.go
	mux.Handle("/", page(s.handleNotFound()))
}
