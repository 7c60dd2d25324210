//! After the agent closed the conversation: the visitor rates it (1–5 and
//! an optional comment) once, or sees that they did.
//!
//! Kept small for the visitor's bundle: the form's inside is one piece of
//! static markup (the widget's own words, no visitor input) that the
//! browser keeps — radio buttons and a textarea, no signal per score —,
//! read once on submit and sent on the socket. Each element written as a
//! view would cost its own rendering code in the wasm.

use leptos::prelude::*;

use super::state::WidgetState;
use super::strings::WidgetStrings;
use crate::protocol::ConversationId;

/// The form's inside, in the visitor's language.
fn markup(s: &WidgetStrings) -> String {
    let mut html = format!("<p>{}</p><div class=\"scores\">", s.rate_prompt);
    for n in 1..=5 {
        let required = if n == 1 { " required" } else { "" };
        html.push_str(&format!(
            "<label><input type=\"radio\" name=\"score\" value=\"{n}\"{required}>{n}</label>"
        ));
    }
    html.push_str(&format!(
        "</div><textarea name=\"comment\" maxlength=\"1000\" placeholder=\"{}\"></textarea>\
         <button type=\"submit\">{}</button>",
        s.rate_comment, s.rate_send
    ));
    html
}

/// The form, or the thanks once `rated` holds the score.
#[component]
pub fn Rating(state: WidgetState, id: ConversationId, rated: Option<u8>) -> impl IntoView {
    let s = WidgetStrings::of(crate::i18n::Lang::current());
    let form = NodeRef::<leptos::html::Form>::new();
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        if let Some((score, comment)) = form.get_untracked().and_then(|f| read(&f)) {
            state.session.outbox.send(crate::protocol::ClientMsg::Rate {
                conversation: id,
                score,
                comment,
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (state, id);
    };
    view! {
        {rated.map(|n| view! { <p class="rated" data-testid="rated" data-score=n>{s.rated}</p> })}
        {rated.is_none().then(|| view! {
            <form class="rating-form" data-testid="rating-form" node_ref=form on:submit=send inner_html=markup(&s)></form>
        })}
    }
}

/// The chosen score and the comment, if a score is chosen.
#[cfg(feature = "hydrate")]
fn read(form: &leptos::web_sys::HtmlFormElement) -> Option<(u8, String)> {
    use wasm_bindgen::JsCast;
    let score = form
        .query_selector("input:checked")
        .ok()??
        .get_attribute("value")?
        .parse()
        .ok()?;
    let comment = form
        .query_selector("textarea")
        .ok()
        .flatten()
        .map(|t| {
            t.unchecked_into::<leptos::web_sys::HtmlTextAreaElement>()
                .value()
        })
        .unwrap_or_default();
    Some((score, comment))
}
