package handlers

import (
	"context"

	"storefront/components"
	"storefront/store"
)

// Conversions from the store's records to the components' view models.

func productView(p store.Product) components.Product {
	view := components.Product{ID: p.ID, Slug: p.Slug, Name: p.Name, Description: p.Description,
		Price: p.Price, Currency: p.Currency, Image: p.Image, Left: p.Available()}
	if id := p.UploadedImage(); id != "" {
		view.ImageURL = "/product-images/" + id
	}
	return view
}

func (s *server) cartView(ctx context.Context, c store.Cart, v *visitor) components.Cart {
	view := components.Cart{Total: c.Total(), Currency: c.Currency(), Count: c.Count(), Guest: v.user == nil,
		PayOnPage: s.elementsEnabled(), NoCheckout: s.elementsEnabled() && s.PaymentUI == UIElements}
	if percent := s.memberDiscount(ctx, v); percent > 0 {
		view.Subtotal, view.DiscountPercent, view.Total = view.Total, percent, c.Discounted(percent).Total()
	} else if v.user != nil {
		view.JoinOffer = s.bestPlanDiscount(ctx)
	}
	for _, l := range c.Lines {
		view.Lines = append(view.Lines, components.CartLine{Product: productView(l.Product), Quantity: l.Quantity})
	}
	return view
}

func orderView(o store.Order) components.Order {
	view := components.Order{ID: o.ID, Status: string(o.Status), Total: o.AmountTotal, Currency: o.Currency,
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt, PaidAt: o.PaidAt, Email: o.CustomerEmail, SessionID: o.CheckoutSessionID,
		PaymentIntent: o.PaymentIntent, Refunded: o.AmountRefunded}
	if o.Status == store.StatusPending {
		view.PayBy = o.SessionExpiresAt
	}
	for _, it := range o.Items {
		view.Items = append(view.Items, components.OrderItem{Name: it.Name, Quantity: it.Quantity, UnitAmount: it.UnitAmount})
	}
	return view
}
