package mail

import (
	"bytes"
	"fmt"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one rendered e-mail: multipart/alternative, plain text and HTML.
type Message struct {
	ID      string // Message-ID, without the angle brackets
	From    string
	To      string
	Subject string
	Date    time.Time
	Text    string
	HTML    string
}

// mime builds the message as go-mail sends it.
func (m *Message) mime() (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.From(m.From); err != nil {
		return nil, fmt.Errorf("mail from %q: %w", m.From, err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("mail to %q: %w", m.To, err)
	}
	msg.Subject(m.Subject)
	msg.SetDateWithValue(m.Date)
	msg.SetMessageIDWithValue(m.ID)
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated") // transactional: no out-of-office replies
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	return msg, nil
}

// Raw is the message as it goes over the wire (RFC 5322).
func (m *Message) Raw() ([]byte, error) {
	msg, err := m.mime()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("write mail: %w", err)
	}
	return buf.Bytes(), nil
}
