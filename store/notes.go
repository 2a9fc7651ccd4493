package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Notes carry what a commit changed from the instance that made it to the others sharing the
// database (PostgreSQL's LISTEN/NOTIFY), so that a page held open by one instance sees a
// change made through another. A note names, never carries: each instance reads what it names
// and shows it as it would its own change. On SQLite there is one instance and no notes.

// Note is what another instance's commits changed.
type Note struct {
	Orders   []int64 // orders whose state changed
	Members  []int64 // users whose membership changed
	Products []int64 // products whose free stock changed (these reach WatchStock by themselves)
	// Resync says notes may have been missed (the listening connection was lost and is back):
	// anything shown may be stale.
	Resync bool
}

// announce tells the other instances that something changed; kind is
// 'o' an order, 'm' a user's membership, 's' a product's stock, 'c' any commit. It never blocks: notes wait in a queue and go out in
// batches. A note lost to a full queue or a crash leaves a page stale until it reconnects.
func (db *DB) announce(kind byte, id int64) {
	if !db.d.postgres {
		return
	}
	select {
	case db.notes <- note{kind, id}:
	default:
	}
}

// AnnounceOrder tells the other instances that an order changed.
func (db *DB) AnnounceOrder(id int64) { db.announce('o', id) }

// AnnounceMembership tells the other instances that a user's membership changed.
func (db *DB) AnnounceMembership(userID int64) { db.announce('m', userID) }

type note struct {
	kind byte
	id   int64
}

// notesChannel is the channel the notes of a schema travel on (a shop per schema).
func notesChannel(schema string) string { return "storefront_" + schema }

// maxNotePayload keeps a notification under PostgreSQL's 8000-byte limit.
const maxNotePayload = 7000

// sendNotes sends the queued notes until Close, each batch as few notifications as fit.
// A payload is the sender's instance id, then tokens like o12 (order 12), m7, s3 (product 3)
// and c (some commit: cached reads must look again).
func (db *DB) sendNotes(channel string) {
	defer db.wg.Done()
	var b strings.Builder
	seen := make(map[note]bool)
	for {
		var first note
		select {
		case first = <-db.notes:
		case <-db.closed:
			return
		}
		clear(seen)
		b.Reset()
		b.WriteString(db.instance)
		add := func(n note) {
			if seen[n] {
				return
			}
			seen[n] = true
			b.WriteByte(' ')
			b.WriteByte(n.kind)
			if n.kind != 'c' {
				b.WriteString(strconv.FormatInt(n.id, 10))
			}
		}
		add(first)
	gather:
		for b.Len() < maxNotePayload {
			select {
			case n := <-db.notes:
				add(n)
			default:
				break gather
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		// A batch that fails to go out is dropped: the pages it concerned are stale until
		// they reconnect, as after a crash.
		db.readStmts.pool.ExecContext(ctx, "SELECT pg_notify($1, $2)", channel, b.String())
		cancel()
	}
}

// Listen calls deliver with what the other instances' commits change, until stop is closed;
// the products among them have gone to WatchStock already, and every note makes the cached
// reads (recent.go) look again. deliver runs on the listening goroutine, one call at a time,
// and notes wait while it runs. On SQLite it does nothing.
func (db *DB) Listen(stop <-chan struct{}, deliver func(Note)) {
	if !db.d.postgres {
		return
	}
	db.wg.Add(1)
	go db.listen(stop, deliver)
}

func (db *DB) listen(stop <-chan struct{}, deliver func(Note)) {
	defer db.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-stop:
		case <-db.closed:
		}
		cancel()
	}()
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		if db.listenOnce(ctx, deliver) {
			backoff = 50 * time.Millisecond
		}
		if ctx.Err() != nil {
			return
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// listenOnce opens the listening connection and delivers notes until it fails; it reports
// whether it got to listen. Each connection starts with a Resync: notes sent before it
// listened (while it reconnected, or before the first connection, to pages opened early) are lost.
func (db *DB) listenOnce(ctx context.Context, deliver func(Note)) bool {
	conn, err := pgx.ConnectConfig(ctx, db.pgConfig)
	if err != nil {
		return false
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{db.channel}.Sanitize()); err != nil {
		return false
	}
	if db.listening.CompareAndSwap(false, true) {
		close(db.listenReady)
	}
	db.commits.Add(1)
	deliver(Note{Resync: true})
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true
		}
		sender, rest, _ := strings.Cut(n.Payload, " ")
		if sender == db.instance {
			continue
		}
		db.commits.Add(1) // something changed: cached reads look again
		var got Note
		for _, tok := range strings.Fields(rest) {
			id, _ := strconv.ParseInt(tok[1:], 10, 64)
			switch tok[0] {
			case 'o':
				got.Orders = append(got.Orders, id)
			case 'm':
				got.Members = append(got.Members, id)
			case 's':
				got.Products = append(got.Products, id)
			}
		}
		if len(got.Products) > 0 {
			db.stockWatchers.notify(got.Products)
		}
		if len(got.Orders) > 0 || len(got.Members) > 0 {
			deliver(got)
		}
	}
}

// Listening is closed once this instance listens to the others' notes (PostgreSQL); tests and
// the two-instance check wait on it. On SQLite it is closed from the start.
func (db *DB) Listening() <-chan struct{} { return db.listenReady }

// startNotes prepares the notes of a PostgreSQL database: the instance's id and the channel.
func (db *DB) startNotes(ctx context.Context) error {
	var schema string
	if err := db.readStmts.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	db.instance, db.channel = hex.EncodeToString(b), notesChannel(schema)
	db.wg.Add(1)
	go db.sendNotes(db.channel)
	return nil
}
