//! The signed-in console: header, conversation tabs, and the conversation in front.

use leptos::prelude::*;

use super::account::{PasswordPanel, StatusSelect};
use super::admin::AgentsPanel;
use super::canned::popup::CannedComposer;
use super::canned::{reload, CannedList, CannedPanel};
use super::history::HistoryPanel;
use super::lang::{follow_choice, LangSwitch};
use super::notify::NotifyToggle;
use super::reports::ReportsPanel;
use super::settings::SettingsPanel;
use super::state::{ConsoleState, ConvHandle};
use super::strings::ConsoleStrings;
use super::transfer::{ComposerMode, ReassignPanel, TransferControl};
use super::visitor::VisitorPanel;
use crate::api::SignOut;
use crate::chat::view::MessageList;
use crate::chat::LinkStatus;
use crate::protocol::{AgentInfo, Author};

/// The console once signed in.
#[component]
pub fn Workspace(me: AgentInfo, logout: ServerAction<SignOut>) -> impl IntoView {
    let s = ConsoleStrings::of(crate::i18n::Lang::current());
    let state = ConsoleState::new(me.clone());
    // For the read-only view of closed conversations (a rating given live).
    provide_context(state.ratings);
    let admin_open = RwSignal::new(false);
    let settings_open = RwSignal::new(false);
    let password_open = RwSignal::new(false);
    let canned_open = RwSignal::new(false);
    let history_open = RwSignal::new(false);
    let reports_open = RwSignal::new(false);
    let canned: CannedList = RwSignal::new(Vec::new());
    let is_admin = me.is_admin;

    // Runs once, after hydration (untracked: one socket, whatever it reads).
    let chosen = me.clone();
    Effect::new(move |_| {
        follow_choice(&chosen);
        #[cfg(feature = "hydrate")]
        untrack(|| connect(state));
        reload(canned);
    });
    Effect::new(move |_| {
        let n = state.total_unread();
        let title = if n > 0 {
            format!("({n}) {}", s.title)
        } else {
            s.title.to_owned()
        };
        #[cfg(feature = "hydrate")]
        crate::client::set_title(&title);
        #[cfg(not(feature = "hydrate"))]
        let _ = title;
    });

    let load = move || (s.load)(state.convs.with(Vec::len), me.capacity);
    // Type-erased (boxed), which keeps the page's render future smaller:
    // debug builds render on worker threads with 2 MiB stacks (tests/pages.rs).
    let header = view! {
        <header class="console-header">
            <strong class="brand">"kefu"</strong>
            <span class="me" data-testid="me">{me.name.clone()}</span>
            <span class="muted">{load}</span>
            <span class="spacer"></span>
            <StatusSelect me=me.clone() />
            <NotifyToggle state />
            <LangSwitch />
            {me.is_admin.then(|| view! {
                <button class="link" data-testid="agents-toggle" on:click=move |_| admin_open.update(|o| *o = !*o)>
                    {s.agents}
                </button>
                <button class="link" data-testid="settings-toggle" on:click=move |_| settings_open.update(|o| *o = !*o)>
                    {s.settings.heading}
                </button>
                <button class="link" data-testid="reports-toggle" on:click=move |_| reports_open.update(|o| *o = !*o)>
                    {s.reports.heading}
                </button>
            })}
            <button class="link" data-testid="history-toggle" on:click=move |_| history_open.update(|o| *o = !*o)>
                {s.desk.history_heading}
            </button>
            <button class="link" data-testid="canned-toggle" on:click=move |_| canned_open.update(|o| *o = !*o)>
                {s.desk.canned_heading}
            </button>
            <button class="link" data-testid="password-toggle" on:click=move |_| password_open.update(|o| *o = !*o)>
                {s.accounts.password_heading}
            </button>
            <ActionForm action=logout attr:class="inline">
                <button type="submit" class="link" data-testid="sign-out">{s.sign_out}</button>
            </ActionForm>
        </header>
    }
    .into_any();
    // The panels the header opens, type-erased too (for the same reason).
    let panels = view! {
        <Show when=move || admin_open.get()>
            <AgentsPanel />
            <ReassignPanel state />
        </Show>
        <Show when=move || settings_open.get()>
            <SettingsPanel />
        </Show>
        <Show when=move || password_open.get()>
            <PasswordPanel />
        </Show>
        <Show when=move || canned_open.get()>
            <CannedPanel list=canned is_admin />
        </Show>
        <Show when=move || history_open.get()>
            <HistoryPanel is_admin />
        </Show>
        <Show when=move || reports_open.get()>
            <ReportsPanel />
        </Show>
    }
    .into_any();
    view! {
        {header}
        <Show when=move || state.session.outbox.status.get() == LinkStatus::Reconnecting>
            <p class="banner reconnecting" data-testid="reconnecting">{s.reconnecting}</p>
        </Show>
        {move || state.session.error.get().map(|e| view! { <p class="banner error" role="alert">{(s.chat.error)(e)}</p> })}
        {panels}
        <div class="console-body">
            <nav class="tabs" aria-label="Conversations">
                <Show when=move || state.convs.with(Vec::is_empty)>
                    <p class="muted empty">{s.no_conversations}</p>
                </Show>
                <For
                    each=move || state.convs.get()
                    key=|c| c.id
                    children=move |c| view! { <ConversationTab state handle=c /> }
                />
            </nav>
            <section class="conversation">
                {move || match state.selected.get().and_then(|id| state.find(id)) {
                    Some(handle) => view! { <ConversationPane state handle canned /> }.into_any(),
                    None => view! { <p class="muted empty">{s.pick_conversation}</p> }.into_any(),
                }}
            </section>
            {move || state.selected.get().and_then(|id| state.find(id)).map(|handle| view! { <VisitorPanel state handle /> })}
        </div>
    }
}

