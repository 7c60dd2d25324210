//! The visitor's chat widget: a floating launcher and a chat panel.
//!
//! Server-rendered (the launcher shows whether an agent is online before any
//! script runs), then hydrated; the socket opens in the browser only.

mod boot;
pub mod embed;
mod panel;
mod prechat;
mod rating;
mod reading;
pub mod state;
pub mod strings;
mod visit;

use leptos::prelude::*;

use crate::protocol::settings::Position;
use state::WidgetState;
use strings::WidgetStrings;

/// The widget: launcher button plus panel, or (embedded in a host page,
/// whose `embed.js` draws the launcher) the panel alone.
#[component]
pub fn Widget() -> impl IntoView {
    let s = WidgetStrings::of(crate::i18n::Lang::current());
    let embed = embed::Embed::current();
    let embedded = embed.is_some();
    let state = WidgetState::new(embed.clone());
    let hydrated = RwSignal::new(false);
    let host = embed.map(|e| e.origin);
    // What the widget needs before its socket opens, in the page itself:
    // the server renders it into `data-boot` and hydration reads it back,
    // so both sides draw the same widget at once (no resource to wait for).
    let (boot, boot_json) = boot::read(host.as_deref());
    let settings = Signal::stored(boot.settings.clone());
    // Embedded on a site that may not embed the chat: say so, nothing else.
    let refused = boot.embed_allowed == Some(false);
    let boot_online = boot.online;

    // Runs once, after hydration. Untracked: opening the panel reads the
    // conversation, and an effect that subscribed to it would connect a
    // second socket as soon as the first one's conversation arrived (the
    // agent then read "Visitor left" and "Visitor is back").
    #[cfg(feature = "hydrate")]
    let connected = StoredValue::new(false);
    #[cfg(feature = "hydrate")]
    if embedded {
        tell_host_when_changed(state);
    }
    let boot = StoredValue::new(boot);
    Effect::new(move |_| {
        hydrated.set(true);
        #[cfg(feature = "hydrate")]
        untrack(|| start(state, boot.get_value(), connected));
        #[cfg(not(feature = "hydrate"))]
        let _ = boot;
    });

    let online = move || state.agents_online.get().unwrap_or(boot_online);
    let position_left = move || settings.with(|s| s.position == Position::Left);
    let theme = move || {
        format!(
            "/theme.css?c={}",
            settings.with(|s| s.color.trim_start_matches('#').to_owned())
        )
    };

    view! {
        <link rel="stylesheet" href=theme />
        <div
            class="kefu-widget"
            class:embedded=embedded
            class:left=position_left
            data-hydrated=move || hydrated.get().to_string()
            data-boot=boot_json
        >
            <Show
                when=move || !refused
                fallback=move || view! { <p class="banner error" data-testid="not-allowed">{s.not_allowed}</p> }
            >
                <Show when=move || embedded || state.open.get()>
                    <panel::Panel state settings online=Signal::derive(online) />
                </Show>
            </Show>
            <Show when=move || !embedded>
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
                    <Show when=move || { state.unread() > 0 }>
                        <span class="widget-unread" data-testid="widget-unread">{move || state.unread()}</span>
                    </Show>
                </button>
            </Show>
        </div>
    }
}

