package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's Chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// e2eLiveTimeout bounds how long a page may take to show a payment the shop has been told
// about; a bank transfer settles after the simulator's 3 s delay.
const e2eLiveTimeout = 20 * time.Second

// e2eChromiumFlags are the command-line options Chromium runs with in this test:
//
//	--headless --hide-scrollbars --mute-audio   (chromedp.Headless)
//	--no-sandbox                                (root in containers and CI has no user namespace sandbox)
//	--disable-gpu --enable-unsafe-swiftshader   (chromedp.DisableGPU: software rendering only)
//	--no-first-run --no-default-browser-check
//	--disable-background-networking --disable-component-update --disable-sync
//	--disable-dev-shm-usage                     (small /dev/shm in containers)
//	--user-data-dir=<t.TempDir()>               (a fresh profile per run)
//	--window-size=1280,900
//	--remote-debugging-pipe                     (added by chromedp: it talks over a pipe, no port)
func e2eChromiumFlags(userDataDir string, output io.Writer) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(userDataDir),
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(output),
	}
}

// TestEndToEndInChromium buys through the whole program (run, with the checkout simulator) in
// headless Chromium, as a shopper would: clicks, htmx swaps and the live SSE status.
func TestEndToEndInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		msg := fmt.Sprintf("!!! END-TO-END TEST NOT RUN: %s is missing (%v). Install it with `apt-get install chromium`.", chromiumPath, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	// Bank transfers settle only when the test says so (the simulator's Settle now), so that the
	// processing state is seen however slow the machine is.
	shop := startShop(t, map[string]string{"SIMULATOR_ASYNC_DELAY": "1h"})
	browser := startE2EBrowser(t)

	// The console watch that fails the test on CSP violations must itself see one.
	t.Run("CSPWatchWorks", func(t *testing.T) {
		tab := browser.newShopper(t, shop)
		tab.navigate(shop.URL + "/")
		tab.eval(`document.head.appendChild(Object.assign(document.createElement('script'), { textContent: 'window.inlineRan = true' })) && ''`)
		if !tab.await(5*time.Second, func() bool { return slices.ContainsFunc(tab.console, isCSPViolation) }) {
			t.Fatal("an inline script ran without a CSP violation being reported: the CSP watch (or the policy) is broken")
		}
		tab.takeCSPViolations() // the one expected here, which must not fail the test at cleanup
		if got := tab.eval(`window.inlineRan === true`); got != "false" {
			t.Errorf("inline script ran: window.inlineRan = %s", got)
		}
	})

	t.Run("CardPayment", func(t *testing.T) {
		tab := browser.newShopper(t, shop)
		email := "card-buyer@example.com"
		tab.signup(email)

		tab.navigate(shop.URL + "/")
		tab.markPage()
		names := tab.evalStrings(`[...document.querySelectorAll('.product-card h2')].slice(0, 2).map(h => h.textContent.trim())`)
		if len(names) != 2 {
			t.Fatalf("catalogue shows %d products, want at least 2", len(names))
		}
		for i := range 2 {
			tab.click(fmt.Sprintf(".product-card:nth-child(%d) form.add-to-cart button[type=submit]", i+1))
			tab.waitFor(fmt.Sprintf("nav badge shows %d", i+1), 5*time.Second,
				fmt.Sprintf(`document.querySelector('#cart-link .cart-count')?.textContent.trim() === '%d'`, i+1))
		}
		tab.requireSamePage("adding to the cart through htmx")

		tab.click("#cart-link")
		tab.waitFor("the cart lists both products", 5*time.Second,
			`location.pathname === '/cart' && document.querySelectorAll('.cart-line').length === 2`)
		if got := tab.evalStrings(`[...document.querySelectorAll('.cart-line .name')].map(a => a.textContent.trim())`); !sameSet(got, names) {
			t.Errorf("cart lines %q, want %q", got, names)
		}

		sessionID := tab.checkOut()
		if got := tab.eval(`document.querySelector('#f-email')?.value`); got != email {
			t.Errorf("payment page email %q, want the user's %q", got, email)
		}

		// A second tab watches the success page before the payment exists, so it must
		// start at "Awaiting payment confirmation" and turn Paid by itself.
		watcher := tab.openTab()
		watcher.navigate(shop.URL + "/success/?session_id=" + url.QueryEscape(sessionID))
		watcher.markPage()
		watcher.requireStreamSince(0, "success page")
		if got := watcher.statuses(); !slices.Equal(got, []string{"pending: Awaiting payment confirmation"}) {
			t.Fatalf("success page before payment shows %q, want pending: Awaiting payment confirmation", got)
		}
		if got := watcher.eval(`document.querySelector('#cart-link .cart-count')?.textContent.trim()`); got != "2" {
			t.Errorf("nav badge before payment %q, want 2", got)
		}

		tab.click("#method-card")
		tab.typeInto("#f-card_number", "4242 4242 4242 4242")
		tab.typeInto("#f-expiry", "12/"+time.Now().AddDate(2, 0, 0).Format("06"))
		tab.typeInto("#f-cvc", "123")
		streams := tab.streamsOpened()
		tab.click("button.pay")
		tab.waitFor("redirect to the success page", 10*time.Second,
			fmt.Sprintf(`location.href.startsWith(%q) && !!document.querySelector('#order-status')`, shop.URL+"/success/"))
		tab.markPage()
		tab.requireStreamSince(streams, "success page")
		first := tab.statuses()
		t.Logf("the redirected success page first showed %q (the webhook may beat the redirect)", first)
		if len(first) == 0 || (first[0] != "pending: Awaiting payment confirmation" && first[0] != "paid: Paid") {
			t.Errorf("success page first shows %q, want pending: Awaiting payment confirmation or paid: Paid", first)
		}

		for _, p := range []*e2eTab{watcher, tab} {
			p.waitFor("the success page turns Paid", e2eLiveTimeout,
				`document.querySelector('#order-status')?.dataset.status === 'paid'`)
			p.requireSamePage("the live status update")
			if got := p.eval(`document.querySelector('#order-status h2')?.textContent.trim()`); got != "Paid" {
				t.Errorf("status heading %q, want Paid", got)
			}
			p.waitFor("the nav badge drops to 0", 5*time.Second,
				`document.querySelector('#cart-link .cart-count')?.textContent.trim() === '0'`)
		}
		if got := watcher.statuses(); !slices.Equal(got, []string{"pending: Awaiting payment confirmation", "paid: Paid"}) {
			t.Errorf("the watching success page went through %q, want pending then paid", got)
		}
		orderID := tab.eval(`document.querySelector('.panel h2')?.textContent.trim().replace('Order #', '')`)
		tab.saveShots("success-paid")
		watcher.close()

		tab.navigate(shop.URL + "/orders")
		tab.waitFor("the orders page lists the order as Paid", 5*time.Second,
			fmt.Sprintf(`document.querySelector('#order-%s .status')?.textContent.trim() === 'Paid'`, orderID))
		if got := tab.eval(`document.querySelector('#cart-link .cart-count')?.textContent.trim()`); got != "0" {
			t.Errorf("nav badge on /orders %q, want 0", got)
		}
		text := tab.eval(`document.querySelector('#order-` + orderID + `')?.innerText`)
		for _, name := range names {
			if !strings.Contains(text, name) {
				t.Errorf("order row lacks %q:\n%s", name, text)
			}
		}
		tab.saveShots("orders")
	})

	t.Run("BankTransfer", func(t *testing.T) {
		tab := browser.newShopper(t, shop)
		tab.signup("bank-buyer@example.com")
		tab.navigate(shop.URL + "/")
		tab.click(".product-card:nth-child(3) form.add-to-cart button[type=submit]")
		tab.waitFor("nav badge shows 1", 5*time.Second, `document.querySelector('#cart-link .cart-count')?.textContent.trim() === '1'`)
		tab.navigate(shop.URL + "/cart")
		tab.checkOut()

		tab.click("#method-bank_transfer")
		tab.typeInto("#f-account_number", "000123456789")
		streams := tab.streamsOpened()
		tab.click("button.pay")
		tab.waitFor("redirect to the success page", 10*time.Second,
			fmt.Sprintf(`location.href.startsWith(%q) && !!document.querySelector('#order-status')`, shop.URL+"/success/"))
		tab.markPage()
		tab.requireStreamSince(streams, "success page")
		orderID := tab.eval(`document.querySelector('.panel h2')?.textContent.trim().replace('Order #', '')`)

		// The transfer settles when the test says so: meanwhile the orders page, open in another
		// tab, must turn the row Paid in place too.
		orders := tab.openTab()
		orders.navigate(shop.URL + "/orders")
		orders.markPage()
		orders.requireStreamSince(0, "orders page")
		row := fmt.Sprintf(`document.querySelector('#order-%s')`, orderID)
		if got := orders.eval(row + `?.dataset.status`); got != "pending" && got != "processing" {
			t.Errorf("orders page shows the new order as %q, want pending or processing", got)
		}

		tab.waitFor("the success page shows Processing", e2eLiveTimeout, `document.querySelector('#order-status')?.dataset.status === 'processing'`)
		orders.waitFor("the orders page shows Processing", e2eLiveTimeout, row+`?.dataset.status === 'processing'`)
		sessionID := tab.eval(`new URL(location.href).searchParams.get("session_id")`)
		settle, err := http.PostForm(shop.Sim+"/dev/settle/"+sessionID, nil)
		if err != nil {
			t.Fatal(err)
		}
		settle.Body.Close()
		if settle.StatusCode != http.StatusOK { // after the redirect back to the simulator's page
			t.Fatalf("settle the transfer on the simulator: status %d", settle.StatusCode)
		}
		tab.waitFor("the success page turns Paid", e2eLiveTimeout, `document.querySelector('#order-status')?.dataset.status === 'paid'`)
		tab.requireSamePage("the live status updates")
		orders.waitFor("the orders page turns the row Paid", 5*time.Second,
			row+`?.dataset.status === 'paid' && `+row+`.querySelector('.status')?.textContent.trim() === 'Paid'`)
		orders.requireSamePage("the live row update")
		if got := orders.eval(fmt.Sprintf(`document.querySelectorAll('.order-row[data-key="%s"]').length`, orderID)); got != "1" {
			t.Errorf("orders page shows the order %s times after the update, want once", got)
		}
		seen := tab.statuses()
		i := slices.Index(seen, "processing: Processing")
		if i < 0 || !slices.Contains(seen[i:], "paid: Paid") || seen[len(seen)-1] != "paid: Paid" {
			t.Errorf("the success page went through %q, want Processing then Paid", seen)
		}
		if slices.Contains(seen, "paid: Paid") && i > slices.Index(seen, "paid: Paid") {
			t.Errorf("Processing shown after Paid: %q", seen)
		}
		tab.waitFor("the nav badge drops to 0", 5*time.Second, `document.querySelector('#cart-link .cart-count')?.textContent.trim() === '0'`)
	})

	t.Run("CancelKeepsCart", func(t *testing.T) {
		tab := browser.newShopper(t, shop) // a guest
		tab.navigate(shop.URL + "/")
		for i := range 2 {
			tab.click(fmt.Sprintf(".product-card:nth-child(%d) form.add-to-cart button[type=submit]", i+4))
			tab.waitFor(fmt.Sprintf("nav badge shows %d", i+1), 5*time.Second,
				fmt.Sprintf(`document.querySelector('#cart-link .cart-count')?.textContent.trim() === '%d'`, i+1))
		}
		tab.navigate(shop.URL + "/cart")
		before := tab.evalStrings(`[...document.querySelectorAll('.cart-line')].map(l => l.querySelector('.name').textContent.trim() + ' x' + l.querySelector('input[name=quantity]').value)`)
		if len(before) != 2 {
			t.Fatalf("cart has %q, want 2 lines", before)
		}
		tab.checkOut()
		tab.click("p.cancel a")
		tab.waitFor("the cancelled page", 10*time.Second,
			fmt.Sprintf(`location.href === %q && document.querySelector('h1')?.textContent.trim() === 'Checkout cancelled'`, shop.URL+"/cancelled/"))
		tab.click(`main a[href="/cart"]`)
		tab.waitFor("back on the cart", 5*time.Second, `location.pathname === '/cart' && document.querySelectorAll('.cart-line').length > 0`)
		after := tab.evalStrings(`[...document.querySelectorAll('.cart-line')].map(l => l.querySelector('.name').textContent.trim() + ' x' + l.querySelector('input[name=quantity]').value)`)
		if !slices.Equal(after, before) {
			t.Errorf("cart after cancelling %q, want %q", after, before)
		}
		if got := tab.eval(`document.querySelector('#cart-link .cart-count')?.textContent.trim()`); got != "2" {
			t.Errorf("nav badge after cancelling %q, want 2", got)
		}
	})
}

