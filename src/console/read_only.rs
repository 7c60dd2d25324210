//! A conversation opened from the history panel: its whole history,
//! read-only, with the message a search found brought into view and marked,
//! and for admins the visitor's id and the button that deletes them.

use leptos::prelude::*;

use super::history::label;
use super::privacy::DeleteVisitor;
use super::state::LiveRatings;
use super::strings::ConsoleStrings;
use crate::chat::view::MessageList;
use crate::chat::Thread;
use crate::protocol::archive::VisitorLabel;
use crate::protocol::rating::Rating;
use crate::protocol::{Author, ConversationId};

/// The read-only view.
#[component]
pub fn ReadOnlyConversation(
    /// Which conversation.
    id: ConversationId,
    /// Who with.
    visitor: VisitorLabel,
    /// The message to bring into view.
    seq: Option<i64>,
    /// Closes the view.
    on_back: Callback<()>,
    /// For admins: deleting the visitor is offered, and this runs once done.
    #[prop(optional)]
    on_deleted: Option<Callback<i64>>,
) -> impl IntoView {
    let s = ConsoleStrings::of(crate::i18n::Lang::current());
    let thread = RwSignal::new(Thread::new(Some(id)));
    let failed = RwSignal::new(None::<String>);
    // The visitor's rating: with the newest page, or live (`rated`).
    let rating = RwSignal::new(None::<Rating>);
    let live = use_context::<LiveRatings>();
    let shown = move || {
        live.and_then(|l| l.with(|l| l.get(&id).cloned()))
            .or_else(|| rating.get())
    };
    let view_ref = NodeRef::<leptos::html::Section>::new();
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            // Every page, newest first, until the first message.
            let mut before = None;
            loop {
                match crate::api::conversation_history(id, before).await {
                    Ok(page) => {
                        if before.is_none() {
                            rating.set(page.rating);
                        }
                        before = page.messages.first().map(|m| m.seq);
                        let more = page.more && before.is_some();
                        thread.update(|t| {
                            t.merge_page(page.messages, more);
                            // Agents' private notes, in place.
                            for note in page.notes {
                                t.merge_note(note);
                            }
                        });
                        if !more {
                            break;
                        }
                    }
                    Err(e) => {
                        failed.set(Some(s.error_text(&e)));
                        return;
                    }
                }
            }
            if let Some(seq) = seq {
                request_animation_frame(move || mark(view_ref, seq));
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = (seq, failed, view_ref, rating);
    });
    view! {
        <section class="read-only" data-testid="read-only-conversation" data-conversation=id.0.to_string() node_ref=view_ref>
            <header class="conversation-header">
                <h3>{label(s, &visitor)}</h3>
                <span class="muted">{visitor.email.clone()}</span>
                <span class="tag">{s.desk.read_only}</span>
                <span class="spacer"></span>
                <button class="link" data-testid="read-only-back" on:click=move |_| on_back.run(())>{s.desk.back}</button>
            </header>
            {on_deleted.map(|on_deleted| view! {
                <p class="muted visitor-id" data-testid="read-only-visitor-id">
                    {s.privacy.visitor_id}": "{visitor.number}
                </p>
                <DeleteVisitor number=visitor.number on_deleted />
            })}
            {move || failed.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            {move || shown().map(|r| view! {
                <p class="rating" data-testid="rating" data-score=r.score.to_string()>
                    <strong>{(s.reports.rated)(r.score)}</strong>
                    " "
                    <span class="rating-stars" aria-hidden="true">{"★".repeat(r.score.into())}</span>
                    {(!r.comment.is_empty()).then(|| view! { <q class="rating-comment">{r.comment.clone()}</q> })}
                </p>
            })}
            <MessageList thread=thread.into() strings=s.chat mine=Author::Agent />
        </section>
    }
}

/// Marks the message with `seq` in the view and scrolls it into view.
#[cfg(feature = "hydrate")]
fn mark(view_ref: NodeRef<leptos::html::Section>, seq: i64) {
    let Some(section) = view_ref.get_untracked() else {
        return;
    };
    let selector = format!("[data-testid=\"message\"][data-seq=\"{seq}\"]");
    if let Ok(Some(el)) = section.query_selector(&selector) {
        let _ = el.set_attribute("data-highlight", "true");
        el.scroll_into_view();
    }
}
