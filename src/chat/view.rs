//! The message list and the composer, used by both the widget and the console.
//!
//! Every user string is rendered as a text node: nothing is ever inserted as HTML.

use leptos::html;
use leptos::prelude::*;

use super::{ChatStrings, Delivery, Entry, Thread};
use crate::protocol::{check_text, Author, TextProblem};

/// Distance from the bottom, in pixels, that still counts as "at the bottom".
const AT_BOTTOM_SLACK: i32 = 40;

fn author_attr(author: Author) -> &'static str {
    author.as_str()
}

/// Draws one line. `seen`: the other side has seen this message of the
/// reader's side: `data-seen="true"`, and "Seen" in place of "Sent" when
/// this client wrote it. (A line is drawn again when that changes: the
/// list's key holds it, which costs the visitor's bundle less than a
/// reactive attribute on every line.)
fn message_view(entry: Entry, strings: ChatStrings, mine: Author, seen: bool) -> impl IntoView {
    let text = match (&entry.event, entry.notice) {
        (Some(event), _) => (strings.event)(event),
        (None, Some(notice)) => (strings.notice)(notice).to_owned(),
        (None, None) => entry.text.clone(),
    };
    let side = match entry.author {
        _ if entry.note => "note",
        Author::System => "system",
        author if author == mine => "mine",
        _ => "theirs",
    };
    let state = match &entry.delivery {
        _ if !entry.own => None,
        Delivery::Pending => Some(("pending", strings.pending.to_owned())),
        Delivery::Sent if seen => Some(("seen", strings.seen.to_owned())),
        Delivery::Sent => Some(("sent", strings.sent.to_owned())),
        Delivery::Failed(reason) => Some(("failed", (strings.error)(*reason).to_owned())),
    };
    view! {
        <div
            class=format!("message {side}")
            data-testid="message"
            data-author=if entry.note { "note" } else { author_attr(entry.author) }
            data-seq=entry.seq.map(|s| s.to_string()).unwrap_or_default()
            // The delivery state: a seen message is "sent" here too.
            data-state=state.as_ref().map(|(s, _)| if *s == "seen" { "sent" } else { s }).unwrap_or("").to_owned()
            data-seen=seen.then_some("true")
        >
            {entry.author_name.clone().map(|name| view! { <span class="author">{name}</span> })}
            {entry.note.then(|| view! { <span class="note-mark">{strings.note}</span> })}
            <p class="text">{text}</p>
            {clock(entry.at, strings.locale).map(|(short, full)| view! {
                <time class="time" data-testid="message-time" title=full>{short}</time>
            })}
            {state.clone().map(|(class, label)| view! { <span class=format!("delivery {class}")>{label}</span> })}
        </div>
    }
}

/// A message's time in `locale`, short (hours and minutes) and full (date
/// too, for the tooltip), in the reader's own time zone: written by the
/// browser (messages are only ever drawn there; none for notices).
fn clock(at: f64, locale: &str) -> Option<(String, String)> {
    if at <= 0.0 {
        return None;
    }
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsValue;
        let date = js_sys::Date::new(&JsValue::from_f64(at));
        let options = |pairs: &[(&str, &str)]| {
            let o = js_sys::Object::new();
            for (k, v) in pairs {
                let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v));
            }
            JsValue::from(o)
        };
        let short = date.to_locale_time_string_with_options(
            locale,
            &options(&[("hour", "2-digit"), ("minute", "2-digit")]),
        );
        let full = date.to_locale_string(
            locale,
            &options(&[("dateStyle", "medium"), ("timeStyle", "short")]),
        );
        Some((short.into(), full.into()))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = locale;
        None
    }
}

/// A moment within the coming week in `locale`, as a weekday and time in
/// the reader's own time zone (browser only, like [`clock`]).
pub fn weekday_time(at: f64, locale: &str) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsValue;
        let o = js_sys::Object::new();
        for (k, v) in [
            ("weekday", "long"),
            ("hour", "2-digit"),
            ("minute", "2-digit"),
        ] {
            let _ = js_sys::Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v));
        }
        let date = js_sys::Date::new(&JsValue::from_f64(at));
        Some(date.to_locale_string(locale, &o).into())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (at, locale);
        None
    }
}

fn at_bottom(el: &leptos::web_sys::HtmlDivElement) -> bool {
    el.scroll_height() - el.scroll_top() - el.client_height() <= AT_BOTTOM_SLACK
}