/// Starts the chat in the browser once the boot answer is in: at once on
/// kefu's own pages; embedded, after the host page's `init` (which says
/// whether the panel shows and who the visitor is), never on a site that
/// may not embed it.
#[cfg(feature = "hydrate")]
fn start(state: WidgetState, boot: crate::protocol::WidgetBoot, connected: StoredValue<bool>) {
    use embed::{FromHost, ToHost};
    state.back_at.set(boot.back_at);
    let prechat = boot.settings.prechat();
    let ask = move || prechat && state.saved(state::PRECHAT_KEY).is_none();
    let Some(embed) = state.embed.get_value() else {
        state.prechat_pending.set(ask());
        state
            .muted
            .set(state.saved(state::SOUND_KEY).as_deref() == Some("off"));
        if let Some(page) = own_page() {
            state.set_page(page);
        }
        connect(state);
        return;
    };
    if boot.embed_allowed != Some(true) {
        return;
    }
    crate::client::host::listen(&embed, move |msg| match msg {
        FromHost::Init {
            open,
            saved,
            identity,
            page,
        } => {
            if connected.get_value() {
                return;
            }
            connected.set_value(true);
            let ours = |(k, _): &(String, String)| {
                [state::TOKEN_KEY, state::PRECHAT_KEY, state::SOUND_KEY].contains(&k.as_str())
            };
            state
                .host_saved
                .set_value(saved.into_iter().filter(ours).collect());
            state
                .muted
                .set(state.saved(state::SOUND_KEY).as_deref() == Some("off"));
            if let Some(page) = page {
                state.set_page(page);
            }
            state.prechat_pending.set(ask());
            state.identity.set(identity);
            if open {
                state.open_panel();
            }
            connect(state);
        }
        FromHost::Page(page) => state.set_page(page),
        FromHost::Open => state.open_panel(),
        FromHost::Close => state.open.set(false),
    });
    let (width, height) = embed::PANEL_SIZE;
    state.tell_host(&ToHost::Size { width, height });
    state.tell_host(&ToHost::Ready);
}

/// The widget's own page (not embedded: kefu's `/widget`).
#[cfg(feature = "hydrate")]
fn own_page() -> Option<embed::HostPage> {
    let window = leptos::web_sys::window()?;
    let document = window.document()?;
    Some(embed::HostPage {
        url: window.location().href().ok()?,
        title: document.title(),
        referrer: Some(document.referrer()).filter(|r| !r.is_empty()),
    })
}

/// Embedded: tells the host page the unread count whenever it changes, and
/// whether the visitor has an open conversation once that is known.
#[cfg(feature = "hydrate")]
fn tell_host_when_changed(state: WidgetState) {
    use embed::ToHost;
    Effect::new(move |_| state.tell_host(&ToHost::Unread(state.unread())));
    Effect::new(move |_| {
        if state.conversation.with(Option::is_some) {
            state.tell_host(&ToHost::Active(state.has_open_conversation()));
        }
    });
}

/// Loads the page `fetch` names of the visitor's conversation, then the
/// pages filling any gap (see [`crate::chat::session::load_history`]).
#[cfg(feature = "hydrate")]
pub(crate) fn fetch_history(state: WidgetState, fetch: crate::chat::Fetch) {
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
        if crate::chat::session::load_history(state.thread, fetch, page)
            .await
            .is_ok()
        {
            state.mark_read_if_seen();
        }
    });
}

/// Opens the visitor socket and wires it to the state (browser only): the
/// token the server issues is kept for the next visit.
#[cfg(feature = "hydrate")]
fn connect(state: WidgetState) {
    use crate::protocol::{ServerMsg, VisitorInfo};
    let keep_token = move |msg: &ServerMsg| {
        if let ServerMsg::Welcome {
            visitor: Some(VisitorInfo { token: Some(t), .. }),
            ..
        } = msg
        {
            state.save(state::TOKEN_KEY, t);
        }
    };
    crate::chat::session::connect(state, "/ws/visitor", keep_token, move |fetch| {
        fetch_history(state, fetch)
    });
    crate::client::on_visible(move || state.mark_read_if_seen());
}

#[cfg(test)]
mod tests {
    /// `embed.js` draws the launcher before any wasm: its label must be the
    /// widget's own words in each language.
    #[test]
    fn the_embed_scripts_launcher_says_what_the_widgets_tables_say() {
        let embed_js = include_str!("../../public/embed.js");
        for (tag, strings) in [("en", super::strings::EN), ("zh-CN", super::strings::ZH_CN)] {
            let entry = format!("{tag:?}: {:?}", strings.open_chat).replace("\"en\":", "en:");
            assert!(embed_js.contains(&entry), "embed.js lacks {entry}");
        }
    }
}
