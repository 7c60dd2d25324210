//! A small bar chart drawn as SVG: enough for the reports page, and no
//! chart library in the console's bundle (the visitor's never loads it).

use leptos::prelude::*;

/// One bar: its label, its value, and the part of it drawn darker.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Under the bar (and in its tooltip).
    pub label: String,
    /// Its height.
    pub value: f64,
    /// The part drawn darker (e.g. offline conversations of a day).
    pub part: f64,
    /// The value in words, for the tooltip and above the bar.
    pub text: String,
}

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 160.0;
const LABELS: f64 = 18.0;

/// A bar chart titled `title` (a `chart` in the page's test contract).
#[component]
pub fn BarChart(
    /// What it shows.
    title: &'static str,
    /// The bars, left to right.
    bars: Vec<Bar>,
    /// Name of the figure, for tests (`data-chart`).
    name: &'static str,
) -> impl IntoView {
    let max = bars.iter().map(|b| b.value).fold(0.0_f64, f64::max);
    let n = bars.len().max(1) as f64;
    let step = WIDTH / n;
    let width = (step * 0.8).max(1.0);
    // Labels under every bar when few, else under about ten.
    let every = (bars.len() / 10).max(1);
    let plot = HEIGHT - LABELS;
    let drawn = bars
        .into_iter()
        .enumerate()
        .map(|(i, bar)| {
            let x = i as f64 * step + (step - width) / 2.0;
            let scale = |v: f64| if max > 0.0 { v / max * (plot - 14.0) } else { 0.0 };
            let (h, dark) = (scale(bar.value), scale(bar.part.min(bar.value)));
            let tip = format!("{}: {}", bar.label, bar.text);
            let label = (i % every == 0).then(|| {
                view! {
                    <text x=x + width / 2.0 y=HEIGHT - 4.0 text-anchor="middle" class="chart-label">
                        {bar.label.clone()}
                    </text>
                }
            });
            let value = (bar.value > 0.0 && every == 1).then(|| {
                view! {
                    <text x=x + width / 2.0 y=plot - h - 3.0 text-anchor="middle" class="chart-value">
                        {bar.text.clone()}
                    </text>
                }
            });
            view! {
                <g data-label=bar.label.clone() data-value=bar.value.to_string()>
                    <title>{tip}</title>
                    <rect class="chart-bar" x=x y=plot - h width=width height=h></rect>
                    <rect class="chart-part" x=x y=plot - dark width=width height=dark></rect>
                    {value}
                    {label}
                </g>
            }
        })
        .collect_view();
    view! {
        <figure class="chart" data-testid="chart" data-chart=name>
            <figcaption>{title}</figcaption>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=title preserveAspectRatio="none">
                {drawn}
            </svg>
        </figure>
    }
}
