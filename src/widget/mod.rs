//! The visitor's chat widget: a floating launcher and a chat panel.
//!
//! Server-rendered (the launcher shows whether an agent is online before any
//! script runs), then hydrated; the socket opens in the browser only.

pub mod state;
pub mod strings;

use leptos::prelude::*;

use crate::api::agent_availability;
use crate::chat::view::{Composer, MessageList};
use crate::chat::LinkStatus;
use crate::protocol::{Author, ConversationStatus};
use state::WidgetState;
use strings::WidgetStrings;

/// The script that pages with the widget closed carry instead of the
/// hydration scripts: it loads the chat when the visitor opens it.
pub const LAUNCHER_JS: &str = include_str!("launcher.js");

/// The widget: launcher button plus panel.
#[component]
pub fn Widget() -> impl IntoView {
    let s = WidgetStrings::of(crate::i18n::Lang::current());
    let state = WidgetState::new();
    let hydrated = RwSignal::new(false);
    let availability = Resource::new(|| (), |_| agent_availability());

    // Runs once, after hydration. Untracked: opening the panel reads the
    // conversation, and an effect that subscribed to it would connect a
    // second socket as soon as the first one's conversation arrived (the
    // agent then read "Visitor left" and "Visitor is back").
    Effect::new(move |_| {
        hydrated.set(true);
        #[cfg(feature = "hydrate")]
        untrack(|| {
            if take_open_request() {
                state.open_panel();
            }
            connect(state);
        });
    });

    let online = move || {
        state
            .agents_online
            .get()
            .or_else(|| availability.get().and_then(Result::ok))
            .unwrap_or(false)
    };
    let status_text = move || -> String {
        if state.session.outbox.status.get() == LinkStatus::Connecting {
            return s.connecting.to_owned();
        }
        match state.conversation.get() {
            Some(c) if c.status == ConversationStatus::Assigned => {
                match (c.agent_online, c.agent_name) {
                    (true, Some(name)) => (s.serving)(&name),
                    _ => s.agent_away.to_owned(),
                }
            }
            Some(c) if c.status == ConversationStatus::Queued => {
                if online() {
                    s.waiting.to_owned()
                } else {
                    s.message_left.to_owned()
                }
            }
            Some(c) if c.status == ConversationStatus::Closed && !online() => s.no_agent.to_owned(),
            Some(c) if c.status == ConversationStatus::Closed => s.closed.to_owned(),
            _ if online() => s.waiting.to_owned(),
            _ => s.no_agent.to_owned(),
        }
    };
    let offline_form = move || !online() && !state.has_open_conversation();
    let queue_position = move || {
        state
            .conversation
            .get()
            .filter(|c| c.status == ConversationStatus::Queued && online())
            .and_then(|c| c.queue_position)
    };

    view! {
        <div class="kefu-widget" data-hydrated=move || hydrated.get().to_string()>
            <Show when=move || state.open.get()>
                <section class="widget-panel" data-testid="widget-panel" aria-label=s.title>
                    <header>
                        <div>
                            <h2>{s.title}</h2>
                            <p class="widget-status" data-testid="widget-status">{status_text}</p>
                        </div>
                        <button class="minimize" aria-label=s.minimize on:click=move |_| state.open.set(false)>
                            "×"
                        </button>
                    </header>
                    <Show when=move || state.session.outbox.status.get() == LinkStatus::Reconnecting>
                        <p class="banner reconnecting" data-testid="reconnecting">{s.reconnecting}</p>
                    </Show>
                    <Show when=offline_form>
                        <div class="offline-form" data-testid="offline-form">
                            <p>{s.no_agent}</p>
                            <p>{s.leave_message}</p>
                        </div>
                    </Show>
                    {move || queue_position().map(|n| view! {
                        <p class="queue-position" data-testid="queue-position" data-position=n.to_string()>
                            {(s.queue_position)(n)}
                        </p>
                    })}
                    {move || state.session.error.get().map(|e| view! { <p class="banner error" role="alert">{(s.chat.error)(e)}</p> })}
                    <MessageList
                        thread=state.thread.into()
                        strings=s.chat
                        mine=Author::Visitor
                        on_earlier=Callback::new(move |before: i64| {
                            #[cfg(feature = "hydrate")]
                            if let Some(conversation) = state.thread.with_untracked(|t| t.conversation) {
                                fetch_history(state, crate::chat::Fetch { conversation, before: Some(before) });
                            }
                            #[cfg(not(feature = "hydrate"))]
                            let _ = before;
                        })
                    />
                    <Composer strings=s.chat on_send=Callback::new(move |text| state.send_text(text)) />
                </section>
            </Show>
            <button
                class="widget-launcher"
                class:online=online
                data-testid="widget-launcher"
                data-online=move || online().to_string()
                aria-label=s.open_chat
                title=move || if online() { s.online } else { s.offline }
                on:click=move |_| {
                    if state.open.get_untracked() {
                        state.open.set(false);
                    } else {
                        state.open_panel();
                    }
                }
            >
                <svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true">
                    <path fill="currentColor" d="M4 4h16v12H7l-3 3z"/>
                </svg>
                <span class="presence-dot"></span>
                <Show when=move || { state.unread.get() > 0 }>
                    <span class="widget-unread" data-testid="widget-unread">{move || state.unread.get()}</span>
                </Show>
            </button>
        </div>
    }
}

