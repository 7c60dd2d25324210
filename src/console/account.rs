//! The signed-in agent's own account: the form that changes their password
//! (the current one required; their other sessions end), and their status
//! (online, or away: no new conversations).

use leptos::prelude::*;

use super::strings::ConsoleStrings;
use crate::api::ChangePassword;
use crate::protocol::AgentInfo;

/// The online/away `<select>` in the console's header; the choice is
/// stored for the agent.
#[component]
pub fn StatusSelect(me: AgentInfo) -> impl IntoView {
    let s = ConsoleStrings::of(crate::i18n::Lang::current());
    let a = s.accounts;
    let failed = RwSignal::new(None::<String>);
    let on_change = move |ev| {
        let status = event_target_value(&ev);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let result = crate::api::set_status(status).await;
            failed.set(result.err().map(|e| s.error_text(&e)));
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = (status, failed);
    };
    view! {
        <select class="status-select" data-testid="agent-status" aria-label=a.status title=a.status on:change=on_change>
            <option value="online" selected=!me.away>{a.online}</option>
            <option value="away" selected=me.away>{a.away}</option>
        </select>
        {move || failed.get().map(|e| view! { <span class="form-error" role="alert">{e}</span> })}
    }
}

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