/// The list of a thread's lines. Keeps the newest in view while the reader
/// is at the bottom; scrolled up, shows a "new messages" pill instead. When
/// the server holds older messages, an "earlier messages" button on top asks
/// `on_earlier` for the page before the oldest seq shown; the view keeps its
/// place while that page is put above it.
#[component]
pub fn MessageList(
    /// The thread to show.
    thread: Signal<Thread>,
    /// Words.
    strings: ChatStrings,
    /// Whose messages are drawn on the right (the reader's side).
    mine: Author,
    /// Fetches the page of messages before this seq.
    #[prop(optional)]
    on_earlier: Option<Callback<i64>>,
    /// How far the other side has seen (marks the reader's messages up to it).
    /// (An `RwSignal`: the visitor's bundle then needs no `Signal<i64>`.)
    #[prop(optional)]
    seen: Option<RwSignal<i64>>,
) -> impl IntoView {
    let list = NodeRef::<html::Div>::new();
    let stuck = RwSignal::new(true);
    let pill = RwSignal::new(false);
    // Distance from the bottom to keep while an earlier page is put on top.
    let keep_from_bottom = RwSignal::new(None::<i32>);
    let count = Memo::new(move |_| thread.with(|t| t.entries().len()));
    let newest = Memo::new(move |_| thread.with(|t| t.entries().last().map(|e| e.key.clone())));
    let more_before = Memo::new(move |_| thread.with(|t| t.more_before));

    let scroll_down = move || {
        if let Some(el) = list.get_untracked() {
            el.set_scroll_top(el.scroll_height());
        }
    };
    Effect::new(move |prev: Option<Option<String>>| {
        count.track();
        let last = newest.get();
        if let Some(from_bottom) = keep_from_bottom.get_untracked() {
            keep_from_bottom.set(None);
            request_animation_frame(move || {
                if let Some(el) = list.get_untracked() {
                    el.set_scroll_top(el.scroll_height() - from_bottom);
                }
            });
        } else if stuck.get_untracked() {
            request_animation_frame(scroll_down);
        } else if prev.is_some_and(|p| p != last) {
            pill.set(true);
        }
        last
    });
    // Where the list was at the last scroll event. Only the reader moving
    // up unsticks it: a message added between a scroll to the bottom and
    // that scroll's event (browsers send it a frame later) leaves the list
    // short of the bottom without anyone having scrolled.
    let last_top = StoredValue::new(0);
    let on_scroll = move |_| {
        if let Some(el) = list.get_untracked() {
            let top = el.scroll_top();
            if at_bottom(&el) {
                stuck.set(true);
                pill.set(false);
            } else if top < last_top.get_value() {
                stuck.set(false);
            }
            last_top.set_value(top);
        }
    };
    let load_earlier = move |_| {
        let Some(callback) = on_earlier else { return };
        let Some(first) = thread.with_untracked(Thread::first_seq) else {
            return;
        };
        if let Some(el) = list.get_untracked() {
            keep_from_bottom.set(Some(el.scroll_height() - el.scroll_top()));
        }
        callback.run(first);
    };
    view! {
        <div class="message-list-wrap">
            <div class="message-list" data-testid="message-list" node_ref=list on:scroll=on_scroll>
                <Show when=move || on_earlier.is_some() && more_before.get()>
                    <button class="load-earlier" data-testid="load-earlier" on:click=load_earlier>
                        {strings.earlier}
                    </button>
                </Show>
                <For
                    each=move || {
                        let upto = seen.map_or(0, |s| s.get());
                        thread.with(|t| {
                            t.entries()
                                .iter()
                                .map(|e| (e.clone(), e.author == mine && e.seq.is_some_and(|s| s <= upto)))
                                .collect::<Vec<_>>()
                        })
                    }
                    key=|(e, seen)| (e.key.clone(), e.seq, e.delivery.clone(), *seen)
                    children=move |(e, seen)| message_view(e, strings, mine, seen)
                />
            </div>
            <Show when=move || pill.get()>
                <button
                    class="new-messages"
                    data-testid="new-messages"
                    on:click=move |_| {
                        stuck.set(true);
                        pill.set(false);
                        scroll_down();
                    }
                >
                    {strings.new_messages}
                </button>
            </Show>
        </div>
    }
}

/// A text box and a send button. Enter sends, Shift+Enter is a new line;
/// blank texts are not sent; over-long ones are refused with a message and kept.
#[component]
pub fn Composer(
    /// Words.
    strings: ChatStrings,
    /// Called with a text that passed the checks.
    on_send: Callback<String>,
    /// Greys the composer out.
    #[prop(into, optional)]
    disabled: Signal<bool>,
    /// Called with the text after every edit (typing frames).
    #[prop(optional)]
    on_input: Option<Callback<String>>,
    /// The text, when the UI reads or fills it too (the console's canned
    /// replies); otherwise the composer keeps its own.
    #[prop(optional)]
    text: Option<RwSignal<String>>,
    /// Sees each key before the composer does; `true`: it was handled
    /// (the console's canned-reply list takes ↑, ↓, Enter and Esc).
    #[prop(optional)]
    on_key: Option<Callback<leptos::ev::KeyboardEvent, bool>>,
) -> impl IntoView {
    let text = text.unwrap_or_else(|| RwSignal::new(String::new()));
    let problem = RwSignal::new(None::<&'static str>);
    let submit = move || {
        let value = text.get_untracked();
        match check_text(&value) {
            Ok(()) => {
                problem.set(None);
                on_send.run(value);
                text.set(String::new());
            }
            Err(TextProblem::Blank) => problem.set(None),
            Err(TextProblem::TooLong) => problem.set(Some(strings.too_long)),
        }
    };
    view! {
        <form class="composer" on:submit=move |ev| {
            ev.prevent_default();
            submit();
        }>
            <textarea
                data-testid="composer"
                rows="2"
                placeholder=strings.placeholder
                prop:value=move || text.get()
                prop:disabled=move || disabled.get()
                on:input=move |ev| {
                    text.set(event_target_value(&ev));
                    if let Some(on_input) = on_input {
                        on_input.run(text.get_untracked());
                    }
                    if problem.get_untracked().is_some() && check_text(&text.get_untracked()).is_ok() {
                        problem.set(None);
                    }
                }
                on:keydown=move |ev| {
                    if on_key.is_some_and(|hook| hook.run(ev.clone())) {
                        return;
                    }
                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        submit();
                    }
                }
            ></textarea>
            <button type="submit" data-testid="send" prop:disabled=move || disabled.get()>
                {strings.send}
            </button>
            <Show when=move || problem.get().is_some()>
                <p class="composer-error" data-testid="composer-error" role="alert">
                    {move || problem.get().unwrap_or_default()}
                </p>
            </Show>
        </form>
    }
}