/// One tab: visitor label, presence, last message, unread badge.
#[component]
fn ConversationTab(state: ConsoleState, handle: ConvHandle) -> impl IntoView {
    let s = ConsoleStrings::of(crate::i18n::Lang::current());
    let id = handle.id;
    let unread = move || handle.unread();
    // The last thing a person said (never a system notice); "You: …" for
    // this agent's own replies, from this browser or an earlier one.
    let me = state.me.with_value(|m| m.name.clone());
    let preview = move || {
        handle.thread.with(|t| {
            t.last_said()
                .map(|e| {
                    let mine = e.author == Author::Agent
                        && (e.own || e.author_name.as_deref() == Some(me.as_str()));
                    if mine {
                        (s.you_said)(&e.text)
                    } else {
                        e.text.clone()
                    }
                })
                .unwrap_or_default()
        })
    };
    let online = move || handle.summary.with(|c| c.visitor_online);
    view! {
        <button
            class=move || {
                match (state.selected.get() == Some(id), handle.unread() > 0) {
                    (true, _) => "tab active",
                    (false, true) => "tab lit",
                    (false, false) => "tab",
                }
            }
            data-testid="conversation-tab"
            data-conversation=id.0.to_string()
            data-unread=move || unread().to_string()
            on:click=move |_| state.select(id)
        >
            <span class="tab-top">
                <span class="label">{move || handle.summary.with(|c| s.visitor_label(c))}</span>
                {move || handle.summary.with(|c| c.verified).then(|| view! {
                    <span class="tag verified" title=s.verified_hint>{s.verified}</span>
                })}
                <span class="presence" class:online=online title=move || if online() { s.visitor_online } else { s.visitor_offline }></span>
                <Show when=move || { unread() > 0 }>
                    <span class="badge" data-testid="unread-badge">{unread}</span>
                </Show>
            </span>
            <Show when=move || handle.typing.active.get()>
                <span class="typing" data-testid="typing-indicator">{(s.chat.typing)(None)}</span>
            </Show>
            <span class="preview" data-testid="tab-preview">{preview}</span>
        </button>
    }
}

