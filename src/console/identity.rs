//! Admins' identity-verification panel: the secret their website's backend
//! signs users' identities with (docs/PROTOCOL.md §2), and its rotation.

use leptos::prelude::*;

use super::strings::ConsoleStrings;
use crate::api::{identity_secret, RotateIdentitySecret};

/// The secret, shown to admins, and the button that rotates it.
#[component]
pub fn IdentityPanel() -> impl IntoView {
    let s = ConsoleStrings::of(crate::i18n::Lang::current());
    let rotate = ServerAction::<RotateIdentitySecret>::new();
    let secret = Resource::new(move || rotate.version().get(), |_| identity_secret());
    let rotated = move || {
        rotate.value().with(|v| {
            v.as_ref().map(|r| match r {
                Ok(_) => ("ok", s.secret_rotated.to_owned()),
                Err(e) => ("form-error", s.error_text(e)),
            })
        })
    };
    view! {
        <section class="agents-panel identity-panel" data-testid="identity-panel">
            <h2>{s.identity_title}</h2>
            <p class="muted">{s.identity_hint}</p>
            <Transition fallback=move || view! { <p>{s.loading}</p> }>
                {move || secret.get().map(|r| match r {
                    Ok(secret) => view! {
                        <code class="secret" data-testid="identity-secret">{secret}</code>
                    }
                    .into_any(),
                    Err(e) => view! { <p class="form-error">{s.error_text(&e)}</p> }.into_any(),
                })}
            </Transition>
            <ActionForm action=rotate attr:class="row-form">
                <button type="submit" class="danger" data-testid="rotate-secret">{s.rotate_secret}</button>
            </ActionForm>
            {move || rotated().map(|(class, text)| view! { <p class=class role="status">{text}</p> })}
        </section>
    }
}
