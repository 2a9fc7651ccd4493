package handlers

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strconv"
	"time"
)

// GuestLinks makes and checks the signed, expiring links that show a guest their order: the
// guest has no account, so the link itself is the permission. Links are signed with keys
// derived from the session keys, newest first, so a key rotation keeps old links working.
type GuestLinks struct {
	base *url.URL
	keys [][]byte
	// Now is the clock links expire by; tests replace it.
	Now func() time.Time
}

// NewGuestLinks returns links to the shop at base signed with keys derived from secrets (the
// first signs, all verify). With no secrets a random key is used: links then end with the process.
func NewGuestLinks(base *url.URL, secrets ...[]byte) *GuestLinks {
	if len(secrets) == 0 {
		key := make([]byte, 32)
		rand.Read(key)
		secrets = [][]byte{key}
	}
	g := &GuestLinks{base: base, Now: time.Now}
	for _, s := range secrets {
		mac := hmac.New(sha256.New, s)
		mac.Write([]byte("storefront guest order links"))
		g.keys = append(g.keys, mac.Sum(nil))
	}
	return g
}

// OrderURL is a link to the order's page for a guest, working for ttl.
func (g *GuestLinks) OrderURL(orderID int64, ttl time.Duration) string {
	expires := strconv.FormatInt(g.Now().Add(ttl).Unix(), 10)
	q := url.Values{"expires": {expires}, "sig": {g.sign(g.keys[0], orderID, expires)}}
	return g.base.JoinPath("/guest/orders", strconv.FormatInt(orderID, 10)).String() + "?" + q.Encode()
}

// valid reports whether sig signs the order and expiry time, and the link has not expired.
func (g *GuestLinks) valid(orderID int64, expires, sig string) bool {
	at, err := strconv.ParseInt(expires, 10, 64)
	if err != nil || g.Now().Unix() >= at {
		return false
	}
	for _, k := range g.keys {
		if hmac.Equal([]byte(sig), []byte(g.sign(k, orderID, expires))) {
			return true
		}
	}
	return false
}

func (g *GuestLinks) sign(key []byte, orderID int64, expires string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("order:" + strconv.FormatInt(orderID, 10) + ":" + expires))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}
