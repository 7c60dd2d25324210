//! The visitor panel beside a conversation: who the agent is talking to
//! (their current page, live; where they came from, browser and system,
//! language, local time, first visit, their id, name and email) and their earlier
//! conversations, each openable read-only.

use leptos::prelude::*;

use super::state::{ConsoleState, ConvHandle};
use super::strings::ConsoleStrings;
use crate::protocol::{ChatMessage, ConversationId, PageSeen, VisitorContext};

/// The panel for conversation `handle`, loaded when it comes to the front.
#[component]
pub fn VisitorPanel(state: ConsoleState, handle: ConvHandle) -> impl IntoView {
    let s = ConsoleStrings::of(crate::i18n::Lang::current());
    let v = s.visits;
    let id = handle.id;
    let loaded = RwSignal::new(None::<VisitorContext>);
    let reading = RwSignal::new(None::<Vec<ChatMessage>>);
    let now = RwSignal::new(0.0_f64);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            now.set(js_sys::Date::now());
            if let Ok(tick) = set_interval_with_handle(
                move || now.set(js_sys::Date::now()),
                std::time::Duration::from_secs(30),
            ) {
                on_cleanup(move || tick.clear());
            }
            leptos::task::spawn_local(async move {
                match crate::api::visitor_context(id).await {
                    Ok(ctx) => loaded.set(Some(ctx)),
                    // Closed (or handed on) meanwhile: its tab is going away.
                    Err(crate::error::AppError::NotFound) => {}
                    Err(e) => state.session.refused(e.code()),
                }
            });
        }
    });
    let ctx = move |f: &dyn Fn(&VisitorContext) -> Option<String>| {
        loaded.with(|c| c.as_ref().and_then(f))
    };
    // The page seen live on this socket, else the one stored.
    let page = move || -> Option<PageSeen> {
        state
            .pages
            .with(|p| p.get(&id).cloned())
            .or_else(|| loaded.with(|c| c.as_ref().and_then(|c| c.page.clone())))
    };
    let name = move || {
        handle
            .summary
            .with(|c| c.visitor_name.clone())
            .or_else(|| ctx(&|c| c.name.clone()))
    };
    let email = move || {
        handle
            .summary
            .with(|c| c.visitor_email.clone())
            .or_else(|| ctx(&|c| c.email.clone()))
    };
    // What `kefu visitor export` and `delete` take.
    let visitor_id = move || Some(handle.summary.with(|c| c.visitor_number.to_string()));
    let browser = move || ctx(&|c| c.browser.clone());
    let os = move || ctx(&|c| c.os.clone());
    let language = move || ctx(&|c| c.language.clone());
    let referrer = move || ctx(&|c| c.referrer.clone());
    let first_seen = move || ctx(&|c| Some(date(c.first_seen as f64)).filter(|d| !d.is_empty()));
    let local_time = move || {
        let at = now.get();
        loaded.with(|c| {
            let c = c.as_ref()?;
            let offset = c.utc_offset?;
            let clock = utc_clock(at + f64::from(offset) * 60_000.0);
            Some(match &c.time_zone {
                Some(zone) => format!("{clock} ({zone})"),
                None => clock,
            })
        })
    };
    let row = move |field: &'static str, label: &'static str, value: Signal<Option<String>>| {
        view! {
            <div class="info-row" data-field=field>
                <dt>{label}</dt>
                <dd>{move || value.get().unwrap_or_else(|| v.unknown.to_owned())}</dd>
            </div>
        }
    };
    let open_earlier = move |earlier: ConversationId| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            match crate::api::earlier_conversation(id, earlier).await {
                Ok(page) => reading.set(Some(page.messages)),
                Err(e) => state.session.refused(e.code()),
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = earlier;
    };
    view! {
        <aside class="visitor-info" data-testid="visitor-info">
            <h3>{v.heading}</h3>
            <dl>
                <div class="info-row" data-field="page_url">
                    <dt>{v.page}</dt>
                    <dd>
                        {move || match page() {
                            Some(p) => view! {
                                <a href=p.url.clone() target="_blank" rel="noopener noreferrer" title=p.url.clone()>
                                    {if p.title.is_empty() { p.url.clone() } else { p.title.clone() }}
                                </a>
                                <span class="muted url">{p.url.clone()}</span>
                            }.into_any(),
                            None => v.unknown.into_any(),
                        }}
                    </dd>
                </div>
                <div class="info-row" data-field="page_title" hidden=true>
                    <dd>{move || page().map(|p| p.title)}</dd>
                </div>
                {row("referrer", v.referrer, Signal::derive(referrer))}
                {row("browser", v.browser, Signal::derive(browser))}
                {row("os", v.os, Signal::derive(os))}
                {row("language", v.language, Signal::derive(language))}
                {row("local_time", v.local_time, Signal::derive(local_time))}
                {row("first_seen", v.first_seen, Signal::derive(first_seen))}
                {row("visitor_id", s.privacy.visitor_id, Signal::derive(visitor_id))}
                {row("name", v.name, Signal::derive(name))}
                {row("email", v.email, Signal::derive(email))}
            </dl>
            <h4>{v.earlier}</h4>
            {move || match reading.get() {
                Some(messages) => view! {
                    <div class="earlier-history" data-testid="earlier-history">
                        <p class="muted">
                            {v.read_only}" "
                            <button class="link" data-testid="earlier-back" on:click=move |_| reading.set(None)>{v.back}</button>
                        </p>
                        <ol>
                            {messages.into_iter().filter(|m| m.event.is_none()).map(|m| view! {
                                <li data-testid="earlier-message" data-author=m.author.as_str()>
                                    <strong>{m.author_name.clone().unwrap_or_else(|| name().unwrap_or_else(|| s.visitor_label(&handle.summary.get_untracked())))}</strong>
                                    ": "{m.text}
                                </li>
                            }).collect_view()}
                        </ol>
                    </div>
                }.into_any(),
                None => view! {
                    <ul class="earlier-list">
                        {move || loaded.with(|c| {
                            let earlier = c.as_ref().map(|c| c.earlier.clone()).unwrap_or_default();
                            if earlier.is_empty() {
                                return view! { <li class="muted">{v.no_earlier}</li> }.into_any();
                            }
                            earlier.into_iter().map(|past| view! {
                                <li>
                                    <button class="link" data-testid="earlier-conversation" data-conversation=past.id.0.to_string()
                                        on:click=move |_| open_earlier(past.id)>
                                        {(v.earlier_item)(&date(past.started_at as f64), past.messages)}
                                    </button>
                                </li>
                            }).collect_view().into_any()
                        })}
                    </ul>
                }.into_any(),
            }}
        </aside>
    }
}

/// A date and time in the console's language (browser only; empty while
/// rendering on the server).
fn date(ms: f64) -> String {
    #[cfg(feature = "hydrate")]
    {
        let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms));
        d.to_locale_string(
            crate::i18n::Lang::current().tag(),
            &wasm_bindgen::JsValue::UNDEFINED,
        )
        .into()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ms;
        String::new()
    }
}

/// `HH:MM` of the instant `ms` read as UTC (the caller adds the offset).
fn utc_clock(ms: f64) -> String {
    let minutes = (ms / 60_000.0).floor() as i64;
    let day = minutes.rem_euclid(24 * 60);
    format!("{:02}:{:02}", day / 60, day % 60)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_local_clock_is_read_from_utc_and_the_offset() {
        // 2026-12-05 23:30 UTC, eight hours east: 07:30 the next day.
        let at = 1_796_513_400_000.0 + 8.0 * 3_600_000.0;
        assert_eq!(super::utc_clock(at), "07:30");
        assert_eq!(super::utc_clock(0.0), "00:00");
    }
}
