#![recursion_limit = "512"]
//! kefu: live customer-service chat. A visitor widget and an agent console,
//! server-rendered and hydrated with Leptos, live over one WebSocket protocol.

pub mod accounts;
pub mod api;
pub mod app;
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

/// Entry point of the wasm bundle: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