/// Whether the launcher script was clicked while the chat was loading
/// (`window.__kefuOpen`); clears the request.
#[cfg(feature = "hydrate")]
fn take_open_request() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let key = wasm_bindgen::JsValue::from_str("__kefuOpen");
    let requested = js_sys::Reflect::get(&window, &key).is_ok_and(|v| v.is_truthy());
    if requested {
        let _ = js_sys::Reflect::delete_property(&window, &key);
    }
    requested
}

/// Loads the page `fetch` names of the visitor's conversation, then the
/// pages filling any gap (see [`crate::chat::session::load_history`]).
#[cfg(feature = "hydrate")]
fn fetch_history(state: WidgetState, fetch: crate::chat::Fetch) {
    use crate::chat::Threads;
    let Some(token) = state.token() else {
        return;
    };
    // A verified visitor's token reads only beside their identity.
    let identity = state.identity();
    leptos::task::spawn_local(async move {
        let page = |before| {
            let (token, identity) = (token.clone(), identity.clone());
            async move {
                crate::api::visitor_history(token, before, identity)
                    .await
                    .map(|thread| thread.map(|t| t.page))
            }
        };
        // A failed load is retried at the next reconnect or message.
        let _ = crate::chat::session::load_history(state.thread, fetch, page).await;
    });
}

/// Opens the visitor socket and wires it to the state (browser only): the
/// token the server issues is kept for the next visit.
#[cfg(feature = "hydrate")]
fn connect(state: WidgetState) {
    use crate::protocol::{ServerMsg, VisitorInfo};
    let keep_token = |msg: &ServerMsg| {
        if let ServerMsg::Welcome {
            visitor: Some(VisitorInfo { token: Some(t), .. }),
            ..
        } = msg
        {
            if let Some(storage) = crate::client::local_storage() {
                let _ = storage.set_item(state::TOKEN_KEY, t);
            }
        }
    };
    crate::chat::session::connect(state, "/ws/visitor", keep_token, move |fetch| {
        fetch_history(state, fetch)
    });
}

#[cfg(test)]
mod tests {
    use super::{state, LAUNCHER_JS};

    #[test]
    fn the_launcher_looks_for_the_token_under_the_widgets_key() {
        let read = format!("localStorage.getItem(\"{}\")", state::TOKEN_KEY);
        assert!(
            LAUNCHER_JS.contains(&read),
            "launcher.js must read the visitor token from {:?}",
            state::TOKEN_KEY
        );
    }
}