// e2eBrowser is one headless Chromium shared by the subtests; each shopper gets its own
// browser context (cookies, storage), like a separate private window.
type e2eBrowser struct {
	ctx    context.Context
	output *logSink
}

func startE2EBrowser(t *testing.T) *e2eBrowser {
	t.Helper()
	b := &e2eBrowser{output: &logSink{}}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), e2eChromiumFlags(t.TempDir(), b.output)...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		if t.Failed() {
			t.Logf("chromium output:\n%s", b.output.String())
		}
	})
	// The first Do starts the browser and binds it to the context it is given, which must
	// therefore have no deadline; so wait for it with a timer of our own.
	if err := e2eWithin(30*time.Second, func() error { return chromedp.Do(ctx) }); err != nil {
		t.Fatalf("start %s: %v\n%s", chromiumPath, err, b.output.String())
	}
	b.ctx = ctx
	return b
}

// e2eTab is one browser tab with its console watched.
type e2eTab struct {
	t       *testing.T
	ctx     context.Context
	shop    *runningShop
	name    string
	mu      sync.Mutex
	console []chromedp.ConsoleMessage
	streams int           // requests for /orders/events so far
	updated chan struct{} // closed, and replaced, whenever console or streams change
	marker  string
}

// newShopper opens a tab in a fresh browser context; on failure it saves a screenshot, and at
// the end it fails the test on any CSP violation or uncaught exception the pages reported.
func (b *e2eBrowser) newShopper(t *testing.T, shop *runningShop) *e2eTab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	return newE2ETab(t, ctx, cancel, shop, "tab")
}

