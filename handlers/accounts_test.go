package handlers

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// testPassword is the password the harness's signup uses.
const testPassword = "correct horse"

const wrongLogin = "That email and password do not match an account."

func credentials(email, password string) url.Values {
	return url.Values{"email": {email}, "password": {password}}
}

// isLoggedIn reports whether the client's session is a logged-in one, as /orders sees it.
func (c *testClient) isLoggedIn() bool {
	c.t.Helper()
	return c.get("/orders").StatusCode == http.StatusOK
}

// sessionCookie is the session cookie a response sets, or nil.
func sessionCookie(res response) *http.Cookie {
	for _, ck := range res.Cookies() {
		if ck.Name == SessionName {
			return ck
		}
	}
	return nil
}

// cloneCookies gives a new client the cookies another holds: a stolen or saved cookie, replayed.
func (c *testClient) cloneCookies() *testClient {
	c.t.Helper()
	u, _ := url.Parse(c.shop.srv.URL)
	other := c.shop.client()
	other.http.Jar.SetCookies(u, c.http.Jar.Cookies(u))
	return other
}

// raw sends a request with the client's cookies but without any client-side handling of the
// answer, so that a Location a Go client could not parse still reaches the test as sent.
func (c *testClient) raw(method, path string, form url.Values, headers ...string) *http.Response {
	c.t.Helper()
	req := c.request(method, path, form, headers...)
	for _, ck := range c.http.Jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		c.t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

// staysOnSite reports whether a browser following loc would stay on this site. Browsers drop
// tabs and newlines from URLs, trim leading control characters and read \ as / in http URLs.
func staysOnSite(loc string) bool {
	loc = strings.TrimLeftFunc(loc, func(r rune) bool { return r <= ' ' })
	loc = strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\r':
			return -1
		case '\\':
			return '/'
		}
		return r
	}, loc)
	u, err := url.Parse(loc)
	return err == nil && u.Scheme == "" && u.Host == "" && strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "//")
}

