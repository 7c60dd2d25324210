//! Canned replies in the console: the panel where an agent keeps their own
//! (and admins the shared ones), and the list the composer opens on `/`
//! (in [`popup`]). The list of replies is loaded once and after each change.

pub mod popup;

use leptos::prelude::*;

use super::strings::ConsoleStrings;
use crate::protocol::canned::CannedReply;

/// The agent's canned replies and the shared ones, as last loaded.
pub type CannedList = RwSignal<Vec<CannedReply>>;

/// Loads the replies into `list` (browser only).
pub fn reload(list: CannedList) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        if let Ok(replies) = crate::api::list_canned().await {
            list.set(replies);
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = list;
}

/// The panel: a form to add a reply, then each reply, editable by its
/// owner (shared ones by admins only).
#[component]
pub fn CannedPanel(list: CannedList, is_admin: bool) -> impl IntoView {
    let s = ConsoleStrings::of(crate::i18n::Lang::current());
    let d = s.desk;
    let outcome = RwSignal::new(None::<String>);
    // Saves (or with `remove`, removes) a reply, then reloads the list.
    let submit =
        move |id: Option<i64>, shortcut: String, text: String, shared: bool, remove: bool| {
            #[cfg(feature = "hydrate")]
            leptos::task::spawn_local(async move {
                let shared_arg = shared.then(|| "on".to_owned());
                let result = match (remove, id) {
                    (true, Some(id)) => crate::api::delete_canned(id, shared_arg).await,
                    _ => crate::api::save_canned(id, shortcut, text, shared_arg)
                        .await
                        .map(|_| ()),
                };
                outcome.set(result.err().map(|e| s.error_text(&e)));
                reload(list);
            });
            #[cfg(not(feature = "hydrate"))]
            let _ = (id, shortcut, text, shared, remove, outcome);
        };
    let shortcut = NodeRef::<leptos::html::Input>::new();
    let text = NodeRef::<leptos::html::Textarea>::new();
    let shared = NodeRef::<leptos::html::Input>::new();
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (Some(sc), Some(tx)) = (shortcut.get_untracked(), text.get_untracked()) else {
            return;
        };
        let is_shared = shared.get_untracked().is_some_and(|c| c.checked());
        submit(None, sc.value(), tx.value(), is_shared, false);
        sc.set_value("");
        tx.set_value("");
    };
    view! {
        <section class="settings-panel canned-panel" data-testid="canned-panel">
            <h2>{d.canned_heading}</h2>
            <p class="muted">{d.canned_hint}</p>
            <form class="canned-form" data-testid="canned-form" on:submit=add>
                <label>{d.shortcut}<input name="shortcut" node_ref=shortcut required maxlength="33" placeholder="refund" /></label>
                <label class="grow">{d.text}<textarea name="text" node_ref=text required rows="2"></textarea></label>
                {is_admin.then(|| view! {
                    <label class="check"><input type="checkbox" name="shared" node_ref=shared />{d.shared}</label>
                })}
                <button type="submit">{d.add}</button>
            </form>
            {move || outcome.get().map(|e| view! { <p class="form-error" role="alert" data-testid="canned-error">{e}</p> })}
            <Show when=move || list.with(Vec::is_empty)>
                <p class="muted">{d.no_canned}</p>
            </Show>
            <ul class="canned-rows">
                <For
                    each=move || list.get()
                    key=|r| (r.id, r.shortcut.clone(), r.text.clone())
                    children=move |r| view! { <CannedRow reply=r is_admin submit /> }
                />
            </ul>
        </section>
    }
}

/// One reply in the panel.
#[component]
fn CannedRow(
    reply: CannedReply,
    is_admin: bool,
    submit: impl Fn(Option<i64>, String, String, bool, bool) + Copy + 'static,
) -> impl IntoView {
    let s = ConsoleStrings::of(crate::i18n::Lang::current());
    let d = s.desk;
    let editable = !reply.shared || is_admin;
    let shortcut = NodeRef::<leptos::html::Input>::new();
    let text = NodeRef::<leptos::html::Textarea>::new();
    let (id, shared) = (reply.id, reply.shared);
    let values = move || {
        (
            shortcut
                .get_untracked()
                .map(|i| i.value())
                .unwrap_or_default(),
            text.get_untracked().map(|t| t.value()).unwrap_or_default(),
        )
    };
    view! {
        <li class="canned-row" data-testid="canned-row" data-shortcut=reply.shortcut.clone()>
            <form on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                let (sc, tx) = values();
                submit(Some(id), sc, tx, shared, false);
            }>
                <input name="shortcut" node_ref=shortcut value=reply.shortcut.clone() prop:disabled=!editable />
                <textarea name="text" node_ref=text rows="2" prop:disabled=!editable>{reply.text.clone()}</textarea>
                {shared.then(|| view! { <span class="tag">{d.shared_tag}</span> })}
                {editable.then(|| view! {
                    <button type="submit">{d.save}</button>
                    <button type="button" class="danger" on:click=move |_| submit(Some(id), String::new(), String::new(), shared, true)>
                        {d.remove}
                    </button>
                })}
            </form>
        </li>
    }
}