// openTab opens another tab in the same browser context (the same cookies).
func (p *e2eTab) openTab() *e2eTab {
	p.t.Helper()
	ctx, cancel := chromedp.NewContext(p.ctx)
	return newE2ETab(p.t, ctx, cancel, p.shop, p.name+"-2")
}

func newE2ETab(t *testing.T, ctx context.Context, cancel context.CancelFunc, shop *runningShop, name string) *e2eTab {
	t.Helper()
	p := &e2eTab{t: t, ctx: ctx, shop: shop, name: name, updated: make(chan struct{})}
	t.Cleanup(cancel)
	// The first Do opens the tab and binds it to the context it is given, so that context
	// must be ctx itself, without a deadline.
	if err := e2eWithin(10*time.Second, func() error { return chromedp.Do(ctx) }); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	messages := chromedp.Console(ctx)
	requests := chromedp.Events(ctx, network.RequestWillBeSent)
	go func() {
		for ev, err := range requests {
			if err != nil {
				return
			}
			if strings.Contains(ev.Request.URL, "/orders/events") {
				p.mu.Lock()
				p.streams++
				p.changedLocked()
				p.mu.Unlock()
			}
		}
	}()
	slowDownExtensions(t, ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.console = append(p.console, m)
			p.changedLocked()
			p.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			p.screenshotOnFailure()
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, m := range p.console {
			switch {
			case isCSPViolation(m):
				t.Errorf("%s: Content-Security-Policy violation (%s %s): %s", p.name, m.Source, m.URL, m.Text)
			case m.IsException():
				t.Errorf("%s: uncaught exception at %s:%d: %s", p.name, m.URL, m.Line+1, m.Text)
			case m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning:
				t.Logf("%s: console %s (%s) at %s: %s", p.name, m.Type, m.Source, m.URL, m.Text)
			}
		}
	})
	return p
}

