//! Browser-only code (hydrate feature): the socket driver and small helpers
//! around browser APIs.

pub mod host;
pub mod socket;
pub mod sound;

use wasm_bindgen::JsValue;

/// A UUID v4 from the browser's crypto (falls back to Math.random outside
/// secure contexts, where `crypto.randomUUID` is missing).
pub fn random_uuid() -> String {
    let crypto = leptos::web_sys::window().and_then(|w| w.crypto().ok());
    if let Some(crypto) = crypto {
        let f = js_sys::Reflect::get(&crypto, &JsValue::from_str("randomUUID")).ok();
        if f.is_some_and(|f| f.is_function()) {
            return crypto.random_uuid();
        }
    }
    let hex: String = (0..32)
        .map(|_| format!("{:x}", (js_sys::Math::random() * 16.0) as u8 & 0xf))
        .collect();
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

/// The browser's localStorage, if it is available.
pub fn local_storage() -> Option<leptos::web_sys::Storage> {
    leptos::web_sys::window()?.local_storage().ok()?
}

/// `ws://host/path` or `wss://host/path` for the page's own origin.
pub fn socket_url(path: &str) -> String {
    let location = leptos::web_sys::window().map(|w| w.location());
    let (protocol, host) = location
        .map(|l| {
            (
                l.protocol().unwrap_or_default(),
                l.host().unwrap_or_default(),
            )
        })
        .unwrap_or_default();
    let scheme = if protocol == "https:" { "wss" } else { "ws" };
    format!("{scheme}://{host}{path}")
}

/// Whether the page is visible (not a background tab).
pub fn page_visible() -> bool {
    leptos::web_sys::window()
        .and_then(|w| w.document())
        .map(|d| !d.hidden())
        .unwrap_or(true)
}

/// Sets the document's title.
pub fn set_title(title: &str) {
    if let Some(d) = leptos::web_sys::window().and_then(|w| w.document()) {
        d.set_title(title);
    }
}

/// Calls `f` each time the page becomes visible again (the
/// `visibilitychange` event reaches the window as it bubbles).
pub fn on_visible(f: impl Fn() + 'static) {
    std::mem::forget(leptos::prelude::window_event_listener_untyped(
        "visibilitychange",
        move |_| {
            if page_visible() {
                f();
            }
        },
    ));
}