func TestSignup(t *testing.T) {
	t.Parallel()

	t.Run("OK", func(t *testing.T) {
		shop := newTestShop(t)
		c := shop.client()
		res := c.post("/signup", credentials("ann@example.com", testPassword))
		if got, want := res.StatusCode, http.StatusSeeOther; got != want {
			t.Fatalf("status: got %d, want %d\n%s", got, want, res.body)
		}
		if got, want := res.Header.Get("Location"), "/"; got != want {
			t.Errorf("Location: got %q, want %q", got, want)
		}
		home := c.get("/")
		if !strings.Contains(home.body, `class="nav-user">ann@example.com<`) {
			t.Errorf("nav does not show the new user's email:\n%s", home.body)
		}
		if strings.Contains(home.body, `href="/login"`) {
			t.Errorf("nav still offers to log in")
		}
		if got, want := c.get("/orders").StatusCode, http.StatusOK; got != want {
			t.Errorf("/orders after signup: got %d, want %d", got, want)
		}
	})

	t.Run("EmailNormalised", func(t *testing.T) {
		shop := newTestShop(t)
		db := shop.sql(t)
		res := shop.client().post("/signup", credentials("  Ann.Smith@Example.COM \t", testPassword))
		if got, want := res.StatusCode, http.StatusSeeOther; got != want {
			t.Fatalf("status: got %d, want %d\n%s", got, want, res.body)
		}
		if got, want := sqlInt(t, db, "SELECT count(*) FROM users WHERE email = 'ann.smith@example.com'"), 1; got != want {
			t.Errorf("users stored as ann.smith@example.com: got %d, want %d", got, want)
		}
		c := shop.client()
		res = c.post("/login", credentials("ANN.SMITH@example.com ", testPassword))
		if got, want := res.StatusCode, http.StatusSeeOther; got != want {
			t.Fatalf("login with other casing: got %d, want %d\n%s", got, want, res.body)
		}
		if !strings.Contains(c.get("/").body, "ann.smith@example.com") {
			t.Errorf("nav does not show the normalised email")
		}
	})

	t.Run("InvalidEmail", func(t *testing.T) {
		shop := newTestShop(t)
		db := shop.sql(t)
		for _, tc := range []struct{ email, message string }{
			{"", "Enter your email address."},
			{"   ", "Enter your email address."},
			{"not-an-email", "Enter an email address like name@example.com."},
			{"ann@", "Enter an email address like name@example.com."},
			{"@example.com", "Enter an email address like name@example.com."},
			{"ann@localhost", "Enter an email address like name@example.com."},
			{"Ann <ann@example.com>", "Enter an email address like name@example.com."},
			{"ann@example.com, bob@example.com", "Enter an email address like name@example.com."},
		} {
			res := shop.client().post("/signup", credentials(tc.email, testPassword))
			if res.StatusCode < 400 || res.StatusCode >= 500 {
				t.Errorf("%q: status %d, want 4xx", tc.email, res.StatusCode)
			}
			if !strings.Contains(res.body, `aria-invalid="true" aria-describedby="email-error"`) {
				t.Errorf("%q: email field not marked invalid:\n%s", tc.email, res.body)
			}
			if !strings.Contains(res.body, `<p class="field-error" id="email-error">`+tc.message+`</p>`) {
				t.Errorf("%q: message %q not beside the field:\n%s", tc.email, tc.message, res.body)
			}
			if !isHTMLPage(res) {
				t.Errorf("%q: refused signup is not a whole page", tc.email)
			}
		}
		if got, want := sqlInt(t, db, "SELECT count(*) FROM users"), 0; got != want {
			t.Errorf("users: got %d, want %d", got, want)
		}
	})

	t.Run("BadPassword", func(t *testing.T) {
		shop := newTestShop(t)
		db := shop.sql(t)
		for _, tc := range []struct{ password, message string }{
			{"", "Choose a password."},
			{"short", "Use at least 8 characters."},
			{"1234567", "Use at least 8 characters."},
			{strings.Repeat("x", 73), "Use at most 72 bytes (accented letters and emoji take two to four each)."},
			{strings.Repeat("é", 40), "Use at most 72 bytes (accented letters and emoji take two to four each)."},
		} {
			c := shop.client()
			res := c.post("/signup", credentials("ann@example.com", tc.password))
			if res.StatusCode < 400 || res.StatusCode >= 500 {
				t.Errorf("%q: status %d, want 4xx", tc.password, res.StatusCode)
			}
			if !strings.Contains(res.body, `<p class="field-error" id="password-error">`+tc.message+`</p>`) {
				t.Errorf("%q: message %q not beside the field:\n%s", tc.password, tc.message, res.body)
			}
			if !strings.Contains(res.body, `value="ann@example.com"`) {
				t.Errorf("%q: the email typed is lost", tc.password)
			}
			if c.isLoggedIn() {
				t.Errorf("%q: logged in after a refused signup", tc.password)
			}
		}
		if got, want := sqlInt(t, db, "SELECT count(*) FROM users"), 0; got != want {
			t.Errorf("users: got %d, want %d", got, want)
		}
		if got, want := shop.client().post("/signup", credentials("ann@example.com", "12345678")).StatusCode, http.StatusSeeOther; got != want {
			t.Errorf("8-character password: got %d, want %d", got, want)
		}
	})

	t.Run("DuplicateEmail", func(t *testing.T) {
		shop := newTestShop(t)
		db := shop.sql(t)
		shop.client().signup("ann@example.com")
		c := shop.client()
		res := c.post("/signup", credentials(" ANN@example.com", "another password"))
		if got, want := res.StatusCode, http.StatusConflict; got != want {
			t.Fatalf("status: got %d, want %d\n%s", got, want, res.body)
		}
		if !strings.Contains(res.body, "An account with this email already exists.") {
			t.Errorf("no message about the taken email:\n%s", res.body)
		}
		if got, want := sqlInt(t, db, "SELECT count(*) FROM users"), 1; got != want {
			t.Errorf("users: got %d, want %d", got, want)
		}
		if c.isLoggedIn() {
			t.Errorf("logged in after a refused signup")
		}
	})

	t.Run("HTMX", func(t *testing.T) {
		shop := newTestShop(t)
		c := shop.client()
		res := c.post("/signup", credentials("ann@example.com", "short"), "HX-Request", "true")
		if res.StatusCode < 400 || res.StatusCode >= 500 {
			t.Errorf("refused: status %d, want 4xx", res.StatusCode)
		}
		if strings.Contains(res.body, "<html") || !strings.Contains(res.body, `<form method="post" action="/signup"`) {
			t.Errorf("refused: want the form fragment alone:\n%s", res.body)
		}
		if !strings.Contains(res.body, "Use at least 8 characters.") {
			t.Errorf("refused: no message:\n%s", res.body)
		}

		res = c.post("/signup", credentials("ann@example.com", testPassword), "HX-Request", "true")
		if got, want := res.StatusCode, http.StatusOK; got != want {
			t.Fatalf("accepted: status %d, want %d\n%s", got, want, res.body)
		}
		if got, want := res.Header.Get("HX-Redirect"), "/"; got != want {
			t.Errorf("HX-Redirect: got %q, want %q", got, want)
		}
		if !c.isLoggedIn() {
			t.Errorf("not logged in after an htmx signup")
		}
	})
}