/// The conversation in front: header, messages, composer.
#[component]
fn ConversationPane(state: ConsoleState, handle: ConvHandle, canned: CannedList) -> impl IntoView {
    let s = ConsoleStrings::of(crate::i18n::Lang::current());
    let id = handle.id;
    let online = move || handle.summary.with(|c| c.visitor_online);
    let note_mode = RwSignal::new(false);
    view! {
        <header class="conversation-header">
            <h2>{move || handle.summary.with(|c| s.visitor_label(c))}</h2>
            <span class="muted" data-testid="visitor-email">
                {move || handle.summary.with(|c| c.visitor_email.clone())}
            </span>
            {move || handle.summary.with(|c| s.visitor_tag(c)).map(|(tag, hint)| view! {
                <span class="tag" data-testid="visitor-tag" title=hint>{tag}</span>
            })}
            <span class="muted" data-testid="visitor-presence">
                {move || if online() { s.visitor_online } else { s.visitor_offline }}
            </span>
            <span class="spacer"></span>
            <TransferControl state id />
            <button class="danger" data-testid="close-conversation" on:click=move |_| state.close(id)>
                {s.close}
            </button>
        </header>
        <MessageList
            thread=handle.thread.into()
            strings=s.chat
            mine=Author::Agent
            on_earlier=Callback::new(move |before: i64| {
                #[cfg(feature = "hydrate")]
                fetch_history(state, crate::chat::Fetch { conversation: id, before: Some(before) });
                #[cfg(not(feature = "hydrate"))]
                let _ = before;
            })
            seen=handle.visitor_seen
        />
        <Show when=move || handle.typing.active.get()>
            <div class="typing-line">
                <span class="typing" data-testid="typing-indicator">{(s.chat.typing)(None)}</span>
                {move || handle.typing.draft.get().map(|draft| view! {
                    <p class="draft" data-testid="draft-preview">{draft}</p>
                })}
            </div>
        </Show>
        <div class="composer-wrap" class:note-mode=move || note_mode.get()>
            <ComposerMode note=note_mode />
            <CannedComposer
                state
                handle
                canned
                on_send=Callback::new(move |text| {
                    if note_mode.get_untracked() {
                        state.send_note(id, text)
                    } else {
                        state.send_text(id, text)
                    }
                })
                // A note is for agents: writing one is not typing to the visitor.
                on_input=Callback::new(move |text: String| {
                    if note_mode.get_untracked() {
                        handle.typer.stop()
                    } else {
                        handle.typer.input(&text)
                    }
                })
            />
        </div>
    }
}

/// Loads the page `fetch` names into its tab, then the pages filling any
/// gap (see [`crate::chat::session::load_history`]); marks the tab read if
/// it is in front (browser only).
#[cfg(feature = "hydrate")]
fn fetch_history(state: ConsoleState, fetch: crate::chat::Fetch) {
    let Some(tab) = state.find(fetch.conversation) else {
        return;
    };
    leptos::task::spawn_local(async move {
        // Each page's private notes join the tab as it loads.
        let page = move |before| async move {
            let page = crate::api::conversation_history(fetch.conversation, before).await?;
            tab.thread.update(|t| {
                for note in page.notes.iter().cloned() {
                    t.merge_note(note);
                }
            });
            Ok::<_, crate::error::AppError>(Some(page))
        };
        let loaded = crate::chat::session::load_history(tab.thread, fetch, page).await;
        match loaded {
            Ok(()) => state.mark_read_if_seen(fetch.conversation),
            Err(e) => state.session.refused(e.code()),
        }
    });
}

/// Opens the agent socket and wires it to the state (browser only).
#[cfg(feature = "hydrate")]
fn connect(state: ConsoleState) {
    crate::chat::session::connect(
        state,
        "/ws/agent",
        |_| {},
        move |fetch| fetch_history(state, fetch),
    );
    // Messages that came while the console was hidden are read once it shows.
    crate::client::on_visible(move || {
        if let Some(id) = state.selected.get_untracked() {
            state.mark_read_if_seen(id);
        }
    });
}
