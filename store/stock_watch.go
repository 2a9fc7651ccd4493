package store

import "sync"

// stockWatchers are the functions told, after each commit, which products' free stock it
// changed (see WatchStock).
type stockWatchers struct {
	mu   sync.Mutex
	next int
	fns  map[int]func([]int64)
}

// WatchStock calls fn after every commit that changed what is free of some products whose
// stock is limited (a hold taken or given back, a sale) or that an admin edited, with their
// ids. fn runs on the committing goroutine, so it must not block; the ids are its own. stop
// ends the watch.
func (db *DB) WatchStock(fn func(productIDs []int64)) (stop func()) {
	w := &db.stockWatchers
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fns == nil {
		w.fns = make(map[int]func([]int64))
	}
	id := w.next
	w.next++
	w.fns[id] = fn
	return func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.fns, id)
	}
}

func (w *stockWatchers) notify(ids []int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, fn := range w.fns {
		fn(append([]int64(nil), ids...))
	}
}
