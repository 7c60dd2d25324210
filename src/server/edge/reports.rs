//! The admins' reports (issue 14): the server function behind the
//! console's reports page and `GET /console/reports.csv`, the same figures
//! as CSV. Both read one indexed range of conversations (the figures each
//! conversation got when it closed, `storage::Ratings::report_rows`) and
//! compute the rest in [`figures`].

pub mod figures;

use std::fmt::Write as _;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::error::{AppError, Invalid};
use crate::protocol::report::{Report, MAX_REPORT_DAYS};
use crate::protocol::AgentInfo;
use crate::server::storage::{now_ms, Storage};
use crate::server::{state, AppState};
use figures::{compute, parse_day, DAY_MS};

/// Days a report covers when no range is asked for (ending today, UTC).
pub const DEFAULT_DAYS: i64 = 30;

/// The day numbers of `from..=to`; empty ends default to the last
/// [`DEFAULT_DAYS`] days.
pub fn range(from: &str, to: &str) -> Result<(i64, i64), AppError> {
    let bad = || AppError::Invalid(Invalid::ReportRange);
    let day = |text: &str, default: i64| match text.trim() {
        "" => Ok(default),
        text => parse_day(text).ok_or_else(bad),
    };
    let today = now_ms().div_euclid(DAY_MS);
    let last = day(to, today)?;
    let first = day(from, last - (DEFAULT_DAYS - 1))?;
    if first > last || last - first >= MAX_REPORT_DAYS {
        return Err(bad());
    }
    Ok((first, last))
}

/// The report of `from..=to` (admins only).
pub async fn report_for(
    storage: &Storage,
    agent: &AgentInfo,
    from: &str,
    to: &str,
) -> Result<Report, AppError> {
    if !agent.is_admin {
        return Err(AppError::Forbidden);
    }
    let (first, last) = range(from, to)?;
    let rows = storage
        .report_rows(first * DAY_MS, (last + 1) * DAY_MS)
        .await?;
    Ok(compute(first, last, &rows))
}

/// See [`crate::api::load_report`].
pub async fn report(agent: &AgentInfo, from: &str, to: &str) -> Result<Report, AppError> {
    report_for(&state().storage, agent, from, to).await
}

/// The query of `GET /console/reports.csv`.
#[derive(Debug, Deserialize)]
pub struct CsvQuery {
    /// First day, `YYYY-MM-DD`.
    #[serde(default)]
    from: String,
    /// Last day, `YYYY-MM-DD`.
    #[serde(default)]
    to: String,
}

/// `GET /console/reports.csv?from=…&to=…`: the report as CSV, for signed-in
/// admins (401 signed out, 403 for other agents, 400 for a bad range).
pub async fn csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<CsvQuery>,
) -> Response {
    let agent =
        match super::auth::current_agent(&state.storage, &headers, &state.security.config.limits)
            .await
        {
            Ok(Some(agent)) => agent.info(),
            Ok(None) => return (StatusCode::UNAUTHORIZED, "unauthorized").into_response(),
            Err(e) => {
                tracing::error!(error = %e, "reading a session failed");
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
        };
    match report_for(&state.storage, &agent, &query.from, &query.to).await {
        Ok(report) => {
            let name = format!(
                "attachment; filename=\"kefu-report-{}-{}.csv\"",
                report.from, report.to
            );
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                    (header::CONTENT_DISPOSITION, name),
                    (header::CACHE_CONTROL, "no-store".to_owned()),
                ],
                csv_text(&report),
            )
                .into_response()
        }
        Err(e) => {
            let status = match e {
                AppError::Forbidden => StatusCode::FORBIDDEN,
                AppError::Invalid(_) => StatusCode::BAD_REQUEST,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            (status, e.code().name()).into_response()
        }
    }
}

/// The report as CSV, one figure a line: `figure,key,value` (durations in
/// milliseconds; empty value: no figure).
pub fn csv_text(r: &Report) -> String {
    let mut out = String::from("figure,key,value\n");
    let mut line = |figure: &str, key: &str, value: String| {
        let _ = writeln!(out, "{figure},{},{value}", field(key));
    };
    let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    line("from", "", r.from.clone());
    line("to", "", r.to.clone());
    line("conversations", "", r.conversations.to_string());
    line("offline", "", r.offline.to_string());
    line(
        "first_response_median_ms",
        "",
        opt(r.first_response_median_ms),
    );
    line("first_response_p90_ms", "", opt(r.first_response_p90_ms));
    line("resolution_median_ms", "", opt(r.resolution_median_ms));
    for d in &r.days {
        line("day_conversations", &d.day, d.conversations.to_string());
        line("day_offline", &d.day, d.offline.to_string());
    }
    for a in &r.agents {
        line("agent_conversations", &a.name, a.conversations.to_string());
        line(
            "agent_first_response_median_ms",
            &a.name,
            opt(a.first_response_median_ms),
        );
        line(
            "agent_rating_average",
            &a.name,
            a.rating_average
                .map(|v| format!("{v:.2}"))
                .unwrap_or_default(),
        );
        line("agent_rated", &a.name, a.rated.to_string());
    }
    for (i, n) in r.ratings.iter().enumerate() {
        line("ratings", &(i + 1).to_string(), n.to_string());
    }
    out
}

/// A CSV field: quoted when it holds a comma, quote or line break; a
/// leading `=`, `+`, `-` or `@` is prefixed with `'` so that spreadsheets
/// never run an agent's name as a formula.
fn field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}
