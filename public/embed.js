/*! kefu embed.js: puts kefu's chat on any page of an allowed site.
 * <script src="https://KEFU_HOST/embed.js" async></script>  (docs/EMBED.md)
 * No dependencies. Draws the launcher in a shadow root (the page's CSS
 * cannot reach it, and its own cannot leak out) and loads the chat, in an
 * iframe served by kefu, only when the visitor opens it -- or at once for a
 * visitor with an open conversation, so that a reply raises the badge.
 * Messages to and from the iframe are checked against kefu's origin, and
 * the iframe's against the page's; nothing is ever posted to '*'. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__kefuLoaded) return;
  window.__kefuLoaded = true;
  var base = new URL(script.src).origin;
  var lang = script.getAttribute("data-lang") || "";
  // The launcher's label in each language the widget speaks (the widget's
  // strings tables hold the same words; a Rust test keeps them in step).
  var WORDS = { en: "Chat with us", "zh-CN": "在线咨询" };
  var label = WORDS.en;
  var prefs = lang ? [lang] : navigator.languages || [navigator.language || ""];
  for (var i = 0; i < prefs.length; i++) {
    var tag = String(prefs[i]).toLowerCase();
    if (tag.indexOf("zh") === 0) { label = WORDS["zh-CN"]; break; }
    if (tag.indexOf("en") === 0) break;
  }
  var ACTIVE = "kefu.active", SVG = "http://www.w3.org/2000/svg";
  // What the chat keeps on this site for its visitor (a third-party
  // iframe's own storage is blocked or discarded by many browsers).
  var KEYS = ["kefu.visitor_token", "kefu.prechat_done", "kefu.sound"];
  var queued = (window.kefu && window.kefu.q) || [];
  var listeners = { unread: [], message: [] };
  var frame = null, ready = false, open = false, identity = null, unread = 0, host, launcher, badge;

  function warn(text) {
    console.error("kefu: " + text);
  }
  function emit(event, value) {
    listeners[event].forEach(function (fn) {
      try { fn(value); } catch (e) { warn("a '" + event + "' listener failed: " + e); }
    });
  }
  function post(msg) {
    msg.kefu = 1;
    if (frame && ready) frame.contentWindow.postMessage(JSON.stringify(msg), base);
  }
  function saved() {
    var out = [];
    KEYS.forEach(function (k) {
      try { var v = localStorage.getItem(k); if (v !== null) out.push([k, v]); } catch (e) { /* blocked */ }
    });
    return out;
  }
  // The page the visitor is on, for the agent; a single-page site's moves
  // are told once settled (its title follows the address).
  function withPage(m) {
    m.url = location.href; m.title = document.title; m.referrer = document.referrer;
    return m;
  }
  var lastUrl = location.href, pageTimer = 0;
  function moved() {
    clearTimeout(pageTimer);
    pageTimer = setTimeout(function () {
      if (location.href !== lastUrl) { lastUrl = location.href; post(withPage({ type: "page" })); }
    }, 300);
  }
  function watchPages() {
    ["pushState", "replaceState"].forEach(function (name) {
      var original = history[name];
      history[name] = function () { var r = original.apply(this, arguments); moved(); return r; };
    });
    addEventListener("popstate", moved);
    addEventListener("hashchange", moved);
  }
  function remember(active) {
    try {
      if (active) localStorage.setItem(ACTIVE, "1");
      else localStorage.removeItem(ACTIVE);
    } catch (e) { /* storage blocked: no early load */ }
  }

  function load() {
    if (frame) return;
    var q = "embed=1&origin=" + encodeURIComponent(location.origin) + (lang ? "&lang=" + encodeURIComponent(lang) : "");
    frame = document.createElement("iframe");
    frame.src = base + "/widget?" + q;
    frame.title = label;
    frame.setAttribute("data-testid", "widget-frame");
    frame.setAttribute("allow", "clipboard-write");
    frame.className = "frame";
    frame.hidden = !open;
    host.appendChild(frame);
  }
  function show(yes) {
    if (!yes && !frame) return;
    open = yes;
    if (yes) load();
    frame.hidden = !yes;
    launcher.setAttribute("aria-expanded", String(yes));
    post({ type: yes ? "open" : "close" });
  }

  function onMessage(e) {
    if (!frame || e.origin !== base || e.source !== frame.contentWindow || typeof e.data !== "string") return;
    var m;
    try { m = JSON.parse(e.data); } catch (err) { return; }
    if (!m || m.kefu !== 1) return;
    if (m.type === "ready") {
      ready = true;
      post(withPage({ type: "init", open: open, saved: saved(), identity: identity }));
    } else if (m.type === "size") {
      var w = m.width | 0, h = m.height | 0;
      if (w >= 200 && w <= 800 && h >= 200 && h <= 1200) {
        // Custom properties: the narrow-screen rule still wins.
        frame.style.setProperty("--kefu-w", w + "px");
        frame.style.setProperty("--kefu-h", h + "px");
      }
    } else if (m.type === "unread") {
      unread = m.count | 0;
      badge.textContent = String(unread);
      badge.hidden = unread === 0;
      emit("unread", unread);
    } else if (m.type === "active") {
      remember(!!m.open);
    } else if (m.type === "message") {
      emit("message", { author: m.author, name: m.name, text: m.text });
    } else if (m.type === "close") {
      show(false);
    } else if (m.type === "save" && KEYS.indexOf(m.key) >= 0 && typeof m.value === "string") {
      try { localStorage.setItem(m.key, m.value); } catch (err) { /* blocked: a new visitor next time */ }
    }
  }

  var api = {
    open: function () { show(true); },
    close: function () { if (frame) show(false); },
    identify: function (who) {
      if (!who || typeof who !== "object") return warn("identify takes an object: { token } or { name, email }");
      identity = { token: who.token, name: who.name, email: who.email };
      // The socket says who the visitor is when it opens: start afresh.
      if (frame && ready) {
        host.removeChild(frame);
        frame = null;
        ready = false;
        if (open) load();
      }
    },
    on: function (event, fn) {
      if (!listeners[event] || typeof fn !== "function") return warn("on takes 'unread' or 'message' and a function");
      listeners[event].push(fn);
      if (event === "unread") fn(unread);
    }
  };
  function call(name) {
    var f = api[name];
    if (!f) return warn("unknown command '" + name + "'");
    f.apply(null, Array.prototype.slice.call(arguments, 1));
  }

  function draw(config) {
    var root = document.createElement("div");
    root.setAttribute("data-kefu", "");
    host = root.attachShadow({ mode: "open" });
    var side = config.position === "left" ? "left" : "right";
    var css =
      ":host{all:initial}" +
      ".launcher{position:fixed;bottom:20px;" + side + ":20px;z-index:2147483000;width:56px;height:56px;border-radius:50%;border:0;cursor:pointer;" +
      "background:" + config.color + ";color:#fff;box-shadow:0 6px 20px rgba(0,0,0,.2);display:grid;place-items:center;padding:0}" +
      ".dot{position:absolute;right:3px;bottom:3px;width:12px;height:12px;border-radius:50%;background:#9ca3af;border:2px solid #fff}" +
      ".online .dot{background:#22c55e}" +
      ".badge{position:absolute;top:-5px;right:-5px;min-width:20px;height:20px;padding:0 5px;box-sizing:border-box;border-radius:10px;background:#b91c1c;color:#fff;font:12px/20px system-ui,sans-serif;text-align:center}" +
      ".badge[hidden],.frame[hidden]{display:none}" +
      ".frame{position:fixed;bottom:88px;" + side + ":20px;z-index:2147483000;width:var(--kefu-w,360px);height:var(--kefu-h,520px);max-width:calc(100vw - 40px);max-height:calc(100vh - 108px);" +
      "border:0;border-radius:12px;box-shadow:0 12px 40px rgba(0,0,0,.22);background:#fff;color-scheme:normal}" +
      "@media (max-width:480px){.frame{inset:0;width:100%;height:100%;max-width:none;max-height:none;border-radius:0}}";
    // A constructed sheet passes pages whose CSP forbids inline styles.
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      host.adoptedStyleSheets = [sheet];
    } catch (e) {
      var style = document.createElement("style");
      style.textContent = css;
      host.appendChild(style);
    }
    launcher = document.createElement("button");
    launcher.type = "button";
    launcher.className = "launcher" + (config.online ? " online" : "");
    launcher.setAttribute("data-testid", "widget-launcher");
    launcher.setAttribute("data-online", String(!!config.online));
    launcher.setAttribute("aria-label", label);
    launcher.setAttribute("aria-expanded", "false");
    launcher.title = label;
    var svg = document.createElementNS(SVG, "svg"), path = document.createElementNS(SVG, "path"), dot = document.createElement("span");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "28");
    svg.setAttribute("height", "28");
    svg.setAttribute("aria-hidden", "true");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", "M4 4h16v12H7l-3 3z");
    svg.appendChild(path);
    dot.className = "dot";
    launcher.appendChild(svg);
    launcher.appendChild(dot);
    badge = document.createElement("span");
    badge.className = "badge";
    badge.setAttribute("data-testid", "widget-unread");
    badge.hidden = true;
    launcher.appendChild(badge);
    launcher.addEventListener("click", function () { show(!open); });
    host.appendChild(launcher);
    document.body.appendChild(root);
    window.addEventListener("message", onMessage);
    watchPages();
    var early = false;
    try { early = localStorage.getItem(ACTIVE) === "1"; } catch (e) { /* blocked */ }
    if (early) load();
  }

  // Until the launcher is drawn, commands wait in line.
  window.kefu = function () {
    if (host) call.apply(null, arguments);
    else queued.push(arguments);
  };
  fetch(base + "/embed/config", { credentials: "omit" })
    .then(function (res) {
      return res.json().then(function (body) {
        if (res.ok) return body;
        throw new Error(body && body.code === "origin_not_allowed"
          ? "this site (" + location.origin + ") may not embed the chat of " + base +
            ". An admin adds it under Widget settings > Sites that may embed the chat, in the console."
          : "the chat's settings could not load (HTTP " + res.status + ")");
      });
    })
    .then(function (config) {
      draw(config);
      queued.forEach(function (args) { call.apply(null, args); });
    })
    .catch(function (err) { warn(err.message || String(err)); });
})();
