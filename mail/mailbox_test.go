package mail_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"storefront/mail"
)

func TestMailbox(t *testing.T) {
	box := mail.NewMailbox()
	msg := receipt(t)
	if err := box.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	h := box.Handler()
	get := func(path, accept string) (int, string, http.Header) {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Accept", accept)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		body, _ := io.ReadAll(rec.Body)
		return rec.Code, string(body), rec.Header()
	}

	code, body, _ := get("/mail", "text/html")
	if code != 200 || !strings.Contains(body, msg.Subject) || !strings.Contains(body, `href="/mail/1/text"`) {
		t.Errorf("list: %d %s", code, body)
	}
	code, body, _ = get("/mail", "application/json")
	var list struct {
		Messages []struct {
			N       int    `json:"n"`
			To      string `json:"to"`
			Subject string `json:"subject"`
		} `json:"messages"`
	}
	if err := json.Unmarshal([]byte(body), &list); code != 200 || err != nil || len(list.Messages) != 1 || list.Messages[0].To != "buyer@example.com" {
		t.Errorf("JSON list: %d %v %s", code, err, body)
	}
	code, body, hdr := get("/mail/1", "")
	if code != 200 || body != msg.HTML || !strings.Contains(hdr.Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("HTML view: %d, CSP %q", code, hdr.Get("Content-Security-Policy"))
	}
	code, body, hdr = get("/mail/1/text", "")
	if code != 200 || body != msg.Text || !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain") {
		t.Errorf("text view: %d %q", code, hdr.Get("Content-Type"))
	}
	code, body, _ = get("/mail/1/raw", "")
	if code != 200 || !strings.Contains(body, "multipart/alternative") || !strings.Contains(body, "Message-ID: <"+msg.ID+">") {
		t.Errorf("raw view: %d %s", code, body)
	}
	if code, _, _ = get("/mail/2", ""); code != 404 {
		t.Errorf("missing message: %d", code)
	}
}
