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
func (s *server) handleOrderEvents() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
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
				return
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
				return
			}
			userID := v.user.ID
			topic = userTopic(userID)
			snapshot = func(ctx context.Context) ([]store.Order, error) {
				return s.Store.OrdersForUser(ctx, userID, ordersShown)
			}
			view = func(o store.Order) templ.Component { return components.OrderRow(orderView(o)) }
		}

		// Subscribe before reading the snapshot, so that no change falls between the two.
		sub := s.Feed.broker.Subscribe(topic)
		defer sub.Close()
		orders, err := snapshot(ctx)
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
		// Each message is rendered and framed in pooled buffers and written with one call:
		// net/http already buffers the connection, and an idle stream should hold no buffers.
		write := func(b []byte) error {
			if _, err := w.Write(b); err != nil {
				return err
			}
			return rc.Flush()
		}
		send := func(orders ...store.Order) error {
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
				if n, err := s.Store.CartCount(ctx, v.cartRef()); err == nil {
					components.CartBadgeOOB(n).Render(ctx, msg)
				}
			}
			writeEvent(frame, msg.Bytes())
			return write(frame.Bytes())
		}

		if err := write([]byte("retry: " + strconv.Itoa(int(reconnectAfter.Milliseconds())) + "\n\n")); err != nil {
			return
		}
		if err := send(orders...); err != nil {
			return
		}
		heartbeat := time.NewTicker(heartbeatEvery)
		defer heartbeat.Stop()
		for {
			select {
			case o, ok := <-sub.C:
				if !ok {
					return // dropped for falling behind: the browser reconnects and resyncs
				}
				if err := send(*o); err != nil {
					return
				}
			case <-heartbeat.C:
				if write([]byte(": keep-alive\n\n")) != nil {
					return
				}
			case <-ctx.Done():
				return
			case <-s.Done:
				return
			}
		}
	}
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
