// Package mailtest runs a real SMTP server for tests (github.com/emersion/go-smtp), so that
// the shop's mail goes through a whole SMTP conversation: EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA.
package mailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Received is one message the server accepted.
type Received struct {
	From   string
	To     []string
	Raw    []byte
	Header mail.Header
}

// Server is an SMTP server on a loopback port that keeps what it receives. It can be stopped
// and started again on the same port, to play a mail server that is down for a while.
type Server struct {
	t        testing.TB
	addr     string
	tls      *tls.Config // server side; nil: no STARTTLS
	clientCA *x509.CertPool
	user     string
	pass     string

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced whenever a message arrives
	received []Received
	srv      *smtp.Server
	ln       net.Listener
}

// Option configures a Server.
type Option func(*Server)

// WithSTARTTLS offers STARTTLS with a certificate made for 127.0.0.1; see ClientTLS.
func WithSTARTTLS() Option {
	return func(s *Server) { s.tls, s.clientCA = selfSigned(s.t) }
}

// WithAuth requires AUTH PLAIN with this user and password (over TLS).
func WithAuth(user, pass string) Option {
	return func(s *Server) { s.user, s.pass = user, pass }
}

// Start runs a server on a free loopback port until the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{t: t, addr: "127.0.0.1:0", changed: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	s.Up()
	t.Cleanup(s.Down)
	return s
}

// Addr is the host:port the server listens on.
func (s *Server) Addr() string { return s.addr }

// URL is an SMTP_URL for this server.
func (s *Server) URL() string {
	if s.user != "" {
		return "smtp://" + s.user + ":" + s.pass + "@" + s.addr
	}
	return "smtp://" + s.addr
}

// ClientTLS is a TLS configuration that trusts the server's certificate.
func (s *Server) ClientTLS() *tls.Config {
	return &tls.Config{RootCAs: s.clientCA, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

// Down stops the server: new connections are refused until Up.
func (s *Server) Down() {
	s.mu.Lock()
	srv, ln := s.srv, s.ln
	s.srv, s.ln = nil, nil
	s.mu.Unlock()
	if srv != nil {
		// Close the listener too: the server only knows it once Serve has started.
		ln.Close()
		srv.Close()
	}
}

// Up starts the server (again, on the same port).
func (s *Server) Up() {
	s.t.Helper()
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.t.Fatalf("smtp server: %v", err)
	}
	s.addr = ln.Addr().String()
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	srv.Domain = "mailtest.localhost"
	srv.TLSConfig = s.tls
	srv.ReadTimeout, srv.WriteTimeout = 30*time.Second, 30*time.Second
	s.mu.Lock()
	s.srv, s.ln = srv, ln
	s.mu.Unlock()
	go srv.Serve(ln)
}

// Messages returns what the server has received so far.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// WaitFor waits until the server has received at least n messages and returns them all. It
// fails the test after a minute: long enough for a busy machine, short of the test timeout.
func (s *Server) WaitFor(n int) []Received {
	s.t.Helper()
	deadline := time.After(time.Minute)
	for {
		s.mu.Lock()
		got, changed := append([]Received(nil), s.received...), s.changed
		s.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-changed:
		case <-deadline:
			s.t.Fatalf("smtp server: %d messages received, waited for %d", len(got), n)
		}
	}
}

func (s *Server) keep(r Received) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.received = append(s.received, r)
	close(s.changed)
	s.changed = make(chan struct{})
}

type session struct {
	s      *Server
	authed bool
	from   string
	to     []string
}

func (ss *session) AuthMechanisms() []string {
	if ss.s.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != ss.s.user || pass != ss.s.pass {
			return errors.New("invalid credentials")
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.user != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return &smtp.SMTPError{Code: 554, Message: "unreadable message: " + err.Error()}
	}
	ss.s.keep(Received{From: ss.from, To: ss.to, Raw: raw, Header: msg.Header})
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t testing.TB) (*tls.Config, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mailtest"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

// Body returns the decoded text of the part with the given media type ("text/plain" or
// "text/html") of a multipart/alternative message.
func (r Received) Body(mediaType string) string {
	return partBody(r.Raw, mediaType)
}

// HasHeader reports whether the message has the header, for tests that check Date and Message-ID.
func (r Received) HasHeader(name string) bool { return strings.TrimSpace(r.Header.Get(name)) != "" }
