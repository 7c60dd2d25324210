//! The conversation pane's transfer control (to another agent, or back to
//! the queue, with an optional note for the receiver), the same control on
//! every open conversation for admins, and the composer's reply/note switch.

use leptos::html;
use leptos::prelude::*;

use super::state::ConsoleState;
use super::strings::ConsoleStrings;
use crate::protocol::{AgentId, ConversationId};

/// The receiver picker (every other enabled agent by name, then the
/// queue), a note for the receiver, and the transfer button. The server
/// checks the receiver when the transfer arrives and says why it refuses.
#[component]
pub fn TransferControl(state: ConsoleState, id: ConversationId) -> impl IntoView {
    let s = ConsoleStrings::of(crate::i18n::Lang::current()).transfer;
    let targets = LocalResource::new(crate::api::transfer_targets);
    let target = NodeRef::<html::Select>::new();
    let note = RwSignal::new(String::new());
    let options = move || {
        targets
            .get()
            .and_then(Result::ok)
            .unwrap_or_default()
            .into_iter()
            .map(|a| view! { <option value=a.id.0.to_string()>{a.name}</option> })
            .collect_view()
    };
    let transfer = move |_| {
        let Some(select) = target.get_untracked() else {
            return;
        };
        let to = match select.value().as_str() {
            // Nobody chosen yet.
            "" => return,
            "queue" => None,
            other => match other.parse() {
                Ok(n) => Some(AgentId(n)),
                Err(_) => return,
            },
        };
        let text = note.get_untracked();
        let text = (!text.trim().is_empty()).then_some(text);
        state.transfer(id, to, text);
        note.set(String::new());
    };
    view! {
        <div class="transfer">
            <label>
                <span class="muted">{s.transfer_to}</span>
                <select data-testid="transfer-target" node_ref=target>
                    <option value="" selected>{s.choose}</option>
                    {options}
                    <option value="queue">{s.queue}</option>
                </select>
            </label>
            <input
                data-testid="transfer-note"
                placeholder=s.note_for_receiver
                prop:value=move || note.get()
                on:input=move |ev| note.set(event_target_value(&ev))
            />
            <button data-testid="transfer" on:click=transfer>{s.transfer}</button>
        </div>
    }
}

/// Whether the composer writes a reply (the visitor reads it) or a
/// private note (agents only): `note` is set while it writes notes.
#[component]
pub fn ComposerMode(note: RwSignal<bool>) -> impl IntoView {
    let s = ConsoleStrings::of(crate::i18n::Lang::current()).transfer;
    view! {
        <label class="composer-mode">
            <span class="muted">{s.mode}</span>
            <select
                data-testid="composer-mode"
                on:change=move |ev| note.set(event_target_value(&ev) == "note")
            >
                <option value="reply" selected=move || !note.get()>{s.reply}</option>
                <option value="note" selected=move || note.get()>{s.note}</option>
            </select>
        </label>
    }
}

/// Admins: every open conversation, each with who serves it and the
/// transfer control, to reassign any of them.
#[component]
pub fn ReassignPanel(state: ConsoleState) -> impl IntoView {
    let strings = ConsoleStrings::of(crate::i18n::Lang::current());
    let s = strings.transfer;
    let open = LocalResource::new(crate::api::open_conversations);
    let rows = move || {
        let list = open.get().and_then(Result::ok).unwrap_or_default();
        if list.is_empty() {
            return view! { <p class="muted">{s.none_open}</p> }.into_any();
        }
        list.into_iter()
            .map(|c| {
                let id = c.id;
                let label = strings.visitor_label(&c);
                let serving = c.agent_name.clone().unwrap_or_else(|| s.queued.to_owned());
                view! {
                    <li data-testid="open-conversation" data-conversation=id.0.to_string()>
                        <span class="label">{label}</span>
                        <span class="muted" data-testid="open-conversation-agent">{serving}</span>
                        <TransferControl state id />
                    </li>
                }
            })
            .collect_view()
            .into_any()
    };
    view! {
        <section class="agents-panel" data-testid="reassign-panel">
            <h3>{s.open_conversations}</h3>
            <button class="link" data-testid="open-conversations-refresh" on:click=move |_| open.refetch()>
                {s.refresh}
            </button>
            <ul class="open-conversations">{rows}</ul>
        </section>
    }
}
