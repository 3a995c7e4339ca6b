/*! Leadflow tracking snippet. No dependencies. Docs: docs/TRACKING.md
 * <script src="https://<api>/v1/leadflow.js" data-write-key="wk_..." defer></script>
 * data-consent="wait": no cookie and nothing sent until leadflow.consent() is called.
 */
(function (w, d) {
  "use strict";
  if (w.leadflow && w.leadflow.v) return; // loaded twice: the first copy wins
  var queued = Array.isArray(w.leadflow) ? w.leadflow : []; // calls made before we loaded
  // Our own <script> tag names the API (its src, stage path included; or data-api when the file
  // is self-hosted) and the site's write key.
  var me = d.currentScript || d.querySelector("script[data-write-key]");
  var key = me && me.getAttribute("data-write-key");
  if (!key) return;
  var base = (me.getAttribute("data-api") || me.src.replace(/\/v1\/leadflow\.js([?#].*)?$/, "")).replace(/\/$/, "");
  var UTM = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];
  var consented = me.getAttribute("data-consent") !== "wait";
  var anon = null, email = null, waiting = [], inflight = {}, seq = 0;

  function rid() { // 128 random bits as hex: anonymous ids and event ids
    var bytes = w.crypto.getRandomValues(new Uint8Array(16));
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  // This page's context: UTM parameters from its URL and the referrer. Sent with forms even
  // before consent (it is about this page, nothing is stored).
  var query = new URLSearchParams(location.search), here = {referrer: d.referrer}, tagged = false;
  UTM.forEach(function (k) { if (query.get(k)) { here[k] = query.get(k); tagged = true; } });
  var first = here;

  function start() {
    // The anonymous id: a first-party cookie, renewed for a year on every visit.
    var found = d.cookie.match(/(?:^|;\s*)lf_anon=([A-Za-z0-9._:-]{1,128})/);
    anon = found ? found[1] : rid();
    d.cookie = "lf_anon=" + anon + "; Max-Age=31536000; Path=/; SameSite=Lax" +
      (location.protocol === "https:" ? "; Secure" : "");
    // First touch of this visit (landing UTM and referrer), kept for the tab's session so a
    // form two pages later still says where the visitor came from. A new UTM link replaces it.
    try {
      var kept = JSON.parse(sessionStorage.getItem("lf_first") || "null");
      first = kept && !tagged ? kept : here;
      sessionStorage.setItem("lf_first", JSON.stringify(first));
    } catch (e) { first = here; } // storage blocked: this page's context only
    waiting.forEach(function (e) { e.anonymous_id = anon; });
    if (waiting.length) post(waiting);
    waiting = [];
  }

  // POST one batch as text/plain JSON: a "simple" request, so the browser sends no preflight.
  // fetch shows the status, so a 503 or network error is retried; event ids make retries harmless.
  // Each reply's body is read: unread, it keeps the request open in Chromium (no network idle);
  // cancelled, it shows as a failed request in the site's own browser tests.
  function post(events) {
    var id = ++seq;
    inflight[id] = events;
    if (w.fetch) attempt(id, 1); else flush();
  }
  function attempt(id, n) {
    if (!inflight[id]) return; // already handed to sendBeacon
    w.fetch(base + "/v1/events", {method: "POST", body: body(inflight[id]), keepalive: true,
      credentials: "omit", headers: {"Content-Type": "text/plain"}})
      .then(function (r) {
        r.text().catch(function () {});
        if (r.status === 503 || r.status === 429) throw r;
        delete inflight[id];
      })
      .catch(function () {
        if (n < 3 && inflight[id]) setTimeout(function () { attempt(id, n + 1); }, 1000 * n * n);
        else delete inflight[id];
      });
  }
  function body(events) { return JSON.stringify({write_key: key, events: events}); }
  // Leaving the page: whatever is unconfirmed goes by sendBeacon, which outlives the page.
  function flush() {
    for (var id in inflight) {
      var blob = new Blob([body(inflight[id])], {type: "text/plain"});
      if (navigator.sendBeacon) navigator.sendBeacon(base + "/v1/events", blob);
    }
    inflight = {};
  }
  w.addEventListener("pagehide", flush);

  function track(type, properties, extra) {
    var e = {type: type, event_id: rid(), url: location.href.slice(0, 2048), title: d.title.slice(0, 1024),
      properties: properties || {}};
    for (var k in extra) e[k] = extra[k];
    if (email) e.email = email;
    if (!consented) return waiting.push(e);
    e.anonymous_id = anon;
    post([e]);
  }

  // What a form submission should carry about the visit (also for sites that post JSON themselves).
  function context() {
    var c = {anonymous_id: anon, page_url: location.href};
    for (var k in first) c[k] = first[k];
    return c;
  }

  // Forms that post to this API get hidden context inputs; inputs the page wrote itself are left alone.
  var FORM = /\/v1\/forms\/[^/?#]+\/submissions([?#]|$)/;
  function decorate(form) {
    if (!form || form.tagName !== "FORM") return;
    var action = new URL(form.getAttribute("action") || "", location.href).href; // form.action can be shadowed
    if (action.indexOf(base + "/v1/forms/") !== 0 || !FORM.test(action)) return;
    var c = context();
    Object.keys(c).forEach(function (name) {
      if (!c[name]) return;
      var input = form.querySelector('input[name="' + name + '"]');
      if (!input) {
        input = d.createElement("input");
        input.type = "hidden";
        input.name = name;
        input.setAttribute("data-leadflow", "");
        form.appendChild(input);
      }
      if (input.hasAttribute("data-leadflow")) input.value = String(c[name]).slice(0, 2048);
    });
  }
  // Capture phase: runs before the page's own submit handlers, and covers forms added later.
  d.addEventListener("submit", function (ev) { decorate(ev.target); }, true);

  var api = w.leadflow = {
    v: 1,
    track: function (type, properties) { track(type, properties); },
    // Ties this browser's anonymous id to a person now (a custom "identify" event) and on later events.
    identify: function (address) {
      email = address ? String(address) : null;
      if (email) track("custom", {name: "identify"});
    },
    consent: function () { if (!consented) { consented = true; start(); } },
    context: context
  };
  if (consented) start();
  track("page_view", {}, d.referrer ? {referrer: d.referrer.slice(0, 2048)} : {});
  Array.prototype.forEach.call(d.forms, decorate);
  queued.forEach(function (call) { if (api[call[0]]) api[call[0]].apply(api, call.slice(1)); });
})(window, document);
