//! The composer's canned-reply list: `/` and letters open it, filtered as
//! one types; ↑ and ↓ move, Enter (or a click) chooses, Esc closes it.
//! Choosing fills the composer with the reply, placeholders filled;
//! nothing is sent until the agent sends. Console only: the widget's
//! composer never has it.

use leptos::prelude::*;

use super::CannedList;
use crate::canned::{fill, matching, replace_typed, typed_shortcut};
use crate::chat::view::Composer;
use crate::console::state::{ConsoleState, ConvHandle};
use crate::console::strings::ConsoleStrings;
use crate::protocol::canned::CannedReply;

/// The console's composer for one conversation, with the canned-reply list.
#[component]
pub fn CannedComposer(
    state: ConsoleState,
    handle: ConvHandle,
    canned: CannedList,
    /// Sends what the agent wrote (a reply, or a note).
    on_send: Callback<String>,
    /// Called with the text after every edit (typing frames).
    #[prop(optional)]
    on_input: Option<Callback<String>>,
) -> impl IntoView {
    let s = ConsoleStrings::of(crate::i18n::Lang::current());
    let text = RwSignal::new(String::new());
    let active = RwSignal::new(0usize);
    // The word the list was closed on with Esc (it opens again once the
    // agent types on).
    let dismissed = RwSignal::new(None::<String>);
    let typed = Memo::new(move |_| text.with(|t| typed_shortcut(t).map(str::to_owned)));
    let found = Memo::new(move |_| {
        typed
            .get()
            .map(|t| canned.with(|all| matching(all, &t).into_iter().cloned().collect::<Vec<_>>()))
            .unwrap_or_default()
    });
    let open = Memo::new(move |_| typed.get().is_some() && dismissed.get() != typed.get());
    Effect::new(move |_| {
        typed.track();
        active.set(0);
    });
    let choose = move |reply: &CannedReply| {
        let visitor = handle.summary.with_untracked(|c| s.visitor_label(c));
        let agent = state.me.with_value(|m| m.name.clone());
        let filled = fill(&reply.text, &visitor, &agent);
        text.update(|t| *t = replace_typed(t, &filled));
    };
    let on_key = Callback::new(move |ev: leptos::ev::KeyboardEvent| -> bool {
        if !open.get_untracked() {
            return false;
        }
        let list = found.get_untracked();
        let n = list.len();
        let handled = match ev.key().as_str() {
            "ArrowDown" if n > 0 => {
                active.update(|i| *i = (*i + 1) % n);
                true
            }
            "ArrowUp" if n > 0 => {
                active.update(|i| *i = (*i + n - 1) % n);
                true
            }
            "Enter" | "Tab" if n > 0 && !ev.shift_key() && !ev.is_composing() => {
                if let Some(reply) = list.get(active.get_untracked().min(n - 1)) {
                    choose(reply);
                }
                true
            }
            "Escape" => {
                dismissed.set(typed.get_untracked());
                true
            }
            _ => false,
        };
        if handled {
            ev.prevent_default();
        }
        handled
    });
    view! {
        <div class="canned-wrap">
            <Show when=move || open.get()>
                <ul class="canned-list" data-testid="canned-list" role="listbox">
                    {move || {
                        let list = found.get();
                        if list.is_empty() {
                            return view! { <li class="muted">{s.desk.no_match}</li> }.into_any();
                        }
                        list.into_iter()
                            .enumerate()
                            .map(|(i, reply)| {
                                let picked = reply.clone();
                                view! {
                                    <li
                                        class="canned-item"
                                        class:active=move || active.get() == i
                                        data-testid="canned-item"
                                        data-shortcut=reply.shortcut.clone()
                                        role="option"
                                        aria-selected=move || (active.get() == i).to_string()
                                        on:mousedown=move |ev| {
                                            ev.prevent_default();
                                            choose(&picked);
                                        }
                                    >
                                        <strong>"/"{reply.shortcut.clone()}</strong>
                                        <span class="canned-text">{reply.text.clone()}</span>
                                        {reply.shared.then(|| view! { <span class="tag">{s.desk.shared_tag}</span> })}
                                    </li>
                                }
                            })
                            .collect_view()
                            .into_any()
                    }}
                </ul>
            </Show>
            <Composer
                strings=s.chat
                on_send
                text
                on_key
                on_input=on_input.unwrap_or_else(|| Callback::new(|_| {}))
            />
        </div>
    }
}
