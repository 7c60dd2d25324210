//! The signed-in agent's own account: the form that changes their password
//! (the current one required; their other sessions end), and their status
//! (online, or away: no new conversations).

use leptos::prelude::*;

use super::strings::ConsoleStrings;
use crate::api::ChangePassword;
use crate::protocol::AgentInfo;

/// The online/away `<select>` in the console's header; the choice is
/// stored for the agent. With `--away-after-idle`, a console hidden that
/// long sets the agent away, and back online when it shows again (only if
/// it was the console, not the agent, that chose away).
#[component]
pub fn StatusSelect(me: AgentInfo) -> impl IntoView {
    let s = ConsoleStrings::of(crate::i18n::Lang::current());
    let a = s.accounts;
    let failed = RwSignal::new(None::<String>);
    let away = RwSignal::new(me.away);
    let choose = move |status: &'static str| {
        away.set(status == "away");
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let result = crate::api::set_status(status.to_owned()).await;
            failed.set(result.err().map(|e| s.error_text(&e)));
        });
    };
    let on_change = move |ev| {
        let status = if event_target_value(&ev) == "away" {
            "away"
        } else {
            "online"
        };
        choose(status);
    };
    #[cfg(feature = "hydrate")]
    if let Some(secs) = me.away_after_idle_secs {
        idle::watch(secs, away, choose);
    }
    view! {
        <select class="status-select" data-testid="agent-status" aria-label=a.status title=a.status on:change=on_change
            prop:value=move || if away.get() { "away" } else { "online" }>
            <option value="online" selected=!me.away>{a.online}</option>
            <option value="away" selected=me.away>{a.away}</option>
        </select>
        {move || failed.get().map(|e| view! { <span class="form-error" role="alert">{e}</span> })}
    }
}

/// Going away by itself: a timer runs while the console is hidden.
#[cfg(feature = "hydrate")]
mod idle {
    use leptos::prelude::*;
    use std::time::Duration;

    /// Watches the page's visibility: hidden for `secs`, `choose("away")`
    /// unless the agent is away already; shown again after that, `choose("online")`.
    pub(super) fn watch(
        secs: u32,
        away: RwSignal<bool>,
        choose: impl Fn(&'static str) + Copy + 'static,
    ) {
        let timer = StoredValue::new_local(None::<TimeoutHandle>);
        let went_away = StoredValue::new(false);
        let on_change = move || {
            if let Some(t) = timer.try_update_value(Option::take).flatten() {
                t.clear();
            }
            if crate::client::page_visible() {
                if went_away.get_value() {
                    went_away.set_value(false);
                    if away.get_untracked() {
                        choose("online");
                    }
                }
            } else if !away.get_untracked() {
                let handle = set_timeout_with_handle(
                    move || {
                        if !crate::client::page_visible() && !away.get_untracked() {
                            went_away.set_value(true);
                            choose("away");
                        }
                    },
                    Duration::from_secs(secs.into()),
                );
                timer.set_value(handle.ok());
            }
        };
        std::mem::forget(window_event_listener_untyped(
            "visibilitychange",
            move |_| on_change(),
        ));
        on_change();
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