// e2eExtensionDelay is how much later than htmx itself its extensions (hx-sse, hx-upsert)
// reach the page in this test, as on a real network where parallel downloads finish in any
// order. The page must work whichever script arrives first.
const e2eExtensionDelay = 250 * time.Millisecond

// slowDownExtensions turns the browser cache off for the tab and holds every request for an
// htmx extension script for e2eExtensionDelay before letting it go to the server.
func slowDownExtensions(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := chromedp.Call(ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
		t.Fatalf("disable the cache: %v", err)
	}
	paused := chromedp.Events(ctx, fetch.RequestPaused)
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{
		{URLPattern: "*/assets/hx-*.js*", RequestStage: fetch.RequestStageRequest},
	}}); err != nil {
		t.Fatalf("intercept extension scripts: %v", err)
	}
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			time.AfterFunc(e2eExtensionDelay, func() {
				chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
			})
		}
	}()
}

// e2eWithin runs f and gives up waiting for it after d.
func e2eWithin(d time.Duration, f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		return fmt.Errorf("no answer within %v", d)
	}
}

// changedLocked wakes every await of the tab; p.mu must be held.
func (p *e2eTab) changedLocked() {
	close(p.updated)
	p.updated = make(chan struct{})
}

// await waits until cond, called with p.mu held, is true of what the tab has recorded
// (console messages, event streams). It reports false if that takes longer than timeout.
func (p *e2eTab) await(timeout time.Duration, cond func() bool) bool {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		p.mu.Lock()
		ok, updated := cond(), p.updated
		p.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-updated:
		case <-timer.C:
			return false
		}
	}
}

