//! The console's language picker: the choice is stored for the agent (and
//! in this browser's `/console` cookie), then the page reloads in it.

use leptos::prelude::*;

use super::strings::ConsoleStrings;
use crate::i18n::Lang;
use crate::protocol::AgentInfo;

/// Where a reload for the agent's language is remembered, so that a
/// browser refusing the cookie is not reloaded over and over.
#[cfg(feature = "hydrate")]
const RELOADED_KEY: &str = "kefu.lang_reloaded";

/// Reloads the page once if it was rendered in another language than the
/// one `me` chose (just signed in, in a new browser): the server has set
/// the cookie that makes the reload speak it (browser only).
pub fn follow_choice(me: &AgentInfo) {
    let other = me
        .lang
        .as_deref()
        .and_then(Lang::parse)
        .filter(|chosen| *chosen != Lang::current());
    #[cfg(feature = "hydrate")]
    if let Some(chosen) = other {
        reload_once(chosen);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = other;
}

/// Reloads the page unless this tab already reloaded for `lang`.
#[cfg(feature = "hydrate")]
fn reload_once(lang: Lang) {
    let Some(window) = leptos::web_sys::window() else {
        return;
    };
    let session = window.session_storage().ok().flatten();
    let done = session
        .as_ref()
        .and_then(|s| s.get_item(RELOADED_KEY).ok().flatten());
    if done.as_deref() == Some(lang.tag()) {
        return;
    }
    if let Some(s) = &session {
        let _ = s.set_item(RELOADED_KEY, lang.tag());
    }
    let _ = window.location().reload();
}

/// A `<select>` of the languages kefu speaks.
#[component]
pub fn LangSwitch() -> impl IntoView {
    let current = Lang::current();
    let s = ConsoleStrings::of(current);
    let failed = RwSignal::new(None::<String>);
    let on_change = move |ev| {
        let tag = event_target_value(&ev);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            match crate::api::set_language(tag).await {
                Ok(()) => {
                    if let Some(window) = leptos::web_sys::window() {
                        let _ = window.location().reload();
                    }
                }
                Err(e) => failed.set(Some(s.error_text(&e))),
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = (tag, failed);
    };
    view! {
        <select class="lang-switch" data-testid="lang-switch" aria-label=s.language title=s.language on:change=on_change>
            {Lang::ALL
                .map(|lang| view! { <option value=lang.tag() selected=lang == current>{lang.name()}</option> })
                .collect_view()}
        </select>
        {move || failed.get().map(|e| view! { <span class="form-error" role="alert">{e}</span> })}
    }
}