func TestLogin(t *testing.T) {
	t.Parallel()

	t.Run("WrongPasswordAndUnknownEmailLookAlike", func(t *testing.T) {
		shop := newTestShop(t)
		shop.client().signup("bob@example.com")
		var bodies []string
		for _, form := range []url.Values{
			credentials("bob@example.com", "wrong password"),
			credentials("nobody@example.com", "wrong password"),
		} {
			c := shop.client()
			res := c.post("/login", form)
			if got, want := res.StatusCode, http.StatusUnauthorized; got != want {
				t.Errorf("%s: status %d, want %d", form.Get("email"), got, want)
			}
			if !strings.Contains(res.body, `<p class="form-error" role="alert">`+wrongLogin+`</p>`) {
				t.Errorf("%s: no generic message:\n%s", form.Get("email"), res.body)
			}
			if sessionCookie(res) != nil {
				t.Errorf("%s: a refused login set a session cookie", form.Get("email"))
			}
			if c.isLoggedIn() {
				t.Errorf("%s: logged in with a wrong password", form.Get("email"))
			}
			bodies = append(bodies, strings.ReplaceAll(res.body, form.Get("email"), "EMAIL"))
		}
		if bodies[0] != bodies[1] {
			t.Errorf("the answers tell a wrong password from an unknown account:\n%s\n---\n%s", bodies[0], bodies[1])
		}
	})

	t.Run("OK", func(t *testing.T) {
		shop := newTestShop(t)
		shop.client().signup("bob@example.com")
		c := shop.client()
		c.addToCart("canvas-tote", 1) // a guest session with a cookie of its own
		guest := c.cloneCookies()
		before := c.http.Jar.Cookies(mustURL(t, shop.srv.URL))
		if len(before) != 1 {
			t.Fatalf("guest cookies: %v", before)
		}
		res := c.post("/login", credentials("bob@example.com", testPassword))
		if got, want := res.StatusCode, http.StatusSeeOther; got != want {
			t.Fatalf("status: got %d, want %d\n%s", got, want, res.body)
		}
		if got, want := res.Header.Get("Location"), "/"; got != want {
			t.Errorf("Location: got %q, want %q", got, want)
		}
		ck := sessionCookie(res)
		if ck == nil || ck.Value == before[0].Value {
			t.Fatalf("login did not issue a new session cookie: %v", ck)
		}
		if !c.isLoggedIn() {
			t.Errorf("not logged in")
		}
		if guest.isLoggedIn() {
			t.Errorf("the cookie from before login is logged in too")
		}
	})

	t.Run("Next", func(t *testing.T) {
		shop := newTestShop(t)
		shop.client().signup("bob@example.com")
		for _, tc := range []struct {
			next, want string
			htmx       bool
		}{
			{"/cart?from=login", "/cart?from=login", false},
			{"//evil.example", "/", false},
			{"https://evil.example/orders", "/", false},
			{`/\evil.example`, "/", false},
			{"//evil.example", "/", true},
		} {
			form := credentials("bob@example.com", testPassword)
			form.Set("next", tc.next)
			if tc.htmx {
				if got := shop.client().raw(http.MethodPost, "/login", form, "HX-Request", "true").Header.Get("HX-Redirect"); got != tc.want {
					t.Errorf("next %q (htmx): HX-Redirect %q, want %q", tc.next, got, tc.want)
				}
				continue
			}
			if got := shop.client().raw(http.MethodPost, "/login", form).Header.Get("Location"); got != tc.want {
				t.Errorf("next %q: Location %q, want %q", tc.next, got, tc.want)
			}
		}
	})

	t.Run("NextWithControlCharacters", func(t *testing.T) {
		// Browsers remove tabs and newlines from a URL before following it: "/\t/evil.example"
		// becomes "//evil.example", another site.
		shop := newTestShop(t)
		shop.client().signup("bob@example.com")
		for _, tc := range []struct {
			next string
			htmx bool
		}{
			{"/\t/evil.example", false},
			{"/\n/evil.example", false},
			{"/\t/evil.example", true},
		} {
			form := credentials("bob@example.com", testPassword)
			form.Set("next", tc.next)
			if tc.htmx {
				if got := shop.client().raw(http.MethodPost, "/login", form, "HX-Request", "true").Header.Get("HX-Redirect"); !staysOnSite(got) {
					t.Errorf("next %q (htmx): HX-Redirect %q leaves the site", tc.next, got)
				}
				continue
			}
			if got := shop.client().raw(http.MethodPost, "/login", form).Header.Get("Location"); !staysOnSite(got) {
				t.Errorf("next %q: Location %q leaves the site", tc.next, got)
			}
		}
		// Someone already logged in is sent on at once: a link is all it takes.
		c := shop.client()
		c.post("/login", credentials("bob@example.com", testPassword))
		if !c.isLoggedIn() {
			t.Fatalf("not logged in")
		}
		for _, next := range []string{"//evil.example", "/\\evil.example", "/\t/evil.example"} {
			if got := c.raw(http.MethodGet, "/login?next="+url.QueryEscape(next), nil).Header.Get("Location"); !staysOnSite(got) {
				t.Errorf("GET /login?next=%q when logged in: Location %q leaves the site", next, got)
			}
		}
	})

	t.Run("LoginPageKeepsNext", func(t *testing.T) {
		shop := newTestShop(t)
		shop.client().signup("bob@example.com")
		c := shop.client()
		res := c.get("/orders")
		if got, want := res.Header.Get("Location"), "/login?next=%2Forders"; got != want {
			t.Fatalf("Location: got %q, want %q", got, want)
		}
		page := c.get(res.Header.Get("Location"))
		if !strings.Contains(page.body, `name="next" value="/orders"`) {
			t.Fatalf("login form drops next:\n%s", page.body)
		}
		form := credentials("bob@example.com", testPassword)
		form.Set("next", "/orders")
		if got, want := c.post("/login", form).Header.Get("Location"), "/orders"; got != want {
			t.Errorf("Location after login: got %q, want %q", got, want)
		}
		for _, evil := range []string{"//evil.example", "https://evil.example"} {
			page := shop.client().get("/login?next=" + url.QueryEscape(evil))
			if strings.Contains(page.body, "evil.example") {
				t.Errorf("login form carries next=%q", evil)
			}
		}
	})

	t.Run("HTMX", func(t *testing.T) {
		shop := newTestShop(t)
		shop.client().signup("bob@example.com")
		c := shop.client()
		res := c.post("/login", credentials("bob@example.com", "wrong password"), "HX-Request", "true")
		if got, want := res.StatusCode, http.StatusUnauthorized; got != want {
			t.Errorf("refused: status %d, want %d", got, want)
		}
		if strings.Contains(res.body, "<html") || !strings.Contains(res.body, `<form method="post" action="/login"`) {
			t.Errorf("refused: want the form fragment alone:\n%s", res.body)
		}
		if !strings.Contains(res.body, wrongLogin) {
			t.Errorf("refused: no message:\n%s", res.body)
		}
		form := credentials("bob@example.com", testPassword)
		form.Set("next", "/orders")
		res = c.post("/login", form, "HX-Request", "true")
		if got, want := res.StatusCode, http.StatusOK; got != want {
			t.Fatalf("accepted: status %d, want %d\n%s", got, want, res.body)
		}
		if got, want := res.Header.Get("HX-Redirect"), "/orders"; got != want {
			t.Errorf("HX-Redirect: got %q, want %q", got, want)
		}
		if !c.isLoggedIn() {
			t.Errorf("not logged in after an htmx login")
		}
	})
}

