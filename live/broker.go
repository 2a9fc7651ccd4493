// Package live fans order changes out to the pages watching them (Server-Sent Events).
package live

import "sync"

// Broker is an in-process publish/subscribe hub keyed by topic (a user, or a checkout session).
// Publishing hands each message to every subscriber's deliver function, which must not block:
// a subscriber queues the message and writes it out on its own time. So an open page needs
// no goroutine waiting on it.
type Broker[T any] struct {
	mu     sync.Mutex
	topics map[string]map[*Subscription[T]]struct{}
}

// Subscription receives the messages published to its topics until it is closed.
type Subscription[T any] struct {
	deliver func(T)
	topics  []string
	broker  *Broker[T]
	closed  bool // guarded by broker.mu
}

// NewBroker returns an empty broker.
func NewBroker[T any]() *Broker[T] {
	return &Broker[T]{topics: make(map[string]map[*Subscription[T]]struct{})}
}

// Subscribe starts handing the messages published to any of topics to deliver. deliver runs
// while the broker is locked: it must return at once and must not close the subscription.
func (b *Broker[T]) Subscribe(deliver func(T), topics ...string) *Subscription[T] {
	s := &Subscription[T]{deliver: deliver, topics: topics, broker: b}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, t := range topics {
		subs := b.topics[t]
		if subs == nil {
			subs = make(map[*Subscription[T]]struct{})
			b.topics[t] = subs
		}
		subs[s] = struct{}{}
	}
	return s
}

// Publish hands msg to every subscriber of topic.
func (b *Broker[T]) Publish(topic string, msg T) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.topics[topic] {
		s.deliver(msg)
	}
}

// Subscribers counts the open subscriptions to topic.
func (b *Broker[T]) Subscribers(topic string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.topics[topic])
}

// Close ends the subscription: deliver is not called again once Close returns. It is safe to
// call more than once.
func (s *Subscription[T]) Close() {
	b := s.broker
	b.mu.Lock()
	defer b.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	for _, t := range s.topics {
		delete(b.topics[t], s)
		if len(b.topics[t]) == 0 {
			delete(b.topics, t)
		}
	}
}
