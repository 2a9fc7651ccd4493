package handlers

import (
	"bytes"
	"net/http"
	"strconv"
	"time"

	"github.com/a-h/templ"

	"storefront/components"
	"storefront/store"
)

// publishMembership sends a committed membership change to its member's account pages.
func (s *server) publishMembership(m store.Membership) {
	s.members.publish(&m)
}

// membershipMessage is what a membership change shows on the page watching it: the account
// page's membership panel, or (view=cart) the cart repriced for the member; and the header badge.
func (s *server) membershipMessage(r *http.Request, v *visitor, m store.Membership, joining bool) (templ.Component, error) {
	badge := components.MemberBadgeOOB(m.Member())
	if r.URL.Query().Get("view") == "cart" {
		c, err := s.Store.Cart(r.Context(), v.cartRef())
		if err != nil {
			return nil, err
		}
		return templ.Join(components.CartSection(s.cartView(r.Context(), c, v)), badge), nil
	}
	view := membershipView(m)
	view.Joining = joining
	return templ.Join(components.MembershipPanel(view), badge), nil
}

// handleMembershipEvents streams the user's membership panel as Server-Sent Events: the
// current state first, then each change, with the header's member badge beside it. The
// account page shows status, plan, renewal date and invoices live this way, and the cart page
// (view=cart) its member discount.
func (s *server) handleMembershipEvents() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := s.visitorOf(r)
		if v.user == nil {
			refuseStream(w)
			s.writeJSON(w, r, http.StatusUnauthorized, map[string]string{"error": "log in to follow your membership"})
			return
		}
		slot, full := s.streams.admit(v.user.ID, clientAddr(r))
		if slot == nil {
			refuseStream(w)
			retryAfter(w, streamRetryAfter)
			s.writeJSON(w, r, http.StatusTooManyRequests, map[string]string{"error": full})
			return
		}
		defer s.streams.release(slot)
		// Subscribe before reading the current state, so that no change falls between the two.
		changes, unsubscribe := s.members.subscribe(v.user.ID)
		defer unsubscribe()
		joining := r.URL.Query().Get("joined") != ""
		m, err := s.Store.MembershipOf(r.Context(), v.user.ID)
		if err != nil {
			refuseStream(w)
			s.serverError(w, r, err)
			return
		}
		rc := http.NewResponseController(w)
		rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
		h := w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Accel-Buffering", "no")
		w.WriteHeader(http.StatusOK)
		send := func(b []byte) error {
			if _, err := w.Write(b); err != nil {
				return err
			}
			return rc.Flush()
		}
		sendMembership := func(m store.Membership) error {
			var msg, frame bytes.Buffer
			c, err := s.membershipMessage(r, v, m, joining)
			if err != nil {
				return err
			}
			if err := c.Render(r.Context(), &msg); err != nil {
				return err
			}
			writeEvent(&frame, msg.Bytes())
			return send(frame.Bytes())
		}
		if send([]byte("retry: "+strconv.Itoa(int(reconnectAfter.Milliseconds()))+"\n\n")) != nil {
			return
		}
		// The cart page was rendered with the current prices a moment ago: re-rendering it now
		// would only replace what the shopper is about to click. It hears of changes only.
		if r.URL.Query().Get("view") != "cart" && sendMembership(m) != nil {
			return
		}
		heartbeat := time.NewTicker(heartbeatEvery)
		defer heartbeat.Stop()
		for {
			select {
			case m, ok := <-changes:
				if !ok || sendMembership(*m) != nil {
					return
				}
			case <-heartbeat.C:
				if send([]byte(": keep-alive\n\n")) != nil {
					return
				}
			case <-r.Context().Done():
				return
			case <-s.Done:
				return
			}
		}
	}
}
