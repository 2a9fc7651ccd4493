package store

import (
	"context"
	"slices"
	"sync"
	"testing"
)

// stockLog records what WatchStock reports.
type stockLog struct {
	mu    sync.Mutex
	calls [][]int64
}

func (l *stockLog) add(ids []int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, ids)
}

// take returns the reports so far and forgets them.
func (l *stockLog) take() [][]int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.calls
	l.calls = nil
	return out
}

func TestWatchStock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := mustOpenDB(t)
	products := seededCatalogue(t, db, 2)
	mug, unlimited := products[0], products[1]
	setStock(t, db, mug.ID, 2)
	var log stockLog
	stop := db.WatchStock(log.add)

	_, o, err := stockShopper(t, db, mug.ID, 2, "cs_watch_a")
	if err != nil {
		t.Fatal(err)
	}
	if got := log.take(); !slices.EqualFunc(got, [][]int64{{mug.ID}}, slices.Equal) {
		t.Errorf("after a hold: reports %v, want [[%d]]", got, mug.ID)
	}
	if _, _, err := stockShopper(t, db, mug.ID, 1, "cs_watch_b"); err == nil {
		t.Fatal("a checkout of a sold-out product was accepted")
	}
	if got := log.take(); len(got) != 0 {
		t.Errorf("a refused checkout (rolled back) reported %v", got)
	}
	if _, _, err := stockShopper(t, db, unlimited.ID, 5, "cs_watch_c"); err != nil {
		t.Fatal(err)
	}
	if got := log.take(); len(got) != 0 {
		t.Errorf("a hold of a product with unlimited stock reported %v: no page shows its stock", got)
	}
	if _, changed, err := db.ExpireOrder(ctx, o.ID); err != nil || !changed {
		t.Fatalf("expire order: changed %t, %v", changed, err)
	}
	if got := log.take(); !slices.EqualFunc(got, [][]int64{{mug.ID}}, slices.Equal) {
		t.Errorf("after the hold was released: reports %v, want [[%d]]", got, mug.ID)
	}
	stop()
	if _, _, err := stockShopper(t, db, mug.ID, 1, "cs_watch_d"); err != nil {
		t.Fatal(err)
	}
	if got := log.take(); len(got) != 0 {
		t.Errorf("reports %v after the watch stopped", got)
	}
}