// takeCSPViolations removes and returns the CSP violations reported so far.
func (p *e2eTab) takeCSPViolations() []chromedp.ConsoleMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	var found []chromedp.ConsoleMessage
	p.console = slices.DeleteFunc(p.console, func(m chromedp.ConsoleMessage) bool {
		if isCSPViolation(m) {
			found = append(found, m)
			return true
		}
		return false
	})
	return found
}

func isCSPViolation(m chromedp.ConsoleMessage) bool {
	return strings.Contains(m.Text, "Content Security Policy") || strings.Contains(m.Text, "Content-Security-Policy")
}

// close closes the tab, ending its event stream.
func (p *e2eTab) close() {
	chromedp.Cancel(p.ctx)
}

func (p *e2eTab) do(what string, timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%s: %s: %v\npage: %s", p.name, what, err, p.pageSummary())
	}
}

func (p *e2eTab) navigate(u string) {
	p.t.Helper()
	p.do("open "+u, 10*time.Second, chromedp.Navigate(u))
}

// e2eParsed holds once Chromium has parsed the whole page and fired DOMContentLoaded. Until
// then the page is not ready to act on, even when the element to click is already there:
//   - htmx starts at DOMContentLoaded, so before it a click on an hx-post form is not yet
//     handled by htmx (and a click then was seen to be lost altogether);
//   - at DOMContentLoaded Chromium drops every DOM node id it has handed out for the page
//     and chromedp fetches the document afresh, so a node that chromedp.Click found just
//     before answers "Could not find node with given id (-32000)" when it is clicked.
//
// The parser is slow to get there here: the htmx extension scripts at the end of <body> are
// held back by e2eExtensionDelay, so a test that sees the element it wants has to wait for
// this too. Chromium hands out node ids that stay valid from then on, until the page is left.
//
// 'interactive' is not enough: it comes before deferred scripts run (the simulator's page
// has one) and so before DOMContentLoaded; 'complete' comes after it.
const e2eParsed = `document.readyState === 'complete'`

// waitParsed waits until the page is parsed (e2eParsed), before acting on it.
func (p *e2eTab) waitParsed(before string) {
	p.t.Helper()
	p.waitFor("the page is parsed, before "+before, 10*time.Second, "true")
}

