package handlers

import (
	"context"
	"net/http"
	"strconv"

	"storefront/components"
	"storefront/payments"
	"storefront/store"
)

// adminPageSize is how many rows a page of the console's lists shows.
const adminPageSize = 25

// adminRoutes lists the operator console. Everything under /admin answers 404 to anyone who is
// not an admin, exactly as an unknown page does, so the console does not reveal it exists.
func (s *server) adminRoutes(mux *http.ServeMux) {
	admin := s.adminOnly
	home := admin(http.RedirectHandler("/admin/orders", http.StatusSeeOther))
	mux.Handle("GET /admin", home) // without it the mux would redirect /admin to /admin/ for anyone
	mux.Handle("GET /admin/{$}", home)
	mux.Handle("GET /admin/orders", admin(s.handleAdminOrders()))
	mux.Handle("GET /admin/orders/events", admin(s.handleOrderEvents()))
	mux.Handle("GET /admin/orders/{id}", admin(s.handleAdminOrder()))
	mux.Handle("POST /admin/orders/{id}/refund", admin(s.handleAdminRefund()))
	mux.Handle("POST /admin/orders/{id}/accept", admin(s.handleAdminAccept()))
	mux.Handle("GET /admin/products", admin(s.handleAdminProducts()))
	mux.Handle("GET /admin/products/new", admin(s.handleAdminProductForm()))
	mux.Handle("POST /admin/products", admin(s.handleAdminSaveProduct()))
	mux.Handle("GET /admin/products/{id}", admin(s.handleAdminProductForm()))
	mux.Handle("POST /admin/products/{id}", admin(s.handleAdminSaveProduct()))
	mux.Handle("GET /admin/events", admin(s.handleAdminEvents()))
	mux.Handle("POST /admin/events/{id}/reapply", admin(s.handleAdminReapply()))
	mux.Handle("POST /admin/reconcile", admin(s.handleAdminReconcile()))
	mux.Handle("GET /admin/audit", admin(s.handleAdminAudit()))
	mux.Handle("GET /admin/mail", admin(s.handleAdminMail()))
	mux.Handle("GET /admin/plans", admin(s.handleAdminPlans()))
	mux.Handle("POST /admin/plans/{code}", admin(s.handleAdminSavePlan()))
	mux.Handle("GET /product-images/{id}", s.handleProductImage())
}

// adminOnly loads the visitor and lets only admins through; anyone else gets the shop's 404.
func (s *server) adminOnly(next http.Handler) http.Handler {
	return s.withVisitor(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.isAdmin(r.Context(), s.visitorOf(r)) {
			s.notFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	}))
}

// isAdmin reports whether the visitor may use the console. In simulator mode the account named
// by ADMIN_EMAIL becomes an admin the first time it asks, so that a developer trying the shop
// needs no extra step.
func (s *server) isAdmin(ctx context.Context, v *visitor) bool {
	if v.user == nil {
		return false
	}
	if v.user.Admin {
		return true
	}
	if !s.Simulated || s.AdminEmail == "" || v.user.Email != s.AdminEmail {
		return false
	}
	if err := s.Store.SetAdmin(ctx, store.Actor{Email: "ADMIN_EMAIL"}, v.user.Email, true); err != nil {
		s.Logger.Error("grant admin from ADMIN_EMAIL", "error", err)
		return false
	}
	s.Logger.Info("admin granted from ADMIN_EMAIL", "user_id", v.user.ID)
	v.user.Admin = true
	return true
}

// actor is the admin making the request, for the audit log.
func (s *server) actor(r *http.Request) store.Actor {
	u := s.visitorOf(r).user
	return store.Actor{ID: u.ID, Email: u.Email}
}

// Refunder is the payment provider's refund call (payments.Gateway has it).
type Refunder interface {
	RefundPayment(ctx context.Context, req payments.RefundRequest) error
}

// pathID reads a numeric id from the path; ok is false (and a 404 sent) when it is not one.
func (s *server) pathID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.notFound(w, r)
		return 0, false
	}
	return id, true
}

// pageNumber reads ?page= (1 when absent or bad).
func pageNumber(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || n < 1 || n > 100000 {
		return 1
	}
	return n
}

func (s *server) handleAdminAudit() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		page := pageNumber(r)
		entries, err := s.Store.AuditLog(r.Context(), adminPageSize+1, (page-1)*adminPageSize)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		hasNext := len(entries) > adminPageSize
		views := make([]components.AdminAuditEntry, 0, adminPageSize)
		for i, e := range entries {
			if i == adminPageSize {
				break
			}
			views = append(views, components.AdminAuditEntry{AdminEmail: e.AdminEmail, Action: e.Action, Target: e.Target,
				Detail: e.Detail, CreatedAt: e.CreatedAt})
		}
		s.render(w, r, http.StatusOK, components.AdminAuditPage(s.page(r.Context(), s.visitorOf(r), "Audit log"), views, page, hasNext))
	}
}

// handleAdminMail lists the mail the outbox gave up on (the last 200).
func (s *server) handleAdminMail() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		failed, err := s.Store.ListMail(r.Context(), store.MailFailed, 200)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		views := make([]components.AdminMail, len(failed))
		for i, m := range failed {
			views[i] = components.AdminMail{Kind: string(m.Kind), To: m.To, OrderID: m.OrderID, Attempts: m.Attempts,
				LastError: m.LastError, CreatedAt: m.CreatedAt}
		}
		s.render(w, r, http.StatusOK, components.AdminMailPage(s.page(r.Context(), s.visitorOf(r), "Failed mail"), views))
	}
}
