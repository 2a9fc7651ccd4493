package simulator_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's Chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// browser starts headless Chromium for one test, or skips the test where there is none.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("%s is missing: the hosted page's browser behaviour is not checked", chromiumPath)
	}
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 900))
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// do runs browser steps with a bound, so a page that never reaches its state fails instead of hanging.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval returns a JavaScript expression's value as a string.
func eval(t *testing.T, ctx context.Context, expr string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`String(`+expr+`)`))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return s
}

// waitJS polls a JavaScript condition, across navigations, until it holds.
func waitJS(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		ok, err := chromedp.Run(cctx, chromedp.Evaluate[bool](`Boolean(`+cond+`)`))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s never held (last error %v)", what, cond, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestHostedPageInBrowser(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	h := newHarness(t)
	s := h.create(t)

	t.Run("BackAfterDeclineNeedsNoResubmission", func(t *testing.T) {
		do(t, ctx, "pay with a declined card",
			chromedp.Navigate(s.URL),
			chromedp.SetValue(chromedp.CSS("#f-card_number"), "4000 0000 0000 0002"),
			chromedp.SetValue(chromedp.CSS("#f-expiry"), "12/34"),
			chromedp.SetValue(chromedp.CSS("#f-cvc"), "123"),
			chromedp.Click(chromedp.CSS("button.pay")),
			chromedp.WaitVisible(chromedp.CSS("#declined")),
		)
		first := eval(t, ctx, "location.href")
		if !strings.Contains(first, "?attempt=") {
			t.Errorf("after the decline the browser is at %s, want the page's GET", first)
		}
		// A second failed attempt; Back must then show the first one's page, not a POST to resubmit.
		do(t, ctx, "submit again without a CVC (the page never keeps it)",
			chromedp.Click(chromedp.CSS("button.pay")),
			chromedp.WaitVisible(chromedp.CSS("#f-cvc-error")),
		)
		do(t, ctx, "go back", chromedp.Evaluate[chromedp.Void]("history.back()"))
		waitJS(t, ctx, "the first attempt's page", `location.href === "`+first+`" && document.readyState === "complete"`)
		if !strings.HasPrefix(eval(t, ctx, "document.title"), "Pay $48.00") || eval(t, ctx, `document.querySelectorAll("#declined").length`) != "1" {
			t.Errorf("Back shows %q: %s", eval(t, ctx, "document.title"), eval(t, ctx, "document.body.innerText.slice(0, 300)"))
		}
	})

	t.Run("PayButtonTurnsBusyOnce", func(t *testing.T) {
		do(t, ctx, "open the page and hold submissions",
			chromedp.Navigate(s.URL),
			chromedp.WaitReady(chromedp.CSS("form.pay-form")),
			// Count the submissions checkout.js lets through, and keep the page here to look at it.
			chromedp.Evaluate[chromedp.Void](`window.submits = 0;
				document.addEventListener("submit", e => { if (!e.defaultPrevented) window.submits++; e.preventDefault(); });`),
			chromedp.Click(chromedp.CSS("button.pay")),
			chromedp.Click(chromedp.CSS("button.pay")),
		)
		busy := eval(t, ctx, `document.querySelector("form.pay-form").getAttribute("aria-busy")`)
		idle := eval(t, ctx, `getComputedStyle(document.querySelector("button.pay .idle-label")).display`)
		working := eval(t, ctx, `getComputedStyle(document.querySelector("button.pay .busy-label")).display`)
		if busy != "true" || idle != "none" || working != "inline" {
			t.Errorf("after a click: aria-busy %q, idle label display %q, busy label display %q", busy, idle, working)
		}
		if n := eval(t, ctx, "window.submits"); n != "1" {
			t.Errorf("two clicks submitted %s times, want once", n)
		}
		do(t, ctx, "restore from the back/forward cache",
			chromedp.Evaluate[chromedp.Void](`window.dispatchEvent(new PageTransitionEvent("pageshow", {persisted: true}))`))
		if busy := eval(t, ctx, `document.querySelector("form.pay-form").getAttribute("aria-busy")`); busy != "false" {
			t.Errorf("a page restored by Back stays busy: aria-busy %q", busy)
		}
	})
}