func TestLoginRateLimit(t *testing.T) {
	t.Parallel()

	refused := func(t *testing.T, res response) {
		t.Helper()
		if got, want := res.StatusCode, http.StatusTooManyRequests; got != want {
			t.Fatalf("status: got %d, want %d\n%s", got, want, res.body)
		}
		secs, err := strconv.Atoi(res.Header.Get("Retry-After"))
		if err != nil || secs <= 0 || secs > int(loginWindow/time.Second) {
			t.Errorf("Retry-After: %q", res.Header.Get("Retry-After"))
		}
		if !strings.Contains(res.body, "Too many login attempts. Please wait") {
			t.Errorf("no message:\n%s", res.body)
		}
	}

	t.Run("PerAccount", func(t *testing.T) {
		shop := newTestShop(t)
		shop.client().signup("carol@example.com")
		shop.client().signup("dave@example.com")
		c := shop.client()
		// Casing does not make a new account to guess at.
		for i, email := range []string{"carol@example.com", "Carol@example.com", "CAROL@EXAMPLE.COM", " carol@example.com", "carol@Example.com"} {
			if got, want := c.post("/login", credentials(email, "guess "+strconv.Itoa(i))).StatusCode, http.StatusUnauthorized; got != want {
				t.Fatalf("attempt %d: status %d, want %d", i+1, got, want)
			}
		}
		refused(t, c.post("/login", credentials("carol@example.com", "guess 6")))

		res := c.post("/login", credentials("carol@example.com", testPassword))
		refused(t, res)
		if c.isLoggedIn() {
			t.Errorf("the right password got through the limit")
		}
		if res := shop.client().post("/login", credentials("carol@example.com", testPassword)); res.StatusCode != http.StatusTooManyRequests {
			t.Errorf("a fresh cookie resets the account's limit: status %d", res.StatusCode)
		}
		if got, want := c.post("/login", credentials("dave@example.com", testPassword)).StatusCode, http.StatusSeeOther; got != want {
			t.Errorf("another account from the same address: status %d, want %d", got, want)
		}
	})

	t.Run("PerIP", func(t *testing.T) {
		shop := newTestShop(t)
		shop.client().signup("carol@example.com")
		// Every attempt costs a bcrypt comparison: make them side by side.
		statuses := make(chan int, loginPerAddress)
		for i := range loginPerAddress {
			go func() {
				form := credentials("guess"+strconv.Itoa(i)+"@example.com", "wrong password")
				res, err := http.PostForm(shop.srv.URL+"/login", form)
				if err != nil {
					statuses <- 0
					return
				}
				res.Body.Close()
				statuses <- res.StatusCode
			}()
		}
		for range loginPerAddress {
			if got, want := <-statuses, http.StatusUnauthorized; got != want {
				t.Errorf("attempt under the limit: status %d, want %d", got, want)
			}
		}
		refused(t, shop.client().post("/login", credentials("another@example.com", "wrong password")))
		c := shop.client()
		refused(t, c.post("/login", credentials("carol@example.com", testPassword)))
		if c.isLoggedIn() {
			t.Errorf("logged in past the address's limit")
		}
	})

	t.Run("ConcurrentGuesses", func(t *testing.T) {
		// Guesses sent side by side must not all slip past the account's limit while the first
		// ones are still being checked.
		shop := newTestShop(t)
		shop.client().signup("carol@example.com")
		const guesses = 15 // under the per-address limit, so only the account's limit applies
		statuses := make(chan int, guesses)
		for i := range guesses {
			go func() {
				res, err := http.PostForm(shop.srv.URL+"/login", credentials("carol@example.com", "guess "+strconv.Itoa(i)))
				if err != nil {
					statuses <- 0
					return
				}
				res.Body.Close()
				statuses <- res.StatusCode
			}()
		}
		checked := 0
		for range guesses {
			switch status := <-statuses; status {
			case http.StatusUnauthorized:
				checked++
			case http.StatusTooManyRequests:
			default:
				t.Errorf("status %d, want 401 or 429", status)
			}
		}
		if checked > loginFailuresPerKey {
			t.Errorf("%d of %d concurrent guesses were checked against the password, want at most %d", checked, guesses, loginFailuresPerKey)
		}
	})

	t.Run("WindowPasses", func(t *testing.T) {
		now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
		l := newLimiter()
		l.now = func() time.Time { return now }
		key := "login:carol@example.com"
		for range loginFailuresPerKey {
			if ok, _ := l.take(t.Context(), key, loginFailuresPerKey, loginWindow); !ok {
				t.Fatalf("refused under the limit")
			}
		}
		ok, wait := l.take(t.Context(), key, loginFailuresPerKey, loginWindow)
		if ok || wait != loginWindow {
			t.Fatalf("at the limit: allowed %v, wait %v", ok, wait)
		}
		now = now.Add(loginWindow - time.Second)
		if ok, wait := l.take(t.Context(), key, loginFailuresPerKey, loginWindow); ok || wait != time.Second {
			t.Errorf("a second before the window ends: allowed %v, wait %v", ok, wait)
		}
		now = now.Add(time.Second)
		if ok, _ := l.take(t.Context(), key, loginFailuresPerKey, loginWindow); !ok {
			t.Errorf("still refused once the window has passed")
		}
	})

	t.Run("OwnerIsNeverLockedOut", func(t *testing.T) {
		// Guesses from many addresses, enough to put the account under attack, must not stop
		// its owner, at an address that has not failed, from logging in with the password.
		shop := newTestShop(t)
		shop.client().signup("owner@example.com")
		for i := range loginFailuresUnderAttack + 10 {
			addr := fmt.Sprintf("203.0.113.%d:4000", i%250+1)
			if i >= 250 {
				addr = fmt.Sprintf("[2001:db8:%x::1]:4000", i)
			}
			for range loginFailuresPerKey + 1 {
				shop.serveFrom(addr, http.MethodPost, "/login", credentials("owner@example.com", "guess"))
			}
		}
		res := shop.serveFrom("198.51.100.7:5000", http.MethodPost, "/login", credentials("owner@example.com", testPassword))
		if res.Code != http.StatusSeeOther {
			t.Fatalf("the owner, from a fresh address, got %d, want 303 (logged in)", res.Code)
		}
		// An address that already guessed gets no further try while the account is under attack.
		res = shop.serveFrom("203.0.113.1:4000", http.MethodPost, "/login", credentials("owner@example.com", testPassword))
		if res.Code != http.StatusTooManyRequests || res.Header().Get("Retry-After") == "" {
			t.Errorf("a guessing address got %d (Retry-After %q), want 429 with Retry-After", res.Code, res.Header().Get("Retry-After"))
		}
		// Same /64: the same network, the same limit.
		for range loginPerAddress {
			shop.serveFrom("[2001:db8:1:2::1]:1", http.MethodPost, "/login", credentials("x@example.com", "guess"))
		}
		if res := shop.serveFrom("[2001:db8:1:2::ffff]:1", http.MethodPost, "/login", credentials("y@example.com", "guess")); res.Code != http.StatusTooManyRequests {
			t.Errorf("another address of the same /64 got %d, want 429", res.Code)
		}
	})

	t.Run("HugeEmailsAreNotKept", func(t *testing.T) {
		// An email too long to be an address is answered without being remembered.
		shop := newTestShop(t)
		huge := strings.Repeat("a", 60<<10) + "@example.com"
		for i := range loginPerAddress {
			shop.serveFrom(fmt.Sprintf("192.0.2.%d:1", i+1), http.MethodPost, "/login", credentials(huge, "guess"))
		}
		var longest int
		if lim, ok := shop.server.limiter.(*limiter); ok {
			lim.mu.Lock()
			for k := range lim.hits {
				longest = max(longest, len(k))
			}
			lim.mu.Unlock()
		} else if err := shop.sql(t).QueryRow("SELECT COALESCE(MAX(LENGTH(key)), 0) FROM rate_limits").Scan(&longest); err != nil {
			t.Fatal(err)
		}
		if longest > 300 {
			t.Fatalf("the limiter keeps a %d-byte key", longest)
		}
	})

	t.Run("Over72BytesNeverMatches", func(t *testing.T) {
		shop := newTestShop(t)
		long := strings.Repeat("p", 72)
		hash, err := bcrypt.GenerateFromPassword([]byte(long), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := shop.db.CreateUser(context.Background(), "long@example.com", string(hash)); err != nil {
			t.Fatal(err)
		}
		c := shop.client()
		if res := c.post("/login", credentials("long@example.com", long+"anything")); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("72 bytes of the password and a suffix: status %d, want 401", res.StatusCode)
		}
		if res := c.post("/login", credentials("long@example.com", long)); res.StatusCode != http.StatusSeeOther {
			t.Errorf("the password itself: status %d, want 303", res.StatusCode)
		}
	})
}

