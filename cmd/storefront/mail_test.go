package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"storefront/mail/mailtest"
)

// signupAndForget creates an account on the running shop and asks for a password reset.
func signupAndForget(t *testing.T, shop *runningShop, email string) {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, step := range []struct {
		path string
		form url.Values
	}{
		{"/signup", url.Values{"email": {email}, "password": {"correct horse"}}},
		{"/password/forgot", url.Values{"email": {email}}},
	} {
		res, err := client.PostForm(shop.URL+step.path, step.form)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode >= 400 {
			t.Fatalf("POST %s: %d", step.path, res.StatusCode)
		}
	}
}

func TestRunMailGoesToTheSimulatorMailbox(t *testing.T) {
	shop := startShop(t, nil)
	signupAndForget(t, shop, "owner@example.com")
	deadline := time.Now().Add(time.Minute)
	for {
		req, _ := http.NewRequest("GET", shop.Sim+"/mail", nil)
		req.Header.Set("Accept", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var box struct {
			Messages []struct{ To, Subject, Text string }
		}
		err = json.NewDecoder(res.Body).Decode(&box)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(box.Messages) > 0 {
			m := box.Messages[0]
			if m.To != "owner@example.com" || !strings.Contains(m.Text, shop.URL+"/password/reset?token=") {
				t.Fatalf("mailbox message: %+v", m)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no mail in the simulator's mailbox after a minute")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRunMailThroughSMTP(t *testing.T) {
	srv := mailtest.Start(t)
	shop := startShop(t, map[string]string{"SMTP_URL": srv.URL(), "MAIL_FROM": "Test Shop <shop@example.test>"})
	signupAndForget(t, shop, "owner@example.com")
	got := srv.WaitFor(1)[0]
	if got.From != "shop@example.test" || got.To[0] != "owner@example.com" {
		t.Fatalf("received from %q to %v", got.From, got.To)
	}
	if !strings.Contains(shop.logs.String(), "mail through SMTP") {
		t.Error("no start-up line says where mail goes")
	}
}

func TestRunWarnsWithoutSMTPForRealStripe(t *testing.T) {
	shop := startShop(t, map[string]string{"STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_WEBHOOK_SECRET": "whsec_x",
		"STRIPE_API_BASE": "http://127.0.0.1:9"})
	if !strings.Contains(shop.logs.String(), "SMTP_URL is not set") {
		t.Fatalf("no warning that mail waits:\n%s", shop.logs.String())
	}
}
