// pay.js mounts Stripe's Payment Element on the shop's own payment page (/pay/{order}) and
// confirms the payment. Everything it needs comes from the form's data attributes; Stripe.js
// (or, in simulator mode, the simulator's stand-in) is loaded just before it.
(function () {
  "use strict";
  var form = document.getElementById("pay-form");
  if (!form || typeof Stripe === "undefined") return;
  var button = document.getElementById("pay-button");
  var error = document.getElementById("pay-error");
  var stripe = Stripe(form.dataset.publishableKey);
  var elements = stripe.elements({ clientSecret: form.dataset.clientSecret, appearance: { theme: "stripe" } });
  var element = elements.create("payment");
  element.mount("#payment-element");
  element.on("ready", function () { button.disabled = false; });

  function busy(on) {
    button.disabled = on;
    form.classList.toggle("htmx-request", on); // the shared busy style: "Paying…"
    if (on) button.setAttribute("aria-busy", "true"); else button.removeAttribute("aria-busy");
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    busy(true);
    error.hidden = true;
    stripe.confirmPayment({ elements: elements, confirmParams: { return_url: form.dataset.returnUrl } })
      .then(function (result) {
        // Reached only when the payment was not confirmed: a confirmed one leaves the page.
        if (result.error) {
          error.textContent = result.error.message;
          error.hidden = false;
        }
        busy(false);
      });
  });

  // Back from Stripe's redirect (3-D Secure) through the back/forward cache: not busy any more.
  window.addEventListener("pageshow", function (event) { if (event.persisted) busy(false); });
})();