func TestLogout(t *testing.T) {
	t.Parallel()

	t.Run("OK", func(t *testing.T) {
		shop := newTestShop(t)
		c := shop.client()
		c.signup("erin@example.com")
		saved := c.cloneCookies()
		if !saved.isLoggedIn() {
			t.Fatalf("a copy of the cookie is not logged in before logout")
		}

		res := c.post("/logout", nil)
		if got, want := res.StatusCode, http.StatusSeeOther; got != want {
			t.Fatalf("status: got %d, want %d", got, want)
		}
		if got, want := res.Header.Get("Location"), "/"; got != want {
			t.Errorf("Location: got %q, want %q", got, want)
		}
		res = c.get("/orders")
		if got, want := res.StatusCode, http.StatusSeeOther; got != want {
			t.Errorf("/orders after logout: got %d, want %d", got, want)
		}
		if got, want := res.Header.Get("Location"), "/login?next=%2Forders"; got != want {
			t.Errorf("/orders after logout: Location %q, want %q", got, want)
		}
		if strings.Contains(c.get("/").body, "erin@example.com") {
			t.Errorf("nav still shows the email after logout")
		}

		// The cookie saved before logout is dead on the server, not only deleted in this browser.
		if saved.isLoggedIn() {
			t.Errorf("a cookie saved before logout still works")
		}
		if strings.Contains(saved.get("/").body, "erin@example.com") {
			t.Errorf("a cookie saved before logout still shows the email")
		}

		// Logging in again works, and the old cookie stays dead.
		if got, want := c.post("/login", credentials("erin@example.com", testPassword)).StatusCode, http.StatusSeeOther; got != want {
			t.Fatalf("login after logout: got %d, want %d", got, want)
		}
		if !c.isLoggedIn() || saved.isLoggedIn() {
			t.Errorf("after logging in again: new session %v, old cookie %v", c.isLoggedIn(), saved.isLoggedIn())
		}
	})

	t.Run("Anonymous", func(t *testing.T) {
		shop := newTestShop(t)
		res := shop.client().post("/logout", nil)
		if got, want := res.StatusCode, http.StatusSeeOther; got != want {
			t.Errorf("status: got %d, want %d", got, want)
		}
	})
}

