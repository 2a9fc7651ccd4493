package handlers

import (
	"bytes"
	"sync"

	"storefront/store"
)

// renderMemo keeps the rendered messages of the last few published changes, one per stream
// view, so that a change watched by thousands of streams is rendered (and its cart badge read)
// once. Subscribers find a change by the pointer the broker handed them; a change evicted
// before a slow stream got to it is simply rendered again for that stream.
type renderMemo struct {
	mu      sync.Mutex
	recent  [128]*store.Order
	next    int
	byOrder map[*store.Order]*renderedChange
}

type renderedChange struct {
	views [streamViews][localeSlots]struct {
		once sync.Once
		msg  []byte
		err  error
	}
}

// add registers a change about to be published.
func (m *renderMemo) add(o *store.Order) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byOrder == nil {
		m.byOrder = make(map[*store.Order]*renderedChange, len(m.recent))
	}
	if old := m.recent[m.next]; old != nil {
		delete(m.byOrder, old)
	}
	m.recent[m.next] = o
	m.next = (m.next + 1) % len(m.recent)
	m.byOrder[o] = &renderedChange{}
}

// localeSlots bounds how many money locales (components.Locales) the memo keeps a message for:
// streams in different languages show the same change with prices written differently.
const localeSlots = 12

// message returns the change's message in view for the locale numbered locale (an index of
// components.Locales), rendering it with render the first time. The bytes are shared:
// callers only write them out.
func (m *renderMemo) message(o *store.Order, view streamView, locale int, render func(*bytes.Buffer) error) ([]byte, error) {
	m.mu.Lock()
	rc := m.byOrder[o]
	m.mu.Unlock()
	if rc == nil {
		var buf bytes.Buffer
		err := render(&buf)
		return buf.Bytes(), err
	}
	v := &rc.views[view][locale%localeSlots]
	v.once.Do(func() {
		var buf bytes.Buffer
		v.err = render(&buf)
		v.msg = buf.Bytes()
	})
	return v.msg, v.err
}