// click clicks the element sel selects, with the mouse, once the page is parsed.
func (p *e2eTab) click(sel string) {
	p.t.Helper()
	p.waitParsed("clicking " + sel)
	p.do("click "+sel, 5*time.Second, chromedp.Click(chromedp.CSS(sel)))
}

// typeInto replaces the text of the field sel selects, key by key, once the page is parsed.
func (p *e2eTab) typeInto(sel, text string) {
	p.t.Helper()
	p.waitParsed("typing into " + sel)
	p.do("type into "+sel, 5*time.Second, chromedp.Clear(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), text))
}

// eval returns the string value of a JavaScript expression ("" for null or undefined).
func (p *e2eTab) eval(expr string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`String((`+expr+`) ?? '')`))
	if err != nil {
		p.t.Fatalf("%s: evaluate %s: %v", p.name, expr, err)
	}
	return s
}

func (p *e2eTab) evalStrings(expr string) []string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](expr))
	if err != nil {
		p.t.Fatalf("%s: evaluate %s: %v", p.name, expr, err)
	}
	return s
}

// waitFor polls a JavaScript condition until it holds on a parsed page (e2eParsed), across
// navigations, or fails the test. A page that is still being parsed may show part of what cond
// looks for (one cart line of two), and is not ready to be clicked.
func (p *e2eTab) waitFor(what string, timeout time.Duration, cond string) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(`+e2eParsed+`) && Boolean(`+cond+`)`))
		cancel()
		if err == nil && ok {
			return
		}
		if err != nil {
			lastErr = err
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: %s: not within %v (last error: %v)\npage: %s", p.name, what, timeout, lastErr, p.pageSummary())
		}
		select {
		case <-tick.C:
		case <-p.ctx.Done():
			p.t.Fatalf("%s: %s: %v", p.name, what, p.ctx.Err())
		}
	}
}

// pageSummary is the address and visible text of the page, for failure messages.
func (p *e2eTab) pageSummary() string {
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + '\n' + (document.body?.innerText ?? '').slice(0, 1500)`))
	if err != nil {
		return fmt.Sprintf("(unreadable: %v)", err)
	}
	return s
}

// streamsOpened counts the tab's requests for an event stream so far.
func (p *e2eTab) streamsOpened() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.streams
}

// requireStreamSince fails the test unless the page opened a new event stream after the
// tab had opened n, which is what its live updates arrive through.
func (p *e2eTab) requireStreamSince(n int, page string) {
	p.t.Helper()
	if !p.await(5*time.Second, func() bool { return p.streams > n }) {
		p.t.Fatalf("%s: the %s never opened its live event stream (GET /orders/events), so it cannot update "+
			"without a reload. Did htmx initialise before its hx-sse extension script had loaded?\npage: %s", p.name, page, p.pageSummary())
	}
}

// markPage tags the current document and records every status the page's #order-status shows
// from now on. A reload would lose both, so requireSamePage and statuses prove there was none.
func (p *e2eTab) markPage() {
	p.t.Helper()
	b := make([]byte, 8)
	rand.Read(b)
	p.marker = hex.EncodeToString(b)
	p.do("mark the page", 5*time.Second, chromedp.Evaluate[chromedp.Void](`(() => {
		const state = { marker: '`+p.marker+`', statuses: [] };
		const record = () => {
			const el = document.querySelector('#order-status');
			if (!el) return;
			const s = el.dataset.status + ': ' + (el.querySelector('h2')?.textContent.trim() ?? '');
			if (state.statuses[state.statuses.length - 1] !== s) state.statuses.push(s);
		};
		record();
		new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
		window.__e2e = state;
	})()`))
}

func (p *e2eTab) requireSamePage(during string) {
	p.t.Helper()
	if got := p.eval(`window.__e2e?.marker`); got != p.marker {
		p.t.Fatalf("%s: the page was reloaded or left during %s (marker %q, want %q)", p.name, during, got, p.marker)
	}
}

// statuses lists the status panel states the marked page has shown, oldest first.
func (p *e2eTab) statuses() []string {
	p.t.Helper()
	p.requireSamePage("the status updates")
	return p.evalStrings(`window.__e2e.statuses`)
}

