package handlers

import (
	"bytes"
	"context"
	"net/http"
	"strconv"

	"github.com/a-h/templ"

	"storefront/components"
	"storefront/store"
)

// publishOrder sends a committed order change to its owner's streams and to the streams of its
// checkout session (the success page, which is how guests watch theirs). Subscribers share one
// copy and only read it.
func (s *server) publishOrder(o store.Order) {
	s.showOrder(o)
	s.Store.AnnounceOrder(o.ID) // and to the pages other instances hold (PostgreSQL)
}

// showOrder sends an order change to the streams this instance holds.
func (s *server) showOrder(o store.Order) {
	p := &o
	s.rendered.add(p)
	if o.UserID != 0 {
		s.Broker.Publish(userTopic(o.UserID), p)
	}
	if o.CheckoutSessionID != "" {
		s.Broker.Publish(sessionTopic(o.CheckoutSessionID), p)
	}
	if o.Kind == store.KindPaymentIntent && o.PaymentIntent != "" {
		s.Broker.Publish(intentTopic(o.PaymentIntent), p)
	}
	s.Broker.Publish(adminTopic, p) // the console's order list
}

func userTopic(id int64) string          { return "user:" + strconv.FormatInt(id, 10) }
func sessionTopic(id string) string      { return "session:" + id }
func intentTopic(id string) string       { return "intent:" + id }
func refuseStream(w http.ResponseWriter) { w.Header().Set("HX-Reswap", "none") }

// handleOrderEvents streams order changes as Server-Sent Events. Without parameters it is the
// logged-in user's orders (each message a re-rendered order row); with session_id it is one
// checkout's status panel, for the success page. Each connection starts with the current state,
// so a page that reconnects after missing messages is whole again.
//
// Once the current state is sent, the stream takes the connection over from the HTTP server
// (see stream.go): the request's goroutine and buffers are freed, and an open page costs a
// parked read and a few small structs.
func (s *server) handleOrderEvents() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if st := s.openStream(w, r); st != nil && st.conn == nil {
			st.serveOnRequest(r)
		}
	}
}

// streamView is how a page shows one order; every stream of one view gets the same message for
// the same change, so it is rendered once (see renderMemo).
type streamView int

const (
	viewOrderRow    streamView = iota // the orders page: one row per order
	viewStatusPanel                   // the success page: the checkout's status panel
	viewOrderDetail                   // an order's own page: its whole detail
	streamViews                       // how many views there are
)

// render is the view's component for one order.
func (v streamView) render(o store.Order) templ.Component {
	ov := orderView(o)
	if v == viewStatusPanel {
		return templ.Join(components.StatusPanel(ov), components.SuccessDetails(ov, true))
	}
	if v == viewOrderDetail {
		return components.OrderDetail(ov)
	}
	return components.OrderRow(ov)
}

// orderStream is what an order stream watches and how it shows an order.
type orderStream struct {
	topics []string
	view   streamView
	// render, when set, shows an order for this stream alone (the console's filtered list),
	// instead of the view shared by every stream.
	render func(store.Order) templ.Component
	// keep, when set, says which published changes this stream shows (one order's page, or the
	// orders page's first page); the others are skipped.
	keep     func(*store.Order) bool
	snapshot func(context.Context) ([]store.Order, error)
	ctx      context.Context // for rendering: the request's values, never cancelled
	locale   int             // components.LocaleIndex(ctx), looked up once
}

// openStream checks who may watch what, subscribes, and sends the current state. It answers
// the request itself and returns nil when there is no stream to run.
func (s *server) openStream(w http.ResponseWriter, r *http.Request) *liveStream {
	v := s.visitorOf(r)
	var st *orderStream
	sessionID, intentID := r.URL.Query().Get("session_id"), r.URL.Query().Get("payment_intent")
	if sessionID != "" || intentID != "" {
		st = s.checkoutStream(r.Context(), v, sessionID, intentID)
		if st == nil {
			refuseStream(w)
			s.writeJSON(w, r, http.StatusNotFound, map[string]string{"error": "no such checkout"})
			return nil
		}
	} else if id := r.URL.Query().Get("order_id"); id != "" {
		if st = s.orderDetailStream(r.Context(), v, id); st == nil {
			refuseStream(w)
			s.writeJSON(w, r, http.StatusNotFound, map[string]string{"error": "no such order"})
			return nil
		}
	} else if r.URL.Path == adminStreamPath {
		st = s.adminStream(r) // the route lets only admins in
	} else {
		if v.user == nil {
			refuseStream(w)
			s.writeJSON(w, r, http.StatusUnauthorized, map[string]string{"error": "log in to follow your orders"})
			return nil
		}
		st = s.userStream(v.user.ID)
	}
	ls := s.admitStream(w, r, v)
	if ls == nil {
		return nil
	}
	st.ctx = context.WithoutCancel(r.Context())
	st.locale = components.LocaleIndex(st.ctx)
	// Subscribe before reading the snapshot, so that no change falls between the two.
	sub := s.Broker.Subscribe(func(o *store.Order) {
		ls.push(func() ([]byte, error) { return s.changeMessage(st, o) })
	}, st.topics...)
	ls.unsubscribe = sub.Close
	orders, err := st.snapshot(r.Context())
	msg := buffers.Get().(*bytes.Buffer)
	defer buffers.Put(msg)
	if err == nil {
		err = s.frame(st.ctx, msg, st.renderer(), orders...)
	}
	if err != nil {
		ls.end()
		refuseStream(w)
		s.serverError(w, r, err)
		return nil
	}
	if !ls.open(w, msg.Bytes()) {
		return nil
	}
	return ls
}

