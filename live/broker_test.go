package live

import (
	"slices"
	"sync"
	"testing"
)

// recorder collects what a subscription was handed.
type recorder[T any] struct {
	mu  sync.Mutex
	got []T
}

func (r *recorder[T]) deliver(m T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, m)
}

func (r *recorder[T]) messages() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

func TestBroker(t *testing.T) {
	t.Run("FanOut", func(t *testing.T) {
		b := NewBroker[string]()
		var a, c recorder[string]
		b.Subscribe(a.deliver, "user:1")
		b.Subscribe(c.deliver, "user:1")
		b.Publish("user:1", "order 7 paid")
		for _, r := range []*recorder[string]{&a, &c} {
			if got := r.messages(); !slices.Equal(got, []string{"order 7 paid"}) {
				t.Fatalf("got %q, want [order 7 paid]", got)
			}
		}
	})

	t.Run("IsolatesTopics", func(t *testing.T) {
		b := NewBroker[string]()
		var mine, theirs recorder[string]
		b.Subscribe(mine.deliver, "user:1")
		b.Subscribe(theirs.deliver, "user:2")
		b.Publish("user:1", "mine")
		if got := mine.messages(); !slices.Equal(got, []string{"mine"}) {
			t.Fatalf("got %q", got)
		}
		if got := theirs.messages(); len(got) != 0 {
			t.Fatalf("user 2 received user 1's messages %q", got)
		}
	})

	t.Run("SeveralTopicsInOrder", func(t *testing.T) {
		b := NewBroker[string]()
		var r recorder[string]
		b.Subscribe(r.deliver, "user:1", "session:cs_1")
		b.Publish("session:cs_1", "via session")
		b.Publish("user:1", "via user")
		if got := r.messages(); !slices.Equal(got, []string{"via session", "via user"}) {
			t.Fatalf("got %q", got)
		}
	})

	t.Run("NothingAfterClose", func(t *testing.T) {
		b := NewBroker[int]()
		var r recorder[int]
		s := b.Subscribe(r.deliver, "x")
		b.Publish("x", 1)
		s.Close()
		s.Close()
		b.Publish("x", 2)
		if got := r.messages(); !slices.Equal(got, []int{1}) {
			t.Fatalf("got %v, want [1]", got)
		}
		if b.Subscribers("x") != 0 {
			t.Fatal("closed subscription still counted")
		}
	})
}
