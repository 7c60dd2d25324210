// kefu's launcher, inlined into pages that show the widget closed.
// The server puts KEFU_JS and KEFU_WASM before it: the full bundle's paths,
// whose names carry a hash of their content (see src/app.rs).
//
// The page is server-rendered with the launcher button already in place; the
// chat (the full bundle, kefu.<hash>.js + .wasm) loads only when the visitor
// clicks it, or at once for a visitor who has chatted before (so a reply can
// raise the unread badge while the panel is closed). The click that starts
// the load opens the panel as soon as the chat is ready.
const button = document.querySelector('[data-testid="widget-launcher"]');
let started = false;
let ready = false;

function start() {
  if (started) return;
  started = true;
  if (button) button.classList.add("loading");
  import(KEFU_JS)
    .then((kefu) => kefu.default({ module_or_path: KEFU_WASM }).then(() => {
      kefu.hydrate();
      ready = true;
    }))
    .catch((err) => {
      started = false;
      console.error("kefu: the chat could not load", err);
    })
    .finally(() => button && button.classList.remove("loading"));
}

if (button) {
  button.addEventListener("click", () => {
    if (!ready) window.__kefuOpen = true;
    start();
  });
}
try {
  // The key is state::TOKEN_KEY's (a unit test checks they match).
  if (localStorage.getItem("kefu.visitor_token")) start();
} catch (_) {
  // Storage blocked: wait for a click.
}
