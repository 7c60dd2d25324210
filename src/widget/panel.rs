//! The chat panel: header with status, banners, the pre-chat form or the
//! greeting, the messages and the composer.

use leptos::prelude::*;

use super::prechat::PrechatForm;
use super::rating::Rating;
use super::state::WidgetState;
use super::strings::WidgetStrings;
use crate::chat::view::{Composer, MessageList};
use crate::chat::LinkStatus;
use crate::protocol::settings::WidgetSettings;
use crate::protocol::{Author, ConversationStatus};

/// The panel, with the look and words admins set.
#[component]
pub fn Panel(
    state: WidgetState,
    settings: Signal<WidgetSettings>,
    online: Signal<bool>,
) -> impl IntoView {
    let s = WidgetStrings::of(crate::i18n::Lang::current());
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
                if online.get() {
                    s.waiting.to_owned()
                } else {
                    s.message_left.to_owned()
                }
            }
            Some(c) if c.status == ConversationStatus::Closed && !online.get() => {
                s.no_agent.to_owned()
            }
            Some(c) if c.status == ConversationStatus::Closed => s.closed.to_owned(),
            _ if online.get() => s.waiting.to_owned(),
            _ => s.no_agent.to_owned(),
        }
    };
    let offline_form = move || !online.get() && !state.has_open_conversation();
    let queue_position = move || {
        state
            .conversation
            .get()
            .filter(|c| c.status == ConversationStatus::Queued && online.get())
            .and_then(|c| c.queue_position)
    };
    let back_at = move || {
        let at = state.back_at.get()?;
        crate::chat::view::weekday_time(at as f64, s.chat.locale)
            .map(|when| (at.to_string(), (s.back_at)(&when)))
    };
    let title = move || settings.with(|c| or(&c.title, s.title));
    let offline_text = move || settings.with(|c| or(&c.offline_text, s.leave_message));
    let greeting = move || {
        let empty = state.thread.with(|t| t.entries().is_empty());
        settings.with(|c| (empty && !c.greeting.is_empty()).then(|| c.greeting.clone()))
    };
    // "Ann is typing…" while she is.
    let typing = move || {
        state.agent_typing.active.get().then(|| {
            let name = state
                .conversation
                .with(|c| c.as_ref().and_then(|c| c.agent_name.clone()));
            (s.chat.typing)(name.as_deref())
        })
    };
    let closed = move || {
        state.conversation.with(|c| {
            c.as_ref()
                .filter(|c| c.status == ConversationStatus::Closed)
                .map(|c| (c.id, c.rating))
        })
    };
    let minimize = move |_| {
        state.open.set(false);
        #[cfg(feature = "hydrate")]
        state.tell_host(&super::embed::ToHost::Close);
    };

    view! {
        <section class="widget-panel" data-testid="widget-panel" aria-label=title>
            <header>
                <div>
                    <h2 data-testid="widget-title">{title}</h2>
                    <p class="widget-status" data-testid="widget-status">{status_text}</p>
                </div>
                // A toggle: pressed while muted (one reactive attribute; the
                // stylesheet shows the state, which keeps the visitor's wasm small).
                <button
                    class="sound"
                    data-testid="sound-toggle"
                    aria-pressed=move || state.muted.get().to_string()
                    aria-label=s.mute
                    title=s.mute
                    on:click=move |_| state.set_muted(!state.muted.get_untracked())
                >
                    "\u{266A}"
                </button>
                <button class="minimize" aria-label=s.minimize on:click=minimize>
                    "×"
                </button>
            </header>
            <Show when=move || state.session.outbox.status.get() == LinkStatus::Reconnecting>
                <p class="banner reconnecting" data-testid="reconnecting">{s.reconnecting}</p>
            </Show>
            <Show when=offline_form>
                <div class="offline-form" data-testid="offline-form">
                    <p>{move || if state.back_at.get().is_some() { s.after_hours } else { s.no_agent }}</p>
                    {move || back_at().map(|(at, when)| view! { <p class="back-at" data-testid="back-at" data-at=at>{when}</p> })}
                    <p>{offline_text}</p>
                </div>
            </Show>
            {move || queue_position().map(|n| view! {
                <p class="queue-position" data-testid="queue-position" data-position=n.to_string()>
                    {(s.queue_position)(n)}
                </p>
            })}
            {move || state.session.error.get().map(|e| view! { <p class="banner error" role="alert">{(s.chat.error)(e)}</p> })}
            {move || greeting().map(|g| view! { <p class="greeting" data-testid="greeting">{g}</p> })}
            <Show
                when=move || !state.prechat_pending.get()
                fallback=move || view! { <PrechatForm state settings /> }
            >
                <MessageList
                    thread=state.thread.into()
                    strings=s.chat
                    mine=Author::Visitor
                    on_earlier=Callback::new(move |before: i64| {
                        #[cfg(feature = "hydrate")]
                        if let Some(conversation) = state.thread.with_untracked(|t| t.conversation) {
                            super::fetch_history(state, crate::chat::Fetch { conversation, before: Some(before) });
                        }
                        #[cfg(not(feature = "hydrate"))]
                        let _ = before;
                    })
                    seen=state.agent_seen
                />
                // Shaped as the greeting's line, so the bundle reuses its code.
                {move || typing().map(|t| view! { <p class="typing" data-testid="typing-indicator">{t}</p> })}
                // Closed by the agent: rate it (once), or the thanks.
                {move || closed().map(|(id, rated)| view! { <Rating state id rated /> })}
                <Composer
                    strings=s.chat
                    on_send=Callback::new(move |text| state.send_text(text))
                    on_input=Callback::new(move |text: String| state.typed(&text))
                />
            </Show>
        </section>
    }
}

/// The admin's text, or the widget's own words when they set none.
fn or(custom: &str, default: &'static str) -> String {
    if custom.is_empty() {
        default.to_owned()
    } else {
        custom.to_owned()
    }
}