// signup creates an account through the sign-up form and waits until the nav shows it.
func (p *e2eTab) signup(email string) {
	p.t.Helper()
	p.navigate(p.shop.URL + "/signup")
	p.typeInto("#email", email)
	p.typeInto("#password", "correct horse battery")
	p.click(`main form button[type=submit]`)
	p.waitFor("signed in as "+email, 10*time.Second, fmt.Sprintf(`document.querySelector('.nav-user')?.textContent.trim() === %q`, email))
}

// checkOut clicks Check out on the cart page, waits for the simulator's payment page and
// returns the Checkout Session id from its address.
func (p *e2eTab) checkOut() string {
	p.t.Helper()
	p.click(".checkout-form button[type=submit]")
	p.waitFor("the simulated payment page", 10*time.Second,
		fmt.Sprintf(`location.href.startsWith(%q) && !!document.querySelector('form.pay-form')`, p.shop.Sim+"/c/pay/"))
	loc := p.eval(`location.pathname`)
	id := loc[strings.LastIndex(loc, "/")+1:]
	if !strings.HasPrefix(id, "cs_") {
		p.t.Fatalf("payment page %s has no checkout session id", loc)
	}
	return id
}

// saveShots saves desktop and phone screenshots of the current page to $E2E_SHOTS, if set.
func (p *e2eTab) saveShots(name string) {
	p.t.Helper()
	dir := os.Getenv("E2E_SHOTS")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.t.Fatal(err)
	}
	for _, vp := range []struct {
		name          string
		width, height int64
		mobile        bool
	}{{"desktop", 1280, 900, false}, {"phone", 390, 844, true}} {
		opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
		if vp.mobile {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
		}
		ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(vp.width, vp.height, opts...)); err != nil {
			cancel()
			p.t.Fatalf("emulate %s: %v", vp.name, err)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		cancel()
		if err != nil {
			p.t.Fatalf("screenshot %s: %v", vp.name, err)
		}
		path := filepath.Join(dir, name+"-"+vp.name+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			p.t.Fatal(err)
		}
		p.t.Logf("screenshot %s", path)
	}
	p.do("reset the viewport", 5*time.Second, chromedp.ResetViewport())
}

// screenshotOnFailure saves a full-page screenshot of the tab as a test artefact.
func (p *e2eTab) screenshotOnFailure() {
	if p.ctx.Err() != nil {
		return // closed on purpose
	}
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Logf("%s: no failure screenshot: %v", p.name, err)
		return
	}
	dir, err := e2eArtifactDir(p.t)
	if err != nil {
		p.t.Logf("%s: no failure screenshot: %v", p.name, err)
		return
	}
	path := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(p.t.Name())+"-"+p.name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Logf("%s: no failure screenshot: %v", p.name, err)
		return
	}
	p.t.Logf("%s: failure screenshot saved to %s\npage: %s", p.name, path, p.pageSummary())
}

// e2eArtifactDir is $E2E_ARTIFACTS, else the test's artefact directory when go test runs with
// -artifacts, else a kept temporary directory (t.ArtifactDir's own would be removed).
func e2eArtifactDir(t *testing.T) (string, error) {
	if dir := os.Getenv("E2E_ARTIFACTS"); dir != "" {
		return dir, os.MkdirAll(dir, 0o755)
	}
	if f := flag.Lookup("test.artifacts"); f != nil && f.Value.String() == "true" {
		return t.ArtifactDir(), nil
	}
	e2eTempArtifacts.once.Do(func() {
		e2eTempArtifacts.dir, e2eTempArtifacts.err = os.MkdirTemp("", "storefront-e2e-")
		if e2eTempArtifacts.err != nil {
			e2eTempArtifacts.err = errors.Join(errors.New("make an artefact directory"), e2eTempArtifacts.err)
		}
	})
	return e2eTempArtifacts.dir, e2eTempArtifacts.err
}

// e2eTempArtifacts is the one kept temporary directory of a run's failure screenshots.
var e2eTempArtifacts struct {
	once sync.Once
	dir  string
	err  error
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