func TestOrdersNeedLogin(t *testing.T) {
	t.Parallel()
	shop := newTestShop(t)

	t.Run("Page", func(t *testing.T) {
		res := shop.client().get("/orders")
		if got, want := res.StatusCode, http.StatusSeeOther; got != want {
			t.Fatalf("status: got %d, want %d", got, want)
		}
		if got, want := res.Header.Get("Location"), "/login?next=%2Forders"; got != want {
			t.Errorf("Location: got %q, want %q", got, want)
		}
	})

	t.Run("JSON", func(t *testing.T) {
		res := shop.client().get("/orders", "Accept", "application/json")
		if got, want := res.StatusCode, http.StatusUnauthorized; got != want {
			t.Fatalf("status: got %d, want %d", got, want)
		}
		if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
			t.Errorf("Content-Type: got %q, want application/json", got)
		}
		if !strings.HasPrefix(res.body, `{"error":"`) {
			t.Errorf("body: %s", res.body)
		}
	})

	t.Run("Empty", func(t *testing.T) {
		c := shop.client()
		c.signup("fay@example.com")
		res := c.get("/orders")
		if got, want := res.StatusCode, http.StatusOK; got != want {
			t.Fatalf("status: got %d, want %d", got, want)
		}
		if !strings.Contains(res.body, "You have not ordered anything yet.") {
			t.Errorf("no empty state:\n%s", res.body)
		}
		if strings.Contains(res.body, `class="order-row"`) {
			t.Errorf("a new account lists orders")
		}
		res = c.get("/orders", "Accept", "application/json")
		if got, want := strings.TrimSpace(res.body), `{"orders":[]}`; got != want {
			t.Errorf("JSON: got %s, want %s", got, want)
		}
	})
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
