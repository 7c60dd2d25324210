#![recursion_limit = "512"]
//! kefu: live customer-service chat. A visitor widget and an agent console,
//! server-rendered and hydrated with Leptos, live over one WebSocket protocol.

pub mod accounts;
pub mod api;
pub mod app;
pub mod canned;
pub mod chat;
pub mod console;
pub mod error;
pub mod i18n;
pub mod profile;
pub mod protocol;
pub mod widget;

#[cfg(feature = "hydrate")]
pub mod client;

#[cfg(feature = "ssr")]
pub mod routes;
#[cfg(feature = "ssr")]
pub mod server;

/// Entry point of the full bundle (`kefu.*`): hydrates a page of the
/// [`app::App`] router (the console, the demo page). Left out of the
/// visitor's bundle, so that the router and the console are not linked.
#[cfg(all(feature = "hydrate", not(feature = "visitor-bundle")))]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}

/// Entry point of the visitor's bundle (`widget.*`, built by
/// `scripts/widget-bundle.sh`): hydrates the `/widget` page, whose body is
/// [`app::visitor::WidgetRoot`] alone. The full bundle has it too, so the
/// page still works from a build without the visitor's bundle.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate_widget() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::visitor::WidgetRoot);
}
