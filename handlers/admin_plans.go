package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"storefront/components"
	"storefront/store"
)

// handleAdminPlans shows the membership's plans for editing.
func (s *server) handleAdminPlans() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.renderAdminPlans(w, r, http.StatusOK, "", components.AdminPlanForm{})
	}
}

// renderAdminPlans renders every plan's form; the one named code shows f's input and outcome.
func (s *server) renderAdminPlans(w http.ResponseWriter, r *http.Request, status int, code string, f components.AdminPlanForm) {
	plans, err := s.Store.Plans(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	saved := r.URL.Query().Get("saved")
	forms := make([]components.AdminPlanForm, len(plans))
	for i, p := range plans {
		view := components.Plan{Code: p.Code, Name: p.Name, Interval: p.Interval, Amount: p.Amount, Currency: p.Currency, DiscountPercent: p.DiscountPercent}
		forms[i] = components.AdminPlanForm{Plan: view, Price: fmt.Sprintf("%d.%02d", p.Amount/100, p.Amount%100),
			Discount: strconv.Itoa(p.DiscountPercent), Saved: saved == p.Code}
		if p.Code == code {
			f.Plan = view
			forms[i] = f
		}
	}
	s.render(w, r, status, components.AdminPlansPage(s.page(r.Context(), s.visitorOf(r), "Membership plans"), forms))
}

// handleAdminSavePlan saves a plan's name, price (a decimal such as 5.00) and member discount
// (whole percent); bad input is shown on the form and changes nothing.
func (s *server) handleAdminSavePlan() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		code := r.PathValue("code")
		if _, err := s.Store.PlanByCode(r.Context(), code); err != nil {
			s.storeError(w, r, err)
			return
		}
		f := components.AdminPlanForm{Price: r.PostFormValue("price"), Discount: r.PostFormValue("discount")}
		name := strings.TrimSpace(r.PostFormValue("name"))
		amount, err := parseMoney(f.Price)
		discount, derr := strconv.Atoi(strings.TrimSpace(f.Discount))
		switch {
		case err != nil:
			f.Error = "Price: " + err.Error()
		case derr != nil:
			f.Error = "The member discount is a whole percentage from 0 to 90."
		}
		if f.Error == "" {
			_, err = s.Store.UpdatePlan(r.Context(), s.actor(r), code, name, amount, discount)
			var inv *store.InvalidError
			if errors.As(err, &inv) {
				f.Error = inv.Message
			} else if err != nil {
				s.serverError(w, r, err)
				return
			}
		}
		if f.Error != "" {
			s.renderAdminPlans(w, r, http.StatusUnprocessableEntity, code, f)
			return
		}
		s.Logger.Info("plan updated", "plan", code, "amount", amount, "discount", discount, "admin_id", s.actor(r).ID)
		redirect(w, r, "/admin/plans?saved="+code)
	}
}
