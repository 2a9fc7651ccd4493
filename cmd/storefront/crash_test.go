package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"storefront/payments"
	"storefront/store"
)

// crashSecret signs the crash test's webhooks.
const crashSecret = "whsec_crash_test_0123456789abcdef"

// TestCrashRecovery kills the server with SIGKILL while signed webhooks pour in and are retried
// the way Stripe retries them (until a 2xx), restarts it on the same database and port, and
// checks that nothing acknowledged was lost and nothing was applied twice. SOAK=1 (make soak)
// sends 500 events and kills the server three times.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the server and runs it as a child process; skipped with -short")
	}
	crashDuplicates.Store(0)
	n, kills := 100, 1
	if os.Getenv("SOAK") == "1" {
		n, kills = 500, 3
	}
	dir := t.TempDir()
	bin := crashBuildServer(t, dir)
	dbPath := filepath.Join(dir, "data", "storefront.db")
	orders := crashSeedOrders(t, dbPath, n)
	srv := &crashServer{t: t, bin: bin, dbPath: dbPath, addr: crashFreeAddr(t), apiBase: "http://" + crashFreeAddr(t)}
	srv.start()
	t.Cleanup(srv.kill)

	// Kill after about a third of the events are acknowledged (SOAK: a fifth, two fifths, three fifths).
	acks := make(chan int64, n)
	var mu sync.Mutex
	ackedBeforeKill := map[int64]bool{} // order ids whose event was acknowledged before the last kill
	acked := map[int64]bool{}
	killerDone := make(chan struct{})
	go func() {
		defer close(killerDone)
		count, killed := 0, 0
		for id := range acks {
			count++
			mu.Lock()
			acked[id] = true
			mu.Unlock()
			if killed < kills && count >= (killed+1)*n/(kills+2) {
				srv.kill()
				mu.Lock()
				for id := range acked {
					ackedBeforeKill[id] = true
				}
				mu.Unlock()
				killed++
				t.Logf("SIGKILL %d after %d acknowledgements", killed, count)
				srv.start()
			}
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	jobs := make(chan store.Order)
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 5 * time.Second}
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range jobs {
				if crashDeliver(ctx, t, client, crashEvent(o), srv.addr) {
					acks <- o.ID
				}
			}
		}()
	}
	for _, o := range orders {
		jobs <- o
	}
	close(jobs)
	wg.Wait()
	close(acks)
	<-killerDone
	t.Logf("%d events were committed but their answer lost to a kill; their retries were answered as duplicates", crashDuplicates.Load())
	if t.Failed() {
		return
	}
	if err := srv.stop(); err != nil {
		t.Fatal(err)
	}

	db, err := store.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t.Run("AcknowledgedBeforeKillPresent", func(t *testing.T) {
		if len(ackedBeforeKill) == 0 {
			t.Fatal("no event was acknowledged before the kill: the test proves nothing")
		}
		for id := range ackedBeforeKill {
			if o, err := db.Order(context.Background(), id); err != nil || o.Status != store.StatusPaid {
				t.Errorf("order %d, acknowledged before the kill: status %q, err %v; want paid", id, o.Status, err)
			}
		}
	})
	t.Run("EveryOrderPaid", func(t *testing.T) {
		for _, o := range orders {
			got, err := db.Order(context.Background(), o.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != store.StatusPaid {
				t.Errorf("order %d: status %q, want paid", o.ID, got.Status)
			}
		}
	})
	t.Run("EachEventStoredOnce", func(t *testing.T) {
		ro, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer ro.Close()
		var rows, distinct, applied, withOrder int
		err = ro.QueryRow(`SELECT count(*), count(DISTINCT id), count(*) FILTER (WHERE outcome = 'applied'),
			count(DISTINCT order_id) FROM stripe_events`).Scan(&rows, &distinct, &applied, &withOrder)
		if err != nil {
			t.Fatal(err)
		}
		if rows != n || distinct != n {
			t.Errorf("stripe_events holds %d rows (%d distinct ids), want %d", rows, distinct, n)
		}
		if applied != n || withOrder != n {
			t.Errorf("%d events applied to %d orders, want %d each", applied, withOrder, n)
		}
	})
	t.Run("IntegrityCheck", func(t *testing.T) {
		verdict, err := db.IntegrityCheck(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got, want := verdict, "ok"; got != want {
			t.Errorf("PRAGMA integrity_check: %q, want %q", got, want)
		}
	})
}

// crashDuplicates counts retries answered "duplicate": events committed whose 200 a kill swallowed.
var crashDuplicates atomic.Int64

// crashDeliver posts the event until the shop answers 2xx, as Stripe does: each
// attempt signed afresh, backing off from 50 ms, doubling up to 1 s. With several addresses
// (instances behind a load balancer), a failed attempt is retried at the next. It reports
// whether the event was acknowledged before ctx ended.
func crashDeliver(ctx context.Context, t *testing.T, client *http.Client, payload []byte, addrs ...string) bool {
	backoff := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		addr := addrs[(attempt-1)%len(addrs)]
		signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: crashSecret, Timestamp: time.Now()})
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/webhook/", bytes.NewReader(payload))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Stripe-Signature", signed.Header)
		res, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode/100 == 2 {
				if bytes.Contains(body, []byte(`"outcome":"duplicate"`)) {
					crashDuplicates.Add(1) // committed before a kill, but the answer never arrived
				}
				return true
			}
			if res.StatusCode/100 == 4 {
				t.Errorf("webhook refused with %d: a crash must never make an event look bad", res.StatusCode)
				return false
			}
			err = fmt.Errorf("status %d", res.StatusCode)
		}
		select {
		case <-ctx.Done():
			t.Errorf("webhook not acknowledged after %d attempts (last: %v)", attempt, err)
			return false
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Second)
	}
}

