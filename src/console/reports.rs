//! The admins' reports page: for a chosen range of days, conversations per
//! day and those left offline, first-response and resolution times, per
//! agent figures and the ratings' distribution, as figures and charts, with
//! the same figures as a CSV download (`/console/reports.csv`).

mod chart;

use leptos::prelude::*;

use super::strings::ConsoleStrings;
use crate::protocol::report::Report;
use chart::{Bar, BarChart};

/// The page (opened from the console's header, admins only).
#[component]
pub fn ReportsPanel() -> impl IntoView {
    let s = ConsoleStrings::of(crate::i18n::Lang::current());
    let r = s.reports;
    let report = RwSignal::new(None::<Report>);
    let error = RwSignal::new(None::<String>);
    let from = NodeRef::<leptos::html::Input>::new();
    let to = NodeRef::<leptos::html::Input>::new();
    let load = move |range: (String, String)| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            match crate::api::load_report(range.0, range.1).await {
                Ok(found) => {
                    error.set(None);
                    report.set(Some(found));
                }
                Err(e) => error.set(Some(s.error_text(&e))),
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = (range, error);
    };
    // The last 30 days at first; the server says which days those are.
    Effect::new(move |_| load((String::new(), String::new())));
    let on_show = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let value = |n: NodeRef<leptos::html::Input>| {
            n.get_untracked().map(|i| i.value()).unwrap_or_default()
        };
        load((value(from), value(to)));
    };
    view! {
        <section class="settings-panel reports-panel" data-testid="reports">
            <h2>{r.heading}</h2>
            <form class="report-range" on:submit=on_show>
                <label>{r.from}
                    <input type="date" name="from" node_ref=from data-testid="report-from"
                        prop:value=move || report.with(|x| x.as_ref().map(|x| x.from.clone()).unwrap_or_default()) />
                </label>
                <label>{r.to}
                    <input type="date" name="to" node_ref=to data-testid="report-to"
                        prop:value=move || report.with(|x| x.as_ref().map(|x| x.to.clone()).unwrap_or_default()) />
                </label>
                <button type="submit" data-testid="report-show">{r.show}</button>
            </form>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            {move || report.get().map(|rep| view! { <Figures s rep /> })}
        </section>
    }
}

/// The figures and charts of one report.
#[component]
fn Figures(s: &'static ConsoleStrings, rep: Report) -> impl IntoView {
    let r = s.reports;
    let time = move |ms: Option<i64>| ms.map(r.duration).unwrap_or_else(|| r.none.to_owned());
    let ms_attr = |ms: Option<i64>| ms.map(|v| v.to_string()).unwrap_or_default();
    let csv = format!("/console/reports.csv?from={}&to={}", rep.from, rep.to);
    let days = rep
        .days
        .iter()
        .map(|d| Bar {
            label: d.day.get(5..).unwrap_or(&d.day).to_owned(),
            value: f64::from(d.conversations),
            part: f64::from(d.offline),
            text: format!("{} / {}", d.conversations, d.offline),
        })
        .collect();
    let ratings = rep
        .ratings
        .iter()
        .enumerate()
        .map(|(i, n)| Bar {
            label: format!("{}★", i + 1),
            value: f64::from(*n),
            part: 0.0,
            text: n.to_string(),
        })
        .collect();
    let agents_chart = rep
        .agents
        .iter()
        .map(|a| Bar {
            label: a.name.clone(),
            value: a.first_response_median_ms.unwrap_or(0) as f64,
            part: 0.0,
            text: time(a.first_response_median_ms),
        })
        .collect();
    let rows = rep
        .agents
        .iter()
        .map(|a| {
            let average = a.rating_average.map(|v| format!("{v:.2}"));
            let average_attr = average.clone().unwrap_or_default();
            view! {
                <tr data-testid="report-agent" data-name=a.name.clone()
                    data-conversations=a.conversations.to_string()
                    data-first-response=ms_attr(a.first_response_median_ms)
                    data-rating=average_attr>
                    <td>{a.name.clone()}</td>
                    <td>{a.conversations}</td>
                    <td>{time(a.first_response_median_ms)}</td>
                    <td>{average.unwrap_or_else(|| r.none.to_owned())}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p><a data-testid="reports-csv" href=csv download>{r.csv}</a></p>
        <dl class="report-figures">
            <dt>{r.conversations}</dt>
            <dd data-testid="report-conversations">{rep.conversations}</dd>
            <dt>{r.offline}</dt>
            <dd data-testid="report-offline">{rep.offline}</dd>
            <dt>{r.first_response_median}</dt>
            <dd data-testid="report-first-response-median" data-ms=ms_attr(rep.first_response_median_ms)>
                {time(rep.first_response_median_ms)}
            </dd>
            <dt>{r.first_response_p90}</dt>
            <dd data-testid="report-first-response-p90" data-ms=ms_attr(rep.first_response_p90_ms)>
                {time(rep.first_response_p90_ms)}
            </dd>
            <dt>{r.resolution_median}</dt>
            <dd data-testid="report-resolution-median" data-ms=ms_attr(rep.resolution_median_ms)>
                {time(rep.resolution_median_ms)}
            </dd>
        </dl>
        <BarChart title=r.per_day bars=days name="per-day" />
        <BarChart title=r.ratings bars=ratings name="ratings" />
        <h3>{r.per_agent}</h3>
        <BarChart title=r.first_response_median bars=agents_chart name="agents" />
        <table class="report-agents">
            <thead>
                <tr>
                    <th>{r.agent}</th>
                    <th>{r.conversations}</th>
                    <th>{r.first_response_median}</th>
                    <th>{r.rating_average}</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
