// Progressive enhancement of the hosted payment form; the form works without it.
// On submit the Pay button turns busy ("Processing…") and further submits are ignored, so a
// double click cannot send the payment twice. A page restored by Back (bfcache) is reset.
"use strict";

function setBusy(form, busy) {
  const button = form.querySelector("button.pay");
  form.toggleAttribute("data-busy", busy);
  form.setAttribute("aria-busy", busy ? "true" : "false");
  if (!button) return;
  button.setAttribute("aria-disabled", busy ? "true" : "false");
  button.querySelector(".idle-label")?.setAttribute("aria-hidden", busy ? "true" : "false");
  button.querySelector(".busy-label")?.setAttribute("aria-hidden", busy ? "false" : "true");
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.classList.contains("pay-form")) return;
  if (form.hasAttribute("data-busy")) {
    event.preventDefault();
    return;
  }
  setBusy(form, true);
});

window.addEventListener("pageshow", (event) => {
  if (!event.persisted) return;
  for (const form of document.querySelectorAll("form.pay-form[data-busy]")) setBusy(form, false);
});
