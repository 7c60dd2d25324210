//! The signed-in agent's own account: the form that changes their password
//! (the current one required; their other sessions end).

use leptos::prelude::*;

use super::strings::ConsoleStrings;
use crate::api::ChangePassword;

/// The change-password form (opened from the console's header).
#[component]
pub fn PasswordPanel() -> impl IntoView {
    let s = ConsoleStrings::of(crate::i18n::Lang::current());
    let a = s.accounts;
    let change = ServerAction::<ChangePassword>::new();
    let outcome = move || {
        change.value().with(|v| {
            v.as_ref().map(|r| match r {
                Ok(()) => ("ok", a.password_changed.to_owned()),
                Err(e) => ("form-error", s.error_text(e)),
            })
        })
    };
    view! {
        <section class="agents-panel" data-testid="password-panel">
            <h2>{a.password_heading}</h2>
            <ActionForm action=change attr:data-testid="password-form" attr:class="inline-form">
                <label>{a.current_password}<input name="current" type="password" required autocomplete="current-password" /></label>
                <label>{a.new_password}<input name="new" type="password" required minlength="8" autocomplete="new-password" /></label>
                <button type="submit">{a.change_password}</button>
            </ActionForm>
            {move || outcome().map(|(class, text)| view! { <p class=class data-testid="password-outcome" role="status">{text}</p> })}
        </section>
    }
}
