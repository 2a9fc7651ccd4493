package handlers

import (
	"context"
	"time"

	"storefront/store"
)

// heardFromOtherInstances shows on this instance's open pages what another instance committed
// (PostgreSQL; see store/notes.go): each order or membership named is read here and published
// as if changed here. Stock changes reach the stock streams through WatchStock by themselves.
// When notes may have been lost, every stream ends: pages reconnect and start from the
// current state.
func (s *server) heardFromOtherInstances(n store.Note) {
	if n.Resync {
		s.streams.each((*streamSlot).end)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, id := range n.Orders {
		if o, err := s.Store.Order(ctx, id); err == nil {
			s.showOrder(o)
		}
	}
	for _, user := range n.Members {
		if m, err := s.Store.MembershipOf(ctx, user); err == nil {
			s.members.Publish(userTopic(user), &m)
		}
	}
}
