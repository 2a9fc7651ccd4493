package live

import (
	"testing"
	"time"
)

func receive[T any](t *testing.T, s *Subscription[T]) (T, bool) {
	t.Helper()
	select {
	case m, ok := <-s.C:
		return m, ok
	case <-time.After(time.Second):
		t.Fatal("no message within a second")
		var zero T
		return zero, false
	}
}

func TestBroker(t *testing.T) {
	t.Run("FanOut", func(t *testing.T) {
		b := NewBroker[string](4)
		a, c := b.Subscribe("user:1"), b.Subscribe("user:1")
		b.Publish("user:1", "order 7 paid")
		for _, s := range []*Subscription[string]{a, c} {
			if got, _ := receive(t, s); got != "order 7 paid" {
				t.Fatalf("got %q, want %q", got, "order 7 paid")
			}
		}
	})

	t.Run("IsolatesTopics", func(t *testing.T) {
		b := NewBroker[string](4)
		mine, theirs := b.Subscribe("user:1"), b.Subscribe("user:2")
		b.Publish("user:1", "mine")
		if got, _ := receive(t, mine); got != "mine" {
			t.Fatalf("got %q", got)
		}
		select {
		case m := <-theirs.C:
			t.Fatalf("user 2 received user 1's message %q", m)
		case <-time.After(50 * time.Millisecond):
		}
	})

	t.Run("SeveralTopics", func(t *testing.T) {
		b := NewBroker[string](4)
		s := b.Subscribe("user:1", "session:cs_1")
		b.Publish("session:cs_1", "via session")
		if got, _ := receive(t, s); got != "via session" {
			t.Fatalf("got %q", got)
		}
	})

	t.Run("SlowSubscriberDroppedWithoutBlocking", func(t *testing.T) {
		b := NewBroker[int](2)
		stuck := b.Subscribe("user:1")
		healthy := b.Subscribe("user:1")
		done := make(chan struct{})
		go func() {
			for i := range 100 {
				b.Publish("user:1", i)
			}
			close(done)
		}()
		go func() {
			for range healthy.C {
			}
		}()
		select {
		case <-done:
		case <-time.After(time.Second):
			t.Fatal("publishing blocked on a stuck subscriber")
		}
		// The stuck subscriber keeps what fitted in its buffer, then sees its channel closed.
		n := 0
		for range stuck.C {
			n++
		}
		if n != 2 {
			t.Fatalf("stuck subscriber got %d buffered messages, want 2", n)
		}
		if got := b.Subscribers("user:1"); got > 1 {
			t.Fatalf("%d subscribers left, want the stuck one gone", got)
		}
	})

	t.Run("CloseTwice", func(t *testing.T) {
		b := NewBroker[int](1)
		s := b.Subscribe("x")
		s.Close()
		s.Close()
		if _, ok := <-s.C; ok {
			t.Fatal("channel still open after Close")
		}
		if b.Subscribers("x") != 0 {
			t.Fatal("closed subscription still counted")
		}
	})
}
