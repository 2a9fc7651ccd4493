// The checkout simulator's stand-in for Stripe.js v3, served at <simulator>/v3/. It offers the
// calls a shop's own payment page makes: Stripe(pk), stripe.elements({clientSecret, appearance}),
// elements.create("payment"), element.mount(selector), element.on(event, handler),
// stripe.confirmPayment({elements, confirmParams: {return_url}, redirect}) and
// stripe.retrievePaymentIntent(clientSecret).
//
// As with Stripe, card details never touch the shop's page: the Payment Element is a frame from
// the simulator's origin, and the page talks to it only by postMessage, checking on every
// message that it comes from that frame and that origin. A card that asks for 3-D Secure opens
// a second frame, the bank's challenge, over the page.
(function () {
  "use strict";
  var script = document.currentScript;
  var simulator = new URL(script.src).origin;
  var page = window.location.origin;

  function integrationError(message) {
    return new Error("IntegrationError: " + message);
  }

  // frameMessages calls handler with each message the frame sends, until the returned function is called.
  function frameMessages(frame, handler) {
    function listener(event) {
      if (event.origin !== simulator || event.source !== frame.contentWindow) return;
      if (!event.data || typeof event.data.type !== "string") return;
      handler(event.data);
    }
    window.addEventListener("message", listener);
    return function () { window.removeEventListener("message", listener); };
  }

  function paymentElement(group) {
    var handlers = {};
    var frame = null;
    var pending = {}; // confirm requests awaiting the frame's answer, by id
    var nextID = 1;
    var isReady = false;
    var element = {
      mount: function (target) {
        var parent = typeof target === "string" ? document.querySelector(target) : target;
        if (!parent) throw integrationError("mount(): no element matches " + target);
        if (frame) throw integrationError("this Payment Element is already mounted");
        frame = document.createElement("iframe");
        frame.title = "Secure payment input frame";
        frame.name = "__privateStripeFrame" + Math.floor(Math.random() * 1e6);
        frame.setAttribute("allow", "payment");
        frame.src = simulator + "/v3/elements/payment?client_secret=" + encodeURIComponent(group.clientSecret) +
          "&origin=" + encodeURIComponent(page);
        Object.assign(frame.style, { display: "block", width: "100%", minWidth: "100%", height: "260px",
          border: "0", colorScheme: "normal", background: "transparent" });
        while (parent.firstChild) parent.removeChild(parent.firstChild);
        parent.appendChild(frame);
        frameMessages(frame, function (msg) {
          if (msg.type === "resize" && msg.height > 0) {
            frame.style.height = Math.ceil(msg.height) + "px";
          } else if (msg.type === "ready") {
            isReady = true;
            emit("ready", { elementType: "payment" });
          } else if (msg.type === "change") {
            emit("change", { elementType: "payment", value: { type: msg.method }, complete: false, empty: false });
          } else if (msg.type === "confirmed" && pending[msg.id]) {
            var resolve = pending[msg.id];
            delete pending[msg.id];
            resolve(msg);
          }
        });
        return element;
      },
      on: function (event, handler) {
        (handlers[event] = handlers[event] || []).push(handler);
        if (event === "ready" && isReady) handler({ elementType: "payment" });
        return element;
      },
      off: function (event, handler) {
        handlers[event] = (handlers[event] || []).filter(function (h) { return h !== handler; });
        return element;
      },
      focus: function () { if (frame) frame.focus(); },
      unmount: function () {
        if (frame && frame.parentNode) frame.parentNode.removeChild(frame);
        frame = null;
        isReady = false;
      },
      destroy: function () { element.unmount(); },
      // confirm asks the frame to confirm the intent with what the customer typed.
      _confirm: function () {
        if (!frame || !isReady) return Promise.resolve({ error: { type: "validation_error", message: "The payment form is not ready yet." } });
        var id = nextID++;
        return new Promise(function (resolve) {
          pending[id] = resolve;
          frame.contentWindow.postMessage({ type: "confirm", id: id }, simulator);
        });
      },
    };
    function emit(event, payload) {
      (handlers[event] || []).forEach(function (h) { h(payload); });
    }
    return element;
  }

  // authenticate shows the bank's 3-D Secure challenge over the page and resolves with the
  // intent once the customer completed or failed it.
  function authenticate(url) {
    return new Promise(function (resolve) {
      var overlay = document.createElement("div");
      overlay.setAttribute("role", "dialog");
      overlay.setAttribute("aria-modal", "true");
      overlay.setAttribute("aria-label", "Authenticate your payment");
      Object.assign(overlay.style, { position: "fixed", inset: "0", zIndex: "2147483647", display: "flex",
        alignItems: "center", justifyContent: "center", background: "rgba(26, 31, 54, 0.55)" });
      var frame = document.createElement("iframe");
      frame.title = "3D Secure authentication";
      frame.name = "stripe-challenge-frame";
      frame.src = url + (url.indexOf("?") < 0 ? "?" : "&") + "origin=" + encodeURIComponent(page);
      Object.assign(frame.style, { width: "min(26rem, 94vw)", height: "min(24rem, 90vh)", border: "0",
        borderRadius: "0.5rem", background: "#fff", boxShadow: "0 1rem 3rem rgba(0, 0, 0, 0.3)" });
      overlay.appendChild(frame);
      document.body.appendChild(overlay);
      var stop = frameMessages(frame, function (msg) {
        if (msg.type !== "authenticated") return;
        stop();
        overlay.parentNode.removeChild(overlay);
        resolve(msg);
      });
    });
  }

  function withParams(url, intent, status) {
    var u = new URL(url, window.location.href);
    u.searchParams.set("payment_intent", intent.id);
    u.searchParams.set("payment_intent_client_secret", intent.client_secret);
    u.searchParams.set("redirect_status", status);
    return u.toString();
  }

  // settle turns the frame's answer into confirmPayment's result: a redirect to return_url once
  // the payment succeeded or is processing, a challenge first when the card asks for one, and
  // {error} when it was declined or the form is incomplete.
  function settle(answer, options) {
    if (answer.error) return { error: answer.error };
    var intent = answer.paymentIntent;
    if (intent.status === "requires_action" && intent.next_action) {
      var next = intent.next_action.use_stripe_sdk || intent.next_action.redirect_to_url || {};
      return authenticate(next.stripe_js || next.url).then(function (msg) {
        return settle(msg, options);
      });
    }
    if (intent.status === "succeeded" || intent.status === "processing") {
      var returnURL = options.confirmParams && options.confirmParams.return_url;
      if (options.redirect === "if_required") return { paymentIntent: intent };
      window.location.assign(withParams(returnURL, intent, intent.status));
      return new Promise(function () {}); // the page is going away
    }
    var e = intent.last_payment_error || { type: "invalid_request_error", message: "The payment was not completed." };
    return { error: { type: e.type, code: e.code, decline_code: e.decline_code, message: e.message, payment_intent: intent } };
  }

  function Stripe(publishableKey) {
    if (!(this instanceof Stripe)) return new Stripe(publishableKey);
    if (typeof publishableKey !== "string" || publishableKey.indexOf("pk_test_") !== 0) {
      throw integrationError("The checkout simulator takes a test publishable key (pk_test_…), got " + publishableKey);
    }
    this._key = publishableKey;
  }

  Stripe.prototype.elements = function (options) {
    var group = { clientSecret: options && options.clientSecret, appearance: options && options.appearance, payment: null };
    if (!group.clientSecret || group.clientSecret.indexOf("_secret_") < 0) {
      throw integrationError("elements() needs the PaymentIntent's clientSecret");
    }
    return {
      _group: group,
      create: function (type) {
        if (type !== "payment") throw integrationError("the checkout simulator offers only the Payment Element (\"payment\"), not " + type);
        group.payment = paymentElement(group);
        return group.payment;
      },
      getElement: function (type) { return type === "payment" ? group.payment : null; },
      update: function (opts) { if (opts && opts.appearance) group.appearance = opts.appearance; },
    };
  };

  Stripe.prototype.confirmPayment = function (options) {
    options = options || {};
    var group = options.elements && options.elements._group;
    if (!group || !group.payment) {
      return Promise.reject(integrationError("confirmPayment() needs the elements group holding a mounted Payment Element"));
    }
    if (options.redirect !== "if_required" && !(options.confirmParams && options.confirmParams.return_url)) {
      return Promise.reject(integrationError("confirmPayment(): confirmParams.return_url is required"));
    }
    return group.payment._confirm().then(function (answer) {
      return settle(answer, options);
    });
  };

  Stripe.prototype.retrievePaymentIntent = function (clientSecret) {
    var id = String(clientSecret || "").split("_secret_")[0];
    return fetch(simulator + "/v3/payment_intents/" + encodeURIComponent(id) + "?client_secret=" + encodeURIComponent(clientSecret),
      { credentials: "omit" })
      .then(function (resp) { return resp.json(); })
      .catch(function () {
        return { error: { type: "api_connection_error", message: "The checkout simulator could not be reached." } };
      });
  };

  window.Stripe = Stripe;
})();
