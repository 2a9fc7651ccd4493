// Package live fans order changes out to the pages watching them (Server-Sent Events).
package live

import "sync"

// Broker is an in-process publish/subscribe hub keyed by topic (a user, or a checkout session).
// Publishing never blocks: a subscriber whose buffer is full is dropped, and its page resyncs
// when it reconnects.
type Broker[T any] struct {
	mu     sync.Mutex
	topics map[string]map[*Subscription[T]]struct{}
	buffer int
}

// Subscription receives the messages published to its topics until it is closed or dropped.
type Subscription[T any] struct {
	// C delivers messages; it is closed when the subscription is dropped or closed.
	C      <-chan T
	c      chan T
	topics []string
	broker *Broker[T]
	closed bool // guarded by broker.mu
}

// NewBroker returns a broker whose subscribers may fall up to buffer messages behind.
func NewBroker[T any](buffer int) *Broker[T] {
	return &Broker[T]{topics: make(map[string]map[*Subscription[T]]struct{}), buffer: max(buffer, 1)}
}

// Subscribe starts receiving the messages published to any of topics.
func (b *Broker[T]) Subscribe(topics ...string) *Subscription[T] {
	c := make(chan T, b.buffer)
	s := &Subscription[T]{C: c, c: c, topics: topics, broker: b}
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

// Publish sends msg to every subscriber of topic without waiting for any of them.
func (b *Broker[T]) Publish(topic string, msg T) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.topics[topic] {
		select {
		case s.c <- msg:
		default:
			b.removeLocked(s) // too slow: drop it rather than hold up the publisher
		}
	}
}

// Subscribers counts the open subscriptions to topic.
func (b *Broker[T]) Subscribers(topic string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.topics[topic])
}

// Close ends the subscription; it is safe to call more than once.
func (s *Subscription[T]) Close() {
	s.broker.mu.Lock()
	defer s.broker.mu.Unlock()
	s.broker.removeLocked(s)
}

func (b *Broker[T]) removeLocked(s *Subscription[T]) {
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
	close(s.c)
}
