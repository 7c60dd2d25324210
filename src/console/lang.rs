//! The console's language picker: the choice is stored for the agent (and
//! in this browser's `/console` cookie), then the page reloads in it.

use leptos::prelude::*;

use super::strings::ConsoleStrings;
use crate::i18n::Lang;

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
