//! The history panel: search over every conversation the agent may see
//! (admins: all), the closed conversations page by page, and the one
//! opened from either, read-only (see [`super::read_only`]).

use leptos::prelude::*;

use super::read_only::ReadOnlyConversation;
use super::strings::ConsoleStrings;
use crate::protocol::archive::{ClosedConversation, SearchHit, VisitorLabel};
use crate::protocol::{ConversationId, ConversationStatus};

/// What the read-only view shows: a conversation, and the message to
/// bring into view (a search hit's).
pub type Opened = Option<(ConversationId, VisitorLabel, Option<i64>)>;

/// The visitor's label in this language.
pub fn label(s: &ConsoleStrings, v: &VisitorLabel) -> String {
    v.name.clone().unwrap_or_else(|| (s.visitor)(v.number))
}

/// The panel (opened from the console's header).
#[component]
pub fn HistoryPanel(
    /// Admins may delete a visitor from a closed conversation.
    #[prop(optional)]
    is_admin: bool,
) -> impl IntoView {
    let s = ConsoleStrings::of(crate::i18n::Lang::current());
    let d = s.desk;
    let opened = RwSignal::new(None::<(ConversationId, VisitorLabel, Option<i64>)>);
    let hits = RwSignal::new(None::<Vec<SearchHit>>);
    let closed = RwSignal::new(Vec::<ClosedConversation>::new());
    let more = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let query = NodeRef::<leptos::html::Input>::new();
    let deleted = RwSignal::new(false);
    // A deleted visitor's conversations leave the lists at once.
    let on_deleted = is_admin.then(|| {
        Callback::new(move |number: i64| {
            closed.update(|c| c.retain(|c| c.visitor.number != number));
            hits.update(|h| {
                if let Some(h) = h {
                    h.retain(|hit| hit.visitor.number != number);
                }
            });
            opened.set(None);
            deleted.set(true);
        })
    });

    let load_closed = move |after: Option<(i64, i64)>| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let (at, id) = after.unzip();
            match crate::api::closed_conversations(at, id).await {
                Ok(page) => {
                    closed.update(|c| c.extend(page.conversations));
                    more.set(page.more);
                }
                Err(e) => error.set(Some(s.error_text(&e))),
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = (after, more, error);
    };
    Effect::new(move |_| load_closed(None));
    let on_search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let q = query.get_untracked().map(|i| i.value()).unwrap_or_default();
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            match crate::api::search_conversations(q).await {
                Ok(found) => {
                    error.set(None);
                    hits.set(Some(found));
                }
                Err(e) => error.set(Some(s.error_text(&e))),
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = q;
    };
    let next_page = move |_| {
        let last = closed.with_untracked(|c| c.last().map(|c| (c.closed_at, c.id.0)));
        load_closed(last);
    };
    view! {
        <section class="settings-panel history-panel" data-testid="history-panel">
            <h2>{d.history_heading}</h2>
            <form class="search-form" on:submit=on_search>
                <input
                    type="search"
                    name="query"
                    node_ref=query
                    data-testid="conversation-search"
                    placeholder=d.search_placeholder
                    aria-label=d.search
                    maxlength="200"
                />
                <button type="submit">{d.search}</button>
            </form>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <Show when=move || deleted.get()>
                <p class="notice" role="status" data-testid="visitor-deleted">{s.privacy.deleted}</p>
            </Show>
            {move || opened.get().map(|(id, visitor, seq)| {
                deleted.set(false);
                match on_deleted {
                    Some(on_deleted) => view! {
                        <ReadOnlyConversation id visitor seq on_back=Callback::new(move |()| opened.set(None)) on_deleted />
                    }.into_any(),
                    None => view! {
                        <ReadOnlyConversation id visitor seq on_back=Callback::new(move |()| opened.set(None)) />
                    }.into_any(),
                }
            })}
            {move || hits.get().map(|found| view! {
                <h3>{d.results}</h3>
                {found.is_empty().then(|| view! { <p class="muted" data-testid="no-results">{d.no_results}</p> })}
                <ul class="search-results">
                    {found.into_iter().map(|hit| view! { <HitRow hit opened /> }).collect_view()}
                </ul>
            })}
            <h3>{d.closed_heading}</h3>
            <ul class="closed-list" data-testid="closed-list">
                <For
                    each=move || closed.get()
                    key=|c| c.id
                    children=move |c| {
                        let visitor = c.visitor.clone();
                        view! {
                            <li>
                                <button
                                    class="closed-item"
                                    data-testid="closed-item"
                                    data-conversation=c.id.0.to_string()
                                    on:click=move |_| opened.set(Some((c.id, visitor.clone(), None)))
                                >
                                    <strong>{label(s, &c.visitor)}</strong>
                                    <span class="preview">{c.last_text.clone().unwrap_or_default()}</span>
                                </button>
                            </li>
                        }
                    }
                />
            </ul>
            <Show when=move || closed.with(Vec::is_empty)>
                <p class="muted">{d.no_closed}</p>
            </Show>
            <Show when=move || more.get()>
                <button class="link" data-testid="closed-more" on:click=next_page>{d.more}</button>
            </Show>
        </section>
    }
}

/// One search hit: who, and the words around the match (marked).
#[component]
fn HitRow(hit: SearchHit, opened: RwSignal<Opened>) -> impl IntoView {
    let s = ConsoleStrings::of(crate::i18n::Lang::current());
    let (id, seq, visitor) = (hit.conversation, hit.seq, hit.visitor.clone());
    view! {
        <li>
            <button
                class="search-result"
                data-testid="search-result"
                data-conversation=id.0.to_string()
                data-seq=seq.map(|q| q.to_string()).unwrap_or_default()
                on:click=move |_| opened.set(Some((id, visitor.clone(), seq)))
            >
                <strong>{label(s, &hit.visitor)}</strong>
                {(hit.status != ConversationStatus::Closed).then(|| view! { <span class="tag">{s.desk.open_tag}</span> })}
                {seq.is_none().then(|| view! { <span class="muted">{s.desk.name_hit}</span> })}
                <span class="snippet">
                    {hit.before}<mark>{hit.matched}</mark>{hit.after}
                </span>
            </button>
        </li>
    }
}
