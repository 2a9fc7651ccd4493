package handlers

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/a-h/templ"

	"storefront/components"
	"storefront/live"
	"storefront/store"
)

// Live stream settings.
const (
	heartbeatEvery = 15 * time.Second
	reconnectAfter = 2 * time.Second
	feedBuffer     = 8
)

// Feed carries committed order changes to the pages watching them: a user's orders page, and
// the success page of one checkout session (which is how guests watch theirs).
type Feed struct {
	broker *live.Broker[*store.Order]
}

// NewFeed returns an empty feed.
func NewFeed() *Feed { return &Feed{broker: live.NewBroker[*store.Order](feedBuffer)} }

// PublishOrder sends a changed order to its owner's streams and its checkout session's streams.
func (f *Feed) PublishOrder(o store.Order) {
	// Subscribers share one copy and only read it.
	p := &o
	if o.UserID != 0 {
		f.broker.Publish(userTopic(o.UserID), p)
	}
	if o.CheckoutSessionID != "" {
		f.broker.Publish(sessionTopic(o.CheckoutSessionID), p)
	}
}

func userTopic(id int64) string          { return "user:" + strconv.FormatInt(id, 10) }
func sessionTopic(id string) string      { return "session:" + id }
func refuseStream(w http.ResponseWriter) { w.Header().Set("HX-Reswap", "none") }

// handleOrderEvents streams order changes as Server-Sent Events. Without parameters it is the
// logged-in user's orders (each message a re-rendered order row); with session_id it is one
// checkout's status panel, for the success page. Each connection starts with the current state,
// so a page that reconnects after missing messages is whole again.
//
// A stream's goroutine lives as long as the page stays open, and a goroutine stack grown once
// stays grown. Reading the database and rendering need a deep stack for a moment, so that work
// runs on short-lived goroutines (onFreshStack), and thousands of idle streams stay small.
func (s *server) handleOrderEvents() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var st *orderStream
		onFreshStack(func() error { st = s.openStream(w, r); return nil })
		if st == nil {
			return
		}
		defer st.sub.Close()
		heartbeat := time.NewTicker(heartbeatEvery)
		defer heartbeat.Stop()
		for {
			select {
			case o, ok := <-st.sub.C:
				if !ok {
					return // dropped for falling behind: the browser reconnects and resyncs
				}
				if err := onFreshStack(func() error { return st.send(*o) }); err != nil {
					return
				}
			case <-heartbeat.C:
				if st.write([]byte(": keep-alive\n\n")) != nil {
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

// orderStream is one open event stream.
type orderStream struct {
	sub   *live.Subscription[*store.Order]
	send  func(orders ...store.Order) error // render orders and send them as one message
	write func(b []byte) error              // write raw SSE bytes and flush
}

// openStream checks who may watch what, subscribes, and sends the current state. It answers
// the request itself and returns nil when there is no stream to run.
func (s *server) openStream(w http.ResponseWriter, r *http.Request) *orderStream {
	v := s.visit(r)
	ctx := r.Context()
	var (
		topic    string
		snapshot func(context.Context) ([]store.Order, error)
		view     func(store.Order) templ.Component
	)
	if sessionID := r.URL.Query().Get("session_id"); sessionID != "" {
		o, err := s.Store.OrderBySession(ctx, sessionID)
		if err != nil || (o.UserID != 0 && (v.user == nil || v.user.ID != o.UserID)) {
			refuseStream(w)
			s.writeJSON(w, r, http.StatusNotFound, map[string]string{"error": "no such checkout"})
			return nil
		}
		topic = sessionTopic(sessionID)
		snapshot = func(ctx context.Context) ([]store.Order, error) {
			o, err := s.Store.OrderBySession(ctx, sessionID)
			return []store.Order{o}, err
		}
		view = func(o store.Order) templ.Component {
			ov := orderView(o)
			return templ.Join(components.StatusPanel(ov), components.SuccessDetails(ov, true))
		}
	} else {
		if v.user == nil {
			refuseStream(w)
			s.writeJSON(w, r, http.StatusUnauthorized, map[string]string{"error": "log in to follow your orders"})
			return nil
		}
		userID := v.user.ID
		topic = userTopic(userID)
		snapshot = func(ctx context.Context) ([]store.Order, error) {
			return s.Store.OrdersForUser(ctx, userID, ordersShown)
		}
		view = func(o store.Order) templ.Component { return components.OrderRow(orderView(o)) }
	}

	// Subscribe before reading the snapshot, so that no change falls between the two.
	st := &orderStream{sub: s.Feed.broker.Subscribe(topic)}
	orders, err := snapshot(ctx)
	if err != nil {
		st.sub.Close()
		refuseStream(w)
		s.serverError(w, r, err)
		return nil
	}

	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	st.write = func(b []byte) error {
		if _, err := w.Write(b); err != nil {
			return err
		}
		return rc.Flush()
	}
	// Each message is rendered and framed in pooled buffers and written with one call:
	// net/http already buffers the connection, and an idle stream should hold no buffers.
	cart := v.cartRef()
	st.send = func(orders ...store.Order) error {
		msg, frame := buffers.Get().(*bytes.Buffer), buffers.Get().(*bytes.Buffer)
		msg.Reset()
		frame.Reset()
		defer buffers.Put(msg)
		defer buffers.Put(frame)
		for _, o := range orders {
			if err := view(o).Render(ctx, msg); err != nil {
				return err
			}
		}
		if len(orders) > 0 && orders[len(orders)-1].Status == store.StatusPaid {
			// Paying empties the cart: refresh the nav badge of the page too.
			if n, err := s.Store.CartCount(ctx, cart); err == nil {
				components.CartBadgeOOB(n).Render(ctx, msg)
			}
		}
		writeEvent(frame, msg.Bytes())
		return st.write(frame.Bytes())
	}
	if st.write([]byte("retry: "+strconv.Itoa(int(reconnectAfter.Milliseconds()))+"\n\n")) != nil || st.send(orders...) != nil {
		st.sub.Close()
		return nil
	}
	return st
}

// onFreshStack runs fn on a short-lived goroutine and waits for it (see handleOrderEvents).
func onFreshStack(fn func() error) error {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	return <-done
}

// writeEvent writes one SSE message whose data is html, one data: line per line of it.
func writeEvent(w *bytes.Buffer, html []byte) {
	for len(html) > 0 {
		line := html
		if i := bytes.IndexByte(html, '\n'); i >= 0 {
			line, html = html[:i], html[i+1:]
		} else {
			html = nil
		}
		w.WriteString("data: ")
		w.Write(bytes.TrimSuffix(line, []byte("\r")))
		w.WriteByte('\n')
	}
	w.WriteByte('\n')
}
