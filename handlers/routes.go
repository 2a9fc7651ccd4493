package handlers

import "net/http"

// routes lists every route the shop serves: the whole HTTP surface at a glance.
func (s *server) routes(mux *http.ServeMux) {
	mux.Handle("GET /{$}", s.handleCatalogue())
	mux.Handle("GET /products/{slug}", s.handleProduct())

	mux.Handle("GET /signup", s.handleSignupForm())
	mux.Handle("POST /signup", s.handleSignup())
	mux.Handle("GET /login", s.handleLoginForm())
	mux.Handle("POST /login", s.handleLogin())
	mux.Handle("POST /logout", s.handleLogout())

	mux.Handle("GET /cart", s.handleCart())
	mux.Handle("GET /cart/badge", s.handleCartBadge())
	mux.Handle("POST /cart/items", s.handleAddToCart())
	mux.Handle("POST /cart/items/{product_id}", s.handleSetCartQuantity())

	mux.Handle("GET /config/", s.handleConfig())
	mux.Handle("POST /create-checkout-session/", s.handleCreateCheckoutSession())
	mux.Handle("GET /success/", s.handleSuccess())
	mux.Handle("GET /cancelled/", s.handleCancelled())
	mux.Handle("POST /webhook/", s.handleWebhook())

	mux.Handle("GET /orders", s.handleOrders())
	mux.Handle("GET /orders/{id}", s.handleOrder())
	mux.Handle("GET /orders/events", s.handleOrderEvents())

	mux.Handle("GET /healthz", s.handleHealth())
	mux.Handle("GET /assets/", s.handleAssets())
	mux.Handle("/", s.handleNotFound())
}
