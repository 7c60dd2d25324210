//! Admins' business-hours panel: a time zone, each weekday's window, and
//! whether live chat stays open outside them. Saved in one step (as JSON,
//! the seven days together); a refused value says why and nothing is saved.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::strings::ConsoleStrings;
use crate::api::{get_site_settings, SaveBusinessHours};
use crate::error::{AppError, Invalid};
use crate::protocol::hours::{clock, parse_clock, BusinessHours, DayHours};

/// One weekday's row as the form holds it: open, from, to (`HH:MM`).
type DayRow = (RwSignal<bool>, RwSignal<String>, RwSignal<String>);

/// The panel (shown to admins, below the widget settings).
#[component]
pub fn HoursPanel() -> impl IntoView {
    let s = ConsoleStrings::of(crate::i18n::Lang::current());
    let save = ServerAction::<SaveBusinessHours>::new();
    let current = Resource::new(|| (), |_| get_site_settings());
    let refused = RwSignal::new(None::<AppError>);
    let outcome = move || {
        if let Some(e) = refused.get() {
            return Some(("form-error", s.error_text(&e)));
        }
        save.value().with(|v| {
            v.as_ref().map(|r| match r {
                Ok(_) => ("ok", s.hours.saved.to_owned()),
                Err(e) => ("form-error", s.error_text(e)),
            })
        })
    };
    view! {
        <section class="agents-panel hours-panel" data-testid="hours-panel">
            <h2>{s.hours.heading}</h2>
            <p class="muted">{s.hours.hint}</p>
            <Transition fallback=move || view! { <p>{s.loading}</p> }>
                {move || current.get().map(|r| match r {
                    Ok(site) => view! { <HoursForm hours=site.hours save refused /> }.into_any(),
                    Err(e) => view! { <p class="form-error">{s.error_text(&e)}</p> }.into_any(),
                })}
            </Transition>
            {move || outcome().map(|(class, text)| view! {
                <p class=class role="status" data-testid="hours-outcome">{text}</p>
            })}
        </section>
    }
}

/// The form, filled with what is stored.
#[component]
fn HoursForm(
    hours: BusinessHours,
    save: ServerAction<SaveBusinessHours>,
    refused: RwSignal<Option<AppError>>,
) -> impl IntoView {
    let s = ConsoleStrings::of(crate::i18n::Lang::current());
    let t = s.hours;
    let enabled = RwSignal::new(hours.enabled);
    let zone = RwSignal::new(hours.time_zone.clone());
    let keep_open = RwSignal::new(hours.keep_chat_open);
    let rows: Vec<DayRow> = hours
        .days
        .iter()
        .map(|d| {
            (
                RwSignal::new(d.open),
                RwSignal::new(clock(d.from)),
                RwSignal::new(clock(d.to)),
            )
        })
        .collect();
    let all_rows = StoredValue::new(rows.clone());
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let days: Option<Vec<DayHours>> = all_rows.with_value(|rows| {
            rows.iter()
                .map(|(open, from, to)| {
                    Some(DayHours {
                        open: open.get_untracked(),
                        from: parse_clock(&from.get_untracked())?,
                        to: parse_clock(&to.get_untracked())?,
                    })
                })
                .collect()
        });
        let Some(days) = days else {
            refused.set(Some(AppError::Invalid(Invalid::Hours)));
            return;
        };
        refused.set(None);
        save.dispatch(SaveBusinessHours {
            hours: BusinessHours {
                enabled: enabled.get_untracked(),
                time_zone: zone.get_untracked(),
                days,
                keep_chat_open: keep_open.get_untracked(),
            },
        });
    };
    let day_rows = rows
        .into_iter()
        .enumerate()
        .map(|(i, (open, from, to))| {
            view! {
                <tr data-testid="hours-day" data-day=i.to_string()>
                    <th scope="row">{t.days[i]}</th>
                    <td>
                        <label class="check">
                            <input type="checkbox" name=format!("open_{i}") prop:checked=open
                                on:change=move |ev| open.set(event_target_checked(&ev)) />
                            {t.open}
                        </label>
                    </td>
                    <td>
                        <label>{t.from}
                            <input type="time" name=format!("from_{i}") prop:value=from
                                on:input=move |ev| from.set(event_target_value(&ev)) />
                        </label>
                    </td>
                    <td>
                        <label>{t.to}
                            <input type="time" name=format!("to_{i}") prop:value=to
                                on:input=move |ev| to.set(event_target_value(&ev)) />
                        </label>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <form class="settings-form hours-form" data-testid="hours-form" on:submit=submit>
            <label class="check">
                <input type="checkbox" name="enabled" prop:checked=enabled
                    on:change=move |ev| enabled.set(event_target_checked(&ev)) />
                {t.enabled}
            </label>
            <label>
                {t.time_zone}
                <input name="time_zone" prop:value=zone spellcheck="false"
                    on:input=move |ev| zone.set(event_target_value(&ev)) />
            </label>
            <p class="muted">{t.time_zone_hint}</p>
            <table class="hours-days">
                <tbody>{day_rows}</tbody>
            </table>
            <label class="check">
                <input type="checkbox" name="keep_chat_open" prop:checked=keep_open
                    on:change=move |ev| keep_open.set(event_target_checked(&ev)) />
                {t.keep_chat_open}
            </label>
            <p class="muted">{t.keep_chat_open_hint}</p>
            <button type="submit">{s.save}</button>
        </form>
    }
}
