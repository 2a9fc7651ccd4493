package main

import (
	"bufio"
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"storefront/store"
	"storefront/store/storetest"
)

// TestTwoInstances runs two storefront processes on one PostgreSQL database, as two instances
// behind a load balancer: a payment confirmed through one shows on a page held open by the
// other, the same event delivered to both at once is applied once, and killing one (SIGKILL)
// during a flood of webhooks loses nothing it acknowledged, the retries going to the other.
func TestTwoInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the server and runs two of it as child processes; skipped with -short")
	}
	if !storetest.Postgres() {
		t.Skip("instances share a PostgreSQL database: set " + storetest.EnvURL + " (make test-postgres does)")
	}
	crashDuplicates.Store(0)
	dsn := storetest.DSN(t)
	bin := crashBuildServer(t, t.TempDir())
	const live, dups, flood = 11, 30, 120
	orders := crashSeedOrders(t, dsn, live+dups+flood)
	a := &crashServer{t: t, bin: bin, dbPath: dsn, addr: crashFreeAddr(t), apiBase: "http://" + crashFreeAddr(t)}
	b := &crashServer{t: t, bin: bin, dbPath: dsn, addr: crashFreeAddr(t), apiBase: a.apiBase}
	a.start()
	b.start()
	t.Cleanup(a.kill)
	t.Cleanup(b.kill)
	if t.Failed() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	client := &http.Client{Timeout: 5 * time.Second}

	t.Run("PaymentOnAShowsOnB", func(t *testing.T) {
		// B answered /healthz, so it listens to A's notes. The first order warms both up; the
		// others are timed from the webhook sent to A to the paid status on B's page.
		var took []time.Duration
		for i, o := range orders[:live] {
			paid := watchPaid(t, ctx, b.addr, o)
			sent := time.Now()
			if !crashDeliver(ctx, t, client, crashEvent(o), a.addr) {
				return
			}
			select {
			case at := <-paid:
				if i > 0 {
					took = append(took, at.Sub(sent))
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("order %d, paid through A, not shown paid on B's page after 10 s", o.ID)
			}
		}
		slices.Sort(took)
		t.Logf("webhook to A → B's page: median %v, slowest %v of %d", took[len(took)/2], took[len(took)-1], len(took))
		if med := took[len(took)/2]; med > 100*time.Millisecond {
			t.Errorf("median %v from a webhook to A to B's page, want under 100 ms", med)
		}
	})

	t.Run("DuplicatesToBothApplyOnce", func(t *testing.T) {
		before := crashDuplicates.Load()
		var wg sync.WaitGroup
		for _, o := range orders[live : live+dups] {
			start := make(chan struct{})
			for _, addr := range []string{a.addr, b.addr} {
				wg.Go(func() {
					<-start
					crashDeliver(ctx, t, client, crashEvent(o), addr)
				})
			}
			close(start)
		}
		wg.Wait()
		if got := crashDuplicates.Load() - before; got != dups {
			t.Errorf("%d of %d events sent to both instances at once were answered as duplicates by one of them, want all", got, dups)
		}
	})

	t.Run("KillDuringFlood", func(t *testing.T) {
		acks := make(chan int64, flood)
		var wg sync.WaitGroup
		jobs := make(chan store.Order)
		for range 16 {
			wg.Go(func() {
				for o := range jobs {
					if crashDeliver(ctx, t, client, crashEvent(o), a.addr, b.addr) { // to A first; retries alternate
						acks <- o.ID
					}
				}
			})
		}
		go func() {
			for _, o := range orders[live+dups:] {
				jobs <- o
			}
			close(jobs)
		}()
		var ackedBeforeKill []int64
		for range flood / 3 {
			ackedBeforeKill = append(ackedBeforeKill, <-acks)
		}
		a.kill()
		t.Logf("SIGKILL of A after %d acknowledgements", len(ackedBeforeKill))
		wg.Wait() // the rest were acknowledged by B, or by A before it died: all are checked below
		conn := storetest.Conn(t, dsn)
		for _, id := range ackedBeforeKill {
			var status string
			if err := conn.QueryRow("SELECT status FROM orders WHERE id = ?", id).Scan(&status); err != nil || status != string(store.StatusPaid) {
				t.Errorf("order %d, acknowledged before the kill: status %q (%v), want paid", id, status, err)
			}
		}
	})

	t.Run("EachEventAppliedOnce", func(t *testing.T) {
		conn := storetest.Conn(t, dsn)
		var rows, distinct, applied, unpaid, receipts int
		err := conn.QueryRow(`SELECT count(*), count(DISTINCT id), COALESCE(SUM(CASE WHEN outcome = 'applied' THEN 1 ELSE 0 END), 0)
			FROM stripe_events`).Scan(&rows, &distinct, &applied)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(orders); rows != n || distinct != n || applied != n {
			t.Errorf("stripe_events holds %d rows, %d distinct, %d applied; want %d each", rows, distinct, applied, n)
		}
		if err := conn.QueryRow("SELECT count(*) FROM orders WHERE status <> 'paid'").Scan(&unpaid); err != nil || unpaid != 0 {
			t.Errorf("%d orders (%v) not paid, want none", unpaid, err)
		}
		if err := conn.QueryRow("SELECT count(*) FROM outbox WHERE kind = 'receipt'").Scan(&receipts); err != nil || receipts != len(orders) {
			t.Errorf("%d receipts queued (%v), want one per order: %d", receipts, err, len(orders))
		}
	})
}

// watchPaid opens the success page's event stream for the guest order o on the instance at
// addr, waits for its first message (the order as it is now), and then sends on the channel
// the time at which the stream shows the order paid.
func watchPaid(t *testing.T, ctx context.Context, addr string, o store.Order) <-chan time.Time {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/orders/events?session_id="+o.CheckoutSessionID, nil)
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		res.Body.Close()
		t.Fatalf("stream of order %d: status %d", o.ID, res.StatusCode)
	}
	first, paid := make(chan struct{}), make(chan time.Time, 1)
	go func() {
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		opened := false
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, "data:") {
				continue
			}
			if !opened {
				opened = true
				close(first)
			}
			if strings.Contains(line, "status-paid") {
				paid <- time.Now()
				return
			}
		}
	}()
	select {
	case <-first:
	case <-time.After(10 * time.Second):
		t.Fatalf("stream of order %d: no first message after 10 s", o.ID)
	}
	return paid
}
