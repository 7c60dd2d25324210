//! A report's figures from its rows: counts per UTC day, nearest-rank
//! medians and 90th percentiles, per-agent figures and the ratings'
//! distribution. Pure: the rows come from storage, the answer goes to the
//! console and into the CSV.

use std::collections::BTreeMap;

use crate::protocol::report::{AgentFigures, DayFigures, Report};
use crate::server::storage::ReportRow;

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// The day number (days since 1970-01-01) of `YYYY-MM-DD`, if it is one.
pub fn parse_day(text: &str) -> Option<i64> {
    let mut parts = text.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || d < 1 || d > month_days(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// `YYYY-MM-DD` of a day number.
pub fn format_day(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

fn month_days(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's civil-calendar algorithms (public domain).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The nearest-rank `p`th percentile of `values` (sorted here).
pub fn percentile(values: &mut [i64], p: u32) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let rank = (values.len() * p as usize).div_ceil(100).max(1);
    values.get(rank - 1).copied()
}

/// The report of the days `first..=last` from the conversations started in them.
pub fn compute(first: i64, last: i64, rows: &[ReportRow]) -> Report {
    let mut days: Vec<DayFigures> = (first..=last)
        .map(|day| DayFigures {
            day: format_day(day),
            conversations: 0,
            offline: 0,
        })
        .collect();
    let mut first_responses = Vec::new();
    let mut resolutions = Vec::new();
    let mut ratings = [0u32; 5];
    #[derive(Default)]
    struct PerAgent {
        conversations: u32,
        first_responses: Vec<i64>,
        score_sum: i64,
        rated: u32,
    }
    let mut agents: BTreeMap<String, PerAgent> = BTreeMap::new();
    for row in rows {
        let index = row.created_at.div_euclid(DAY_MS) - first;
        if let Some(day) = usize::try_from(index).ok().and_then(|i| days.get_mut(i)) {
            day.conversations += 1;
            day.offline += u32::from(row.offline);
        }
        let score = row.score.filter(|s| (1..=5).contains(s));
        if let Some(s) = score {
            ratings[(s - 1) as usize] += 1;
        }
        let Some(closed_at) = row.closed_at else {
            continue;
        };
        resolutions.push(closed_at - row.created_at);
        if let Some(ms) = row.first_response_ms {
            first_responses.push(ms);
        }
        if let Some(name) = &row.agent_name {
            let agent = agents.entry(name.clone()).or_default();
            agent.conversations += 1;
            agent.first_responses.extend(row.first_response_ms);
            if let Some(s) = score {
                agent.score_sum += s;
                agent.rated += 1;
            }
        }
    }
    let conversations = days.iter().map(|d| d.conversations).sum();
    let offline = days.iter().map(|d| d.offline).sum();
    Report {
        from: format_day(first),
        to: format_day(last),
        days,
        conversations,
        offline,
        first_response_median_ms: percentile(&mut first_responses, 50),
        first_response_p90_ms: percentile(&mut first_responses, 90),
        resolution_median_ms: percentile(&mut resolutions, 50),
        agents: agents
            .into_iter()
            .map(|(name, mut a)| AgentFigures {
                name,
                conversations: a.conversations,
                first_response_median_ms: percentile(&mut a.first_responses, 50),
                rating_average: (a.rated > 0).then(|| a.score_sum as f64 / f64::from(a.rated)),
                rated: a.rated,
            })
            .collect(),
        ratings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_read_and_write_back() {
        assert_eq!(parse_day("1970-01-01"), Some(0));
        assert_eq!(
            parse_day("2026-12-05").map(format_day).as_deref(),
            Some("2026-12-05")
        );
        assert_eq!(
            parse_day("2024-02-29").map(format_day).as_deref(),
            Some("2024-02-29")
        );
        for bad in ["2023-02-29", "2026-13-01", "2026-00-10", "x", "2026-1", ""] {
            assert_eq!(parse_day(bad), None, "{bad}");
        }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut v: Vec<i64> = (1..=10).rev().collect();
        assert_eq!(percentile(&mut v, 50), Some(5));
        assert_eq!(percentile(&mut v, 90), Some(9));
        assert_eq!(percentile(&mut [7], 90), Some(7));
        assert_eq!(percentile(&mut [], 50), None);
    }
}
