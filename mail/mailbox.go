package mail

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// mailboxKeeps bounds the in-memory mailbox; the oldest messages go first.
const mailboxKeeps = 500

// Mailbox keeps sent mail in memory instead of sending it, and shows it at /mail: the
// development stand-in for an SMTP server when payments are simulated.
type Mailbox struct {
	mu      sync.Mutex
	next    int
	entries []mailboxEntry
}

type mailboxEntry struct {
	N        int
	Msg      *Message
	Raw      []byte
	Received time.Time
}

// NewMailbox returns an empty mailbox.
func NewMailbox() *Mailbox { return &Mailbox{next: 1} }

// Send keeps m, as it would be sent over SMTP.
func (b *Mailbox) Send(ctx context.Context, m *Message) error {
	raw, err := m.Raw()
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.entries = append(b.entries, mailboxEntry{N: b.next, Msg: m, Raw: raw, Received: time.Now()})
	b.next++
	if len(b.entries) > mailboxKeeps {
		b.entries = b.entries[len(b.entries)-mailboxKeeps:]
	}
	return nil
}

// Messages returns the kept messages, oldest first.
func (b *Mailbox) Messages() []*Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]*Message, len(b.entries))
	for i, e := range b.entries {
		out[i] = e.Msg
	}
	return out
}

func (b *Mailbox) entry(n int) (mailboxEntry, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.entries {
		if e.N == n {
			return e, true
		}
	}
	return mailboxEntry{}, false
}

func (b *Mailbox) list() []mailboxEntry {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]mailboxEntry, len(b.entries))
	for i, e := range b.entries {
		out[len(out)-1-i] = e // newest first
	}
	return out
}

// Handler serves the mailbox: GET /mail lists the messages (JSON with Accept:
// application/json), /mail/{n} shows one as HTML, /mail/{n}/text as plain text and
// /mail/{n}/raw as sent.
func (b *Mailbox) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /mail", b.serveList)
	mux.HandleFunc("GET /mail/{$}", b.serveList)
	mux.HandleFunc("GET /mail/{n}", b.serveMessage(func(w http.ResponseWriter, e mailboxEntry) {
		// The HTML is shown as it is; the policy keeps any script or remote content out.
		w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(e.Msg.HTML))
	}))
	mux.HandleFunc("GET /mail/{n}/text", b.serveMessage(func(w http.ResponseWriter, e mailboxEntry) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte(e.Msg.Text))
	}))
	mux.HandleFunc("GET /mail/{n}/raw", b.serveMessage(func(w http.ResponseWriter, e mailboxEntry) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(e.Raw)
	}))
	return mux
}

type mailboxItemJSON struct {
	N       int       `json:"n"`
	ID      string    `json:"messageId"`
	From    string    `json:"from"`
	To      string    `json:"to"`
	Subject string    `json:"subject"`
	Date    time.Time `json:"date"`
	Text    string    `json:"text"`
	HTML    string    `json:"html"`
}

func (b *Mailbox) serveList(w http.ResponseWriter, r *http.Request) {
	entries := b.list()
	w.Header().Set("Cache-Control", "no-store")
	if r.Header.Get("Accept") == "application/json" {
		out := struct {
			Messages []mailboxItemJSON `json:"messages"`
		}{Messages: []mailboxItemJSON{}}
		for _, e := range entries {
			m := e.Msg
			out.Messages = append(out.Messages, mailboxItemJSON{N: e.N, ID: m.ID, From: m.From, To: m.To,
				Subject: m.Subject, Date: m.Date, Text: m.Text, HTML: m.HTML})
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
		return
	}
	var buf bytes.Buffer
	if err := mailboxPage(entries).Render(r.Context(), &buf); err != nil {
		http.Error(w, "could not show the mailbox", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}

func (b *Mailbox) serveMessage(show func(http.ResponseWriter, mailboxEntry)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.PathValue("n"))
		e, ok := b.entry(n)
		if err != nil || !ok {
			http.Error(w, "no such message (the mailbox keeps messages in memory until the shop stops)", http.StatusNotFound)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		show(w, e)
	}
}
