package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"sync"

	"storefront/payments"
	"storefront/store"
)

// fakeRefundLog is what a fake provider was asked to refund; set fail to make it refuse.
type fakeRefundLog struct {
	requests []payments.RefundRequest
	fail     error
}

// fakeRefunds keeps each fake provider's refund log (guarded by the fake's mutex).
var fakeRefunds sync.Map // *fakeCheckout → *fakeRefundLog

func (f *fakeCheckout) refundLog() *fakeRefundLog {
	log, _ := fakeRefunds.LoadOrStore(f, &fakeRefundLog{})
	return log.(*fakeRefundLog)
}

// RefundPayment records the refund asked for, as the provider would accept it.
func (f *fakeCheckout) RefundPayment(_ context.Context, req payments.RefundRequest) error {
	log := f.refundLog()
	f.mu.Lock()
	defer f.mu.Unlock()
	if log.fail != nil {
		return log.fail
	}
	log.requests = append(log.requests, req)
	return nil
}

func (f *fakeCheckout) refundCalls() []payments.RefundRequest {
	log := f.refundLog()
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]payments.RefundRequest(nil), log.requests...)
}

var errProviderDown = errors.New("provider unreachable")

// admin signs a new account up and makes it an admin.
func (s *testShop) admin(email string) *testClient {
	s.t.Helper()
	c := s.client()
	c.signup(email)
	if err := s.db.SetAdmin(context.Background(), store.Actor{Email: "test"}, email, true); err != nil {
		s.t.Fatal(err)
	}
	return c
}

// postMultipart submits a multipart form (as a browser sends a form with a file field);
// files maps a field name to a file name and content.
func (c *testClient) postMultipart(path string, form url.Values, files map[string][2]string, headers ...string) response {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range form {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	for field, f := range files {
		w, err := mw.CreateFormFile(field, f[0])
		if err != nil {
			c.t.Fatal(err)
		}
		io.WriteString(w, f[1])
	}
	mw.Close()
	req, err := http.NewRequest(http.MethodPost, c.shop.srv.URL+path, &body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("POST %s: %v", path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{Response: res, body: string(b)}
}

// adminOrdersJSON is GET /admin/orders as JSON.
type adminOrdersJSON struct {
	Orders []struct {
		ID              int64  `json:"id"`
		Status          string `json:"status"`
		Email           string `json:"email"`
		AmountTotal     int64  `json:"amountTotal"`
		PaymentIntentID string `json:"paymentIntentId"`
		AmountRefunded  int64  `json:"amountRefunded"`
	} `json:"orders"`
}

func (c *testClient) adminOrders(query string) adminOrdersJSON {
	c.t.Helper()
	res := c.get("/admin/orders"+query, "Accept", "application/json")
	if res.StatusCode != http.StatusOK {
		c.t.Fatalf("GET /admin/orders%s: status %d, body:\n%s", query, res.StatusCode, res.body)
	}
	var out adminOrdersJSON
	if err := json.Unmarshal([]byte(res.body), &out); err != nil {
		c.t.Fatal(err)
	}
	return out
}

// productForm is a valid product form, to change one field at a time.
func productFormValues(name, slug, price, stock string) url.Values {
	return url.Values{"name": {name}, "slug": {slug}, "description": {"Made for tests."}, "price": {price},
		"stock": {stock}, "active": {"on"}}
}

// mustProductBySlug finds a product, active or not.
func (s *testShop) mustProductBySlug(slug string) store.Product {
	s.t.Helper()
	all, err := s.db.AllProducts(context.Background())
	if err != nil {
		s.t.Fatal(err)
	}
	for _, p := range all {
		if p.Slug == slug {
			return p
		}
	}
	s.t.Fatalf("no product %q", slug)
	return store.Product{}
}
