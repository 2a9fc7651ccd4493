// Storefront's own script: the little the pages need beyond htmx. It is a file because the
// Content-Security-Policy allows no inline script; every page works without it.
(() => {
  "use strict";
  document.documentElement.classList.add("js");

  // Times are rendered in UTC (<time datetime data-local>); show them in the shopper's zone.
  // The formatter is made only when a page has such a time: building one loads the locale's
  // data, which costs a slow phone more than everything else this script does.
  let timeFormat = null;
  function localiseTimes(root) {
    for (const el of (root || document).querySelectorAll("time[data-local]")) {
      timeFormat ??= new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
      const when = new Date(el.getAttribute("datetime"));
      if (!isNaN(when)) el.textContent = timeFormat.format(when);
      el.removeAttribute("data-local");
    }
  }
  localiseTimes(document);
  document.addEventListener("htmx:after:settle", () => localiseTimes(document));
  document.addEventListener("htmx:sse:after:message", () => localiseTimes(document));

  // Back/forward cache: a page restored as it was left may still show a form mid-request
  // (disabled, "Opening secure checkout…") and a cart that has since been paid. Undo htmx's
  // request state and fetch the cart and its badge again.
  window.addEventListener("pageshow", (e) => {
    if (!e.persisted) return;
    for (const el of document.querySelectorAll(".htmx-request")) {
      el.classList.remove("htmx-request");
      if (el._htmx_state) delete el._htmx_state.rc;
    }
    for (const el of document.querySelectorAll(":disabled")) {
      const state = el._htmx_state;
      if (state && state.dc) {
        delete state.dc;
        el.disabled = false;
      }
    }
    if (!window.htmx) return;
    htmx.trigger(document.body, "cart-updated");
    if (document.getElementById("cart")) {
      htmx.ajax("GET", "/cart", { target: "#cart", swap: "outerHTML", select: "#cart" });
    }
    if (document.body.hasAttribute("data-reload-on-restore")) location.reload();
  });

  // The cart replaces itself after Update or Remove; put focus back where the shopper was
  // (the same line, or the next one), never on <body>.
  let cartFocus = null;
  document.addEventListener("submit", (e) => {
    const line = e.target.closest && e.target.closest(".cart-line");
    if (!line) return;
    const lines = [...document.querySelectorAll(".cart-line")];
    cartFocus = { index: lines.indexOf(line), id: line.id, removing: !!e.target.querySelector('input[name="quantity"][value="0"]') };
  }, true);
  document.addEventListener("htmx:after:settle", () => {
    if (!cartFocus || !document.getElementById("cart")) return;
    const want = cartFocus;
    cartFocus = null;
    const active = document.activeElement;
    if (active && active !== document.body && active.isConnected) return;
    let target = null;
    const same = document.getElementById(want.id);
    if (same && !want.removing) {
      target = same.querySelector('input[name="quantity"]');
    } else {
      const lines = document.querySelectorAll(".cart-line");
      const line = lines[Math.min(want.index, lines.length - 1)];
      target = line ? line.querySelector("button.danger") : document.querySelector("#cart .button, #cart a");
    }
    if (target) target.focus();
  });
})();
