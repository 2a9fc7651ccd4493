package handlers

import (
	"bytes"
	"context"
	"net/http"

	"github.com/a-h/templ"

	"storefront/components"
	"storefront/store"
)

// publishMembership sends a committed membership change to its member's account pages.
func (s *server) publishMembership(m store.Membership) {
	s.members.Publish(userTopic(m.UserID), &m)
	s.Store.AnnounceMembership(m.UserID)
}

// membershipMessage is what a membership change shows on the page watching it: the account
// page's membership panel, or on the cart page the cart repriced for the member; and the
// header badge. It is one SSE message.
func (s *server) membershipMessage(ctx context.Context, onCart bool, v *visitor, m store.Membership, joining bool) ([]byte, error) {
	badge := components.MemberBadgeOOB(m.Member())
	c := templ.Join(components.MembershipPanel(membershipViewJoining(m, joining)), badge)
	if onCart {
		cart, err := s.Store.Cart(ctx, v.cartRef())
		if err != nil {
			return nil, err
		}
		c = templ.Join(components.CartSection(s.cartView(ctx, cart, v)), badge)
	}
	var html, frame bytes.Buffer
	if err := c.Render(ctx, &html); err != nil {
		return nil, err
	}
	writeEvent(&frame, html.Bytes())
	return frame.Bytes(), nil
}

func membershipViewJoining(m store.Membership, joining bool) components.Membership {
	view := membershipView(m)
	view.Joining = joining
	return view
}

// handleMembershipEvents streams the user's membership panel as Server-Sent Events: the
// current state first, then each change, with the header's member badge beside it. The
// account page shows status, plan, renewal date and invoices live this way, and the cart page
// (view=cart) its member discount. Logout ends it, as it ends the account's other streams.
func (s *server) handleMembershipEvents() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := s.visitorOf(r)
		if v.user == nil {
			refuseStream(w)
			s.writeJSON(w, r, http.StatusUnauthorized, map[string]string{"error": "log in to follow your membership"})
			return
		}
		ls := s.admitStream(w, r, v)
		if ls == nil {
			return
		}
		ctx := context.WithoutCancel(r.Context()) // messages are rendered after the request has returned
		onCart := r.URL.Query().Get("view") == "cart"
		joining := r.URL.Query().Get("joined") != ""
		// Subscribe before reading the current state, so that no change falls between the two.
		sub := s.members.Subscribe(func(m *store.Membership) {
			ls.push(func() ([]byte, error) { return s.membershipMessage(ctx, onCart, v, *m, joining) })
		}, userTopic(v.user.ID))
		ls.unsubscribe = sub.Close
		var first []byte
		// The cart page was rendered with the current prices a moment ago: re-rendering it now
		// would only replace what the shopper is about to click. It hears of changes only.
		m, err := s.Store.MembershipOf(r.Context(), v.user.ID)
		if err == nil && !onCart {
			first, err = s.membershipMessage(ctx, false, v, m, joining)
		}
		if err != nil {
			ls.end()
			refuseStream(w)
			s.serverError(w, r, err)
			return
		}
		if ls.open(w, first) && ls.conn == nil {
			ls.serveOnRequest(r)
		}
	}
}
