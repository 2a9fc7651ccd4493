// The frames of the simulator's Stripe.js stand-in. In the Payment Element's frame it reports its
// height and readiness to the shop's page, and on the page's "confirm" message sends what the
// customer typed to the simulator and answers with the result. In the 3-D Secure frame it hands
// the challenge's outcome back. It talks only to the origin the frame was opened for, and only
// listens to its parent window.
"use strict";

(() => {
  const result = document.getElementById("auth-result");
  if (result) {
    window.parent.postMessage({ type: "authenticated", ...JSON.parse(result.dataset.result) }, result.dataset.origin);
    return;
  }
  const form = document.getElementById("element-form");
  if (!form) return;
  const parentOrigin = form.dataset.origin;
  const post = (msg) => window.parent.postMessage(msg, parentOrigin);

  // The frame is as tall as its body (documentElement.scrollHeight would never let it shrink).
  const sendSize = () => post({ type: "resize", height: Math.ceil(document.body.getBoundingClientRect().height) });
  new ResizeObserver(sendSize).observe(document.body);
  form.addEventListener("toggle", sendSize, true);

  form.addEventListener("change", (event) => {
    if (event.target.name === "method") post({ type: "change", method: event.target.value });
  });
  // Enter in a field asks nothing of the simulator: the shop's Pay button confirms.
  form.addEventListener("submit", (event) => event.preventDefault());

  function showErrors(fields) {
    for (const p of form.querySelectorAll(".field-error")) p.remove();
    for (const div of form.querySelectorAll(".has-error")) div.classList.remove("has-error");
    for (const input of form.querySelectorAll("[aria-invalid]")) {
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
    }
    let first = null;
    for (const [name, message] of Object.entries(fields || {})) {
      const input = form.querySelector(`[name="${name}"]`);
      if (!input) continue;
      const box = input.closest(".field") || input.closest("fieldset");
      const p = document.createElement("p");
      p.className = "field-error";
      p.id = `f-${name}-error`;
      p.textContent = message;
      box.classList.add("has-error");
      box.appendChild(p);
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", p.id);
      first = first || input;
    }
    if (first) first.focus();
  }

  async function confirm() {
    const body = new URLSearchParams(new FormData(form));
    body.set("client_secret", form.dataset.clientSecret);
    let answer;
    try {
      const resp = await fetch("/v3/elements/confirm", { method: "POST", body, credentials: "omit" });
      answer = await resp.json();
    } catch {
      return { error: { type: "api_connection_error", message: "The checkout simulator could not be reached. Try again." } };
    }
    showErrors(answer.error && answer.error.type === "validation_error" ? answer.error.fields : null);
    return answer;
  }

  window.addEventListener("message", async (event) => {
    if (event.origin !== parentOrigin || event.source !== window.parent) return;
    if (!event.data || event.data.type !== "confirm") return;
    const answer = await confirm();
    post({ type: "confirmed", id: event.data.id, ...answer });
  });

  post({ type: "ready" });
  sendSize();
})();