// admitStream takes a slot for a new stream of the visitor's, or answers 429 itself and
// returns nil when a cap on open streams is reached.
func (s *server) admitStream(w http.ResponseWriter, r *http.Request, v *visitor) *liveStream {
	var userID int64
	if v.user != nil {
		userID = v.user.ID
	}
	slot, full := s.streams.admit(r.Context(), userID, clientAddr(r))
	if slot == nil {
		refuseStream(w)
		retryAfter(w, streamRetryAfter)
		s.writeJSON(w, r, http.StatusTooManyRequests, map[string]string{"error": full})
		return nil
	}
	return newLiveStream(s, slot)
}

// checkoutStream watches one checkout's status panel, for the success page: a Checkout
// Session's, or a PaymentIntent's (the payment-complete page). A user's order is shown only to
// that user; a guest's to whoever holds the session or intent id. It returns nil when the
// visitor may not watch it.
func (s *server) checkoutStream(ctx context.Context, v *visitor, sessionID, intentID string) *orderStream {
	find := func(ctx context.Context) (store.Order, error) { return s.Store.OrderBySession(ctx, sessionID) }
	topic := sessionTopic(sessionID)
	if sessionID == "" {
		find = func(ctx context.Context) (store.Order, error) { return s.Store.OrderByPaymentIntent(ctx, intentID) }
		topic = intentTopic(intentID)
	}
	o, err := find(ctx)
	if err != nil || (o.UserID != 0 && (v.user == nil || v.user.ID != o.UserID)) {
		return nil
	}
	return &orderStream{
		topics: []string{topic},
		snapshot: func(ctx context.Context) ([]store.Order, error) {
			o, err := find(ctx)
			return []store.Order{o}, err
		},
		view: viewStatusPanel,
	}
}

// userStream watches a user's orders, for the first page of the orders page: each message is an
// order row. It starts with that page; later, new orders and changes to the orders on it
// arrive, but not changes to older orders, which belong to later pages.
func (s *server) userStream(userID int64) *orderStream {
	st := &orderStream{topics: []string{userTopic(userID)}, view: viewOrderRow}
	st.snapshot = func(ctx context.Context) ([]store.Order, error) {
		orders, err := s.Store.OrdersForUser(ctx, userID, ordersPerPage)
		if err == nil && len(orders) == ordersPerPage {
			oldest := orders[len(orders)-1].ID
			st.keep = func(o *store.Order) bool { return o.ID >= oldest }
		}
		return orders, err
	}
	return st
}

// changeMessage is one published change as this stream shows it (set by the snapshot, keep is
// read here, once the stream runs). The message is rendered once
// for all the streams of the same view (thousands, for one shopper's many tabs), not once per
// stream; the console's filtered list renders its own.
func (s *server) changeMessage(st *orderStream, o *store.Order) ([]byte, error) {
	if st.keep != nil && !st.keep(o) {
		return nil, nil // not on this page: nothing to send
	}
	render := func(buf *bytes.Buffer) error { return s.frame(st.ctx, buf, st.renderer(), *o) }
	if st.render != nil {
		var buf bytes.Buffer
		err := render(&buf)
		return buf.Bytes(), err
	}
	return s.rendered.message(o, st.view, st.locale, render)
}

// renderer is how this stream shows an order.
func (st *orderStream) renderer() func(store.Order) templ.Component {
	if st.render != nil {
		return st.render
	}
	return st.view.render
}

// frame renders orders with render as one SSE message into buf. A paid order empties its cart, so
// the message refreshes the page's cart badge too, from the order's own cart.
func (s *server) frame(ctx context.Context, buf *bytes.Buffer, render func(store.Order) templ.Component, orders ...store.Order) error {
	msg := buffers.Get().(*bytes.Buffer)
	msg.Reset()
	defer buffers.Put(msg)
	for _, o := range orders {
		if err := render(o).Render(ctx, msg); err != nil {
			return err
		}
	}
	if n := len(orders); n > 0 && orders[n-1].Status == store.StatusPaid && orders[n-1].CartID != 0 {
		if count, err := s.Store.CartCountByID(ctx, orders[n-1].CartID); err == nil {
			components.CartBadgeOOB(count).Render(ctx, msg)
		}
	}
	buf.Reset()
	writeEvent(buf, msg.Bytes())
	return nil
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
