//! The host page around an embedded widget: messages to and from its
//! window, at its exact origin only (see `crate::widget::embed`).

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use crate::widget::embed::{Embed, FromHost, ToHost};

/// Posts `msg` to the parent window, addressed to the host page's origin:
/// the browser drops it if the parent is any other site.
pub fn post(embed: &Embed, msg: &ToHost) {
    let parent = leptos::web_sys::window().and_then(|w| w.parent().ok().flatten());
    if let Some(parent) = parent {
        let _ = parent.post_message(&JsValue::from_str(&msg.to_json()), &embed.origin);
    }
}

/// Calls `on` with every message of ours that the parent window sends from
/// the host page's origin; anything else is ignored.
pub fn listen(embed: &Embed, on: impl Fn(FromHost) + 'static) {
    let Some(window) = leptos::web_sys::window() else {
        return;
    };
    let parent = window.parent().ok().flatten();
    let origin = embed.origin.clone();
    let handler = Closure::<dyn Fn(leptos::web_sys::MessageEvent)>::new(
        move |event: leptos::web_sys::MessageEvent| {
            let from_parent = match (&parent, event.source()) {
                (Some(parent), Some(source)) => {
                    JsValue::from(parent.clone()) == JsValue::from(source)
                }
                _ => false,
            };
            if !from_parent || event.origin() != origin {
                return;
            }
            if let Some(msg) = event
                .data()
                .as_string()
                .as_deref()
                .and_then(FromHost::parse)
            {
                on(msg);
            }
        },
    );
    let _ = window.add_event_listener_with_callback("message", handler.as_ref().unchecked_ref());
    // The widget listens for as long as the page lives.
    handler.forget();
}
