//! Telling an agent who looks elsewhere: a chime and a browser
//! notification for a new conversation, and for a visitor's message in a
//! conversation not in front or while the console's tab is hidden. The
//! switch is the agent's own, stored for them; the browser's permission is
//! asked once, when they turn it on (a user's gesture, as browsers require).

use leptos::prelude::*;

use super::state::ConsoleState;
use super::strings::ConsoleStrings;
use crate::protocol::{ConversationId, ConversationSummary};

/// The "notify me" switch in the console's header.
#[component]
pub fn NotifyToggle(state: ConsoleState) -> impl IntoView {
    let s = ConsoleStrings::of(crate::i18n::Lang::current());
    let v = s.visits;
    let failed = RwSignal::new(None::<String>);
    let blocked = RwSignal::new(false);
    let on_change = move |ev| {
        let on = event_target_checked(&ev);
        state.notify.set(on);
        #[cfg(feature = "hydrate")]
        {
            if on {
                crate::client::sound::unlock();
                ask_permission(blocked);
            }
            leptos::task::spawn_local(async move {
                let result = crate::api::set_notify(on).await;
                failed.set(result.err().map(|e| s.error_text(&e)));
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (on, failed, blocked);
    };
    view! {
        <label class="notify-toggle" title=v.notify_hint>
            <input
                type="checkbox"
                data-testid="notify-toggle"
                prop:checked=move || state.notify.get()
                on:change=on_change
            />
            {v.notify}
        </label>
        <Show when=move || blocked.get()>
            <span class="form-error" role="status">{v.notify_blocked}</span>
        </Show>
        {move || failed.get().map(|e| view! { <span class="form-error" role="alert">{e}</span> })}
    }
}

/// Asks the browser's permission to notify, unless it was answered before
/// (it is asked once); `blocked` says whether it was refused.
#[cfg(feature = "hydrate")]
fn ask_permission(blocked: RwSignal<bool>) {
    use leptos::web_sys::{Notification, NotificationPermission};
    match Notification::permission() {
        NotificationPermission::Granted => blocked.set(false),
        NotificationPermission::Denied => blocked.set(true),
        _ => {
            if let Ok(asked) = Notification::request_permission() {
                leptos::task::spawn_local(async move {
                    let _ = leptos::__reexports::wasm_bindgen_futures::JsFuture::from(asked).await;
                    blocked.set(Notification::permission() == NotificationPermission::Denied);
                });
            }
        }
    }
}

/// A new conversation reached this agent (not one they served before
/// this page connected).
pub fn new_conversation(state: &ConsoleState, summary: &ConversationSummary) {
    let s = ConsoleStrings::of(crate::i18n::Lang::current());
    let who = s.visitor_label(summary);
    alert(
        state,
        summary.id,
        (s.visits.new_conversation)(&who),
        String::new(),
    );
}

/// A visitor's message arrived: told unless its conversation is in front
/// of a visible console.
pub fn new_message(state: &ConsoleState, id: ConversationId, text: &str) {
    let in_front = state.selected.get_untracked() == Some(id) && crate::chat::link::page_visible();
    if in_front {
        return;
    }
    let s = ConsoleStrings::of(crate::i18n::Lang::current());
    let who = state
        .find(id)
        .map(|c| c.summary.with_untracked(|c| s.visitor_label(c)))
        .unwrap_or_default();
    alert(state, id, (s.visits.new_message)(&who), text.to_owned());
}

/// Chimes and shows a notification whose click brings the console and
/// conversation `id` to the front (if the agent turned notifications on).
fn alert(state: &ConsoleState, id: ConversationId, title: String, body: String) {
    if !state.notify.get_untracked() {
        return;
    }
    #[cfg(feature = "hydrate")]
    {
        use leptos::web_sys::{Notification, NotificationOptions, NotificationPermission};
        use wasm_bindgen::JsCast;
        crate::client::sound::chime(&[660.0, 880.0], 0.12, 0.25);
        if Notification::permission() != NotificationPermission::Granted {
            return;
        }
        let options = NotificationOptions::new();
        options.set_body(&body);
        // One notification per conversation: a newer one replaces it.
        options.set_tag(&format!("kefu-{}", id.0));
        let Ok(shown) = Notification::new_with_options(&title, &options) else {
            return;
        };
        let state = *state;
        let clicked = shown.clone();
        let on_click = wasm_bindgen::closure::Closure::once_into_js(move || {
            if let Some(w) = leptos::web_sys::window() {
                let _ = w.focus();
            }
            state.select(id);
            clicked.close();
        });
        shown.set_onclick(Some(on_click.unchecked_ref()));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (id, title, body);
}