// crashEvent is a signed-to-be checkout.session.completed paying a guest order.
func crashEvent(o store.Order) []byte {
	return []byte(fmt.Sprintf(`{"id":"evt_crash_%d","object":"event","api_version":%q,"created":%d,"livemode":false,
		"type":"checkout.session.completed","data":{"object":{"id":%q,"object":"checkout.session","status":"complete",
		"payment_status":"paid","amount_total":%d,"currency":%q,"client_reference_id":null,
		"metadata":{"order_id":"%d"},"payment_intent":"pi_crash_%d","customer_details":{"email":"crash@example.com"}}}}`,
		o.ID, payments.APIVersion, time.Now().Unix(), o.CheckoutSessionID, o.AmountTotal, o.Currency, o.ID, o.ID))
}

// crashSeedOrders writes n pending guest orders, each with a Checkout Session, into a new
// database (an SQLite file, or a PostgreSQL URL).
func crashSeedOrders(t *testing.T, dsn string, n int) []store.Order {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	products, err := db.Products(ctx)
	if err != nil || len(products) == 0 {
		t.Fatalf("no products to order: %v", err)
	}
	orders := make([]store.Order, 0, n)
	for i := range n {
		ref := store.CartRef{Token: "crash-" + strconv.Itoa(i)}
		if err := db.AddToCart(ctx, ref, products[i%len(products)].ID, 1+i%3); err != nil {
			t.Fatal(err)
		}
		o, _, err := db.PrepareOrder(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		o.CheckoutSessionID = fmt.Sprintf("cs_crash_%d", o.ID)
		if err := db.AttachCheckoutSession(ctx, o.ID, o.CheckoutSessionID, "https://checkout.stripe.com/c/pay/"+o.CheckoutSessionID, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		orders = append(orders, o)
	}
	return orders
}

// crashBuildServer compiles this command into dir.
func crashBuildServer(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "storefront")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func crashFreeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// crashServer is the storefront binary run as a child process in real-Stripe mode (no
// simulator), restartable on the same database and address.
type crashServer struct {
	t       *testing.T
	bin     string
	dbPath  string // an SQLite file, or a PostgreSQL URL that other instances may share
	addr    string
	apiBase string // an unused port: Stripe's API is never called here

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	logs logSink
}

// start launches the server and waits for /healthz to answer 200.
func (s *crashServer) start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd := exec.Command(s.bin)
	database := []string{"DB_PATH=" + s.dbPath, "DATABASE_URL=", "SESSION_KEY="}
	if strings.HasPrefix(s.dbPath, "postgres") {
		database = []string{"DATABASE_URL=" + s.dbPath, "SESSION_KEY=" + strings.Repeat("5e", 32)}
	}
	cmd.Env = append(os.Environ(), "ADDR="+s.addr, "LOG_LEVEL=warn",
		"STRIPE_SECRET_KEY=sk_test_crash", "STRIPE_WEBHOOK_SECRET="+crashSecret, "STRIPE_API_BASE="+s.apiBase, "BASE_URL=")
	cmd.Env = append(cmd.Env, database...)
	cmd.Stdout, cmd.Stderr = &s.logs, &s.logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		s.t.Errorf("start server: %v", err)
		return
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	for begin := time.Now(); time.Since(begin) < 20*time.Second; time.Sleep(5 * time.Millisecond) {
		res, err := http.Get("http://" + s.addr + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-done:
			s.t.Errorf("server exited at start:\n%s", s.logs.String())
			return
		default:
		}
	}
	s.t.Errorf("server did not answer /healthz within 20 s:\n%s", s.logs.String())
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *crashServer) kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// stop shuts the server down gracefully (SIGTERM), as a deploy would.
func (s *crashServer) stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		return fmt.Errorf("server did not stop within 15 s of SIGTERM:\n%s", s.logs.String())
	}
	state := s.cmd.ProcessState
	s.cmd = nil
	if !state.Success() {
		return fmt.Errorf("server exited with %v after SIGTERM:\n%s", state, s.logs.String())
	}
	return nil
}
