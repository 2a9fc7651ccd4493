package handlers

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"

	"storefront/components"
	"storefront/live"
	"storefront/store"
)

// Live stock notes: product pages and the catalogue say "Only N left" or "Sold out" (with the
// add-to-cart button disabled) as holds are taken and given back, sales made and stock edited,
// over the same event streams as orders. The store reports, after each commit, the products
// whose free stock it changed; each is published once to its own topic and to the catalogue's.

const catalogueStockTopic = "stock:catalogue"

func productStockTopic(id int64) string { return "stock:" + strconv.FormatInt(id, 10) }

// stockChange is one commit's change to a product's stock, as the broker carries it. Every
// stream watching the product gets the same pointer; the first to send it renders its message
// (reading the product once) and the others send the same bytes.
type stockChange struct {
	productID int64
	once      sync.Once
	msg       []byte
	err       error
}

// watchStock starts publishing the store's stock changes, until the server shuts down.
func (s *server) watchStock() {
	s.stock = live.NewBroker[*stockChange]()
	stop := s.Store.WatchStock(s.publishStock)
	go func() {
		<-s.Done
		stop()
	}()
}

// publishStock tells the pages showing the products that their stock changed. It runs on the
// store's committing goroutine and never blocks.
func (s *server) publishStock(productIDs []int64) {
	for _, id := range productIDs {
		c := &stockChange{productID: id}
		s.stock.Publish(productStockTopic(id), c)
		s.stock.Publish(catalogueStockTopic, c)
	}
}

// message is the change's SSE message: the product's note and button as they are now.
func (c *stockChange) message(ctx context.Context, s *server) ([]byte, error) {
	c.once.Do(func() {
		p, err := s.Store.ProductByID(ctx, c.productID)
		view := components.Product{ID: c.productID} // gone from the catalogue: nothing left to buy
		if err == nil {
			view = productView(p)
		} else if !errors.Is(err, store.ErrNotFound) {
			c.err = err
			return
		}
		var buf bytes.Buffer
		c.err = stockMessage(ctx, &buf, view)
		c.msg = buf.Bytes()
	})
	return c.msg, c.err
}

// stockMessage renders the products' notes and buttons as one SSE message into buf.
func stockMessage(ctx context.Context, buf *bytes.Buffer, products ...components.Product) error {
	var html bytes.Buffer
	for _, p := range products {
		if err := components.StockUpdate(p).Render(ctx, &html); err != nil {
			return err
		}
	}
	writeEvent(buf, html.Bytes())
	return nil
}

// handleStockEvents streams stock notes as Server-Sent Events to anyone, logged in or not
// (within the caps on open streams): ?product=ID for one product's page, or the whole
// catalogue for its grid, with ?v= the catalogue version the page was rendered at. A product
// stream starts with the product's current note, a catalogue stream with every product's when
// the catalogue has changed since v, so that a page that reconnects after missing messages is
// whole again; after that each message is one change, rendered once for all streams.
func (s *server) handleStockEvents() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if ls := s.openStockStream(w, r); ls != nil && ls.conn == nil {
			ls.serveOnRequest(r)
		}
	}
}

// openStockStream checks the request, subscribes and sends the current state. It answers the
// request itself and returns nil when there is no stream to run.
func (s *server) openStockStream(w http.ResponseWriter, r *http.Request) *liveStream {
	ctx := r.Context()
	q := r.URL.Query()
	topic := catalogueStockTopic
	var productID int64
	if p := q.Get("product"); p != "" {
		id, err := strconv.ParseInt(p, 10, 64)
		if err != nil || id <= 0 {
			refuseStream(w)
			s.writeJSON(w, r, http.StatusBadRequest, map[string]string{"error": "product must be a product id"})
			return nil
		}
		productID, topic = id, productStockTopic(id)
	}
	ls := s.admitStream(w, r, s.visitorOf(r))
	if ls == nil {
		return nil
	}
	// A message is shared: one page leaving must not spoil it for the others.
	shared := context.WithoutCancel(ctx)
	// Subscribe before reading the current state, so that no change falls between the two.
	sub := s.stock.Subscribe(func(c *stockChange) {
		ls.push(func() ([]byte, error) { return c.message(shared, s) })
	}, topic)
	ls.unsubscribe = sub.Close
	views, err := s.stockSnapshot(ctx, productID, q.Get("v"))
	buf := buffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer buffers.Put(buf)
	if err == nil && len(views) > 0 {
		err = stockMessage(ctx, buf, views...)
	}
	if err != nil {
		ls.end()
		refuseStream(w)
		if errors.Is(err, store.ErrNotFound) {
			s.writeJSON(w, r, http.StatusNotFound, map[string]string{"error": "no such product"})
		} else {
			s.serverError(w, r, err)
		}
		return nil
	}
	if !ls.open(w, buf.Bytes()) {
		return nil
	}
	return ls
}

// stockSnapshot is what a new stock stream starts with: the product's note, or for the
// catalogue every product's if the catalogue moved on since version (nothing if not).
func (s *server) stockSnapshot(ctx context.Context, productID int64, version string) ([]components.Product, error) {
	if productID != 0 {
		p, err := s.Store.ProductByID(ctx, productID)
		if err != nil {
			return nil, err
		}
		return []components.Product{productView(p)}, nil
	}
	products, current, err := s.Store.Catalogue(ctx)
	if err != nil || strconv.FormatInt(current, 10) == version {
		return nil, err
	}
	views := make([]components.Product, len(products))
	for i, p := range products {
		views[i] = productView(p)
	}
	return views, nil
}
