//! Figures: percentiles, the table on stdout, one JSON line per result in
//! `<out>/<date>.jsonl`, and a hand-made SVG of latency against load.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use anyhow::Result;
use serde::Serialize;

/// Latency summary, in milliseconds.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Latency {
    pub count: usize,
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Latency {
    /// From samples in microseconds (sorted in place).
    pub fn of_us(samples: &mut [u32]) -> Self {
        samples.sort_unstable();
        let at = |q: f64| -> f64 {
            if samples.is_empty() {
                return f64::NAN;
            }
            let i = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1;
            f64::from(samples[i]) / 1000.0
        };
        Self {
            count: samples.len(),
            p50: at(0.50),
            p99: at(0.99),
            p999: at(0.999),
            max: samples.last().map_or(f64::NAN, |m| f64::from(*m) / 1000.0),
        }
    }
}

/// One measured result: a scenario on one target (`kefu`, `relay`) or a
/// comparison (`kefu/relay`).
#[derive(Clone, Debug, Serialize)]
pub struct Record {
    pub scenario: String,
    pub target: String,
    /// What was asked for (sizes, rates, durations).
    pub params: BTreeMap<String, f64>,
    /// What was measured. Units are in the names (`_ms`, `_kib`, `_per_s`, …).
    pub figures: BTreeMap<String, f64>,
    /// The goal, in words, if the scenario has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub met: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Record {
    pub fn new(scenario: &str, target: &str) -> Self {
        Self {
            scenario: scenario.to_owned(),
            target: target.to_owned(),
            params: BTreeMap::new(),
            figures: BTreeMap::new(),
            goal: None,
            met: None,
            notes: Vec::new(),
        }
    }

    pub fn param(mut self, key: &str, value: f64) -> Self {
        self.params.insert(key.to_owned(), value);
        self
    }

    pub fn set(&mut self, key: &str, value: f64) {
        self.figures.insert(key.to_owned(), value);
    }

    pub fn get(&self, key: &str) -> Option<f64> {
        self.figures.get(key).copied().filter(|v| v.is_finite())
    }

    pub fn goal(&mut self, goal: &str, met: Option<bool>) {
        self.goal = Some(goal.to_owned());
        self.met = met;
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }
}

/// A number for the table: few significant digits, `-` when unknown.
pub fn num(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if !v.is_finite() => "-".into(),
        Some(0.0) => "0".into(),
        Some(v) if v.abs() >= 1000.0 => format!("{:.0}", v),
        Some(v) if v.abs() >= 100.0 => format!("{:.1}", v),
        Some(v) if v.abs() >= 1.0 => format!("{:.2}", v),
        Some(v) => format!("{:.3}", v),
    }
}

/// Prints records as an aligned table: one row per record, the given figure columns.
pub fn table(title: &str, records: &[&Record], columns: &[(&str, &str)]) -> String {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut header = vec!["target".to_owned()];
    header.extend(columns.iter().map(|(_, label)| (*label).to_owned()));
    rows.push(header);
    for r in records {
        let mut row = vec![r.target.clone()];
        row.extend(columns.iter().map(|(key, _)| num(r.get(key))));
        rows.push(row);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = format!("\n== {title}\n");
    for (i, row) in rows.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (cell, w))| {
                if c == 0 {
                    format!("{cell:<w$}")
                } else {
                    format!("{cell:>w$}")
                }
            })
            .collect();
        let _ = writeln!(out, "  {}", cells.join("  "));
        if i == 0 {
            let total: usize = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
            let _ = writeln!(out, "  {}", "-".repeat(total));
        }
    }
    for r in records {
        if let Some(goal) = &r.goal {
            let verdict = match r.met {
                Some(true) => "MET",
                Some(false) => "NOT MET",
                None => "n/a",
            };
            let _ = writeln!(out, "  goal ({}): {goal} -> {verdict}", r.target);
        }
        for note in &r.notes {
            let _ = writeln!(out, "  note ({}): {note}", r.target);
        }
    }
    out
}

/// The kefu/relay ratio of every figure both records have.
pub fn ratio(kefu: &Record, relay: &Record) -> Record {
    let mut r = Record::new(&kefu.scenario, "kefu/relay");
    for (key, k) in &kefu.figures {
        if let Some(b) = relay.get(key) {
            if b != 0.0 && k.is_finite() {
                r.set(key, k / b);
            }
        }
    }
    r
}

/// Today's date (UTC), YYYY-MM-DD, from the system clock.
pub fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 → (year, month, day) (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Appends one JSON line per record to `<dir>/<date>.jsonl`, each with the
/// run's context (`run`) and kefu's database (`db`, from `run.db`).
pub fn append_jsonl(dir: &Path, run: &serde_json::Value, records: &[Record]) -> Result<String> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("{}.jsonl", today()));
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?;
    for record in records {
        let mut line = serde_json::to_value(record)?;
        if let Some(obj) = line.as_object_mut() {
            if let Some(db) = run.get("db") {
                obj.insert("db".into(), db.clone());
            }
            obj.insert("run".into(), run.clone());
        }
        writeln!(file, "{line}")?;
    }
    Ok(path.display().to_string())
}

/// One curve of the chart: (offered msgs/s, latency ms) points.
pub struct Curve {
    pub label: String,
    pub color: &'static str,
    pub dashed: bool,
    pub points: Vec<(f64, f64)>,
}

/// A log-log chart of latency against offered load, with the 100 ms line.
pub fn svg(title: &str, curves: &[Curve]) -> String {
    let (w, h) = (760.0, 440.0);
    let (left, right, top, bottom) = (70.0, 190.0, 40.0, 50.0);
    let pw = w - left - right;
    let ph = h - top - bottom;
    let all: Vec<(f64, f64)> = curves
        .iter()
        .flat_map(|c| c.points.iter().copied())
        .filter(|(x, y)| *x > 0.0 && *y > 0.0 && y.is_finite())
        .collect();
    let x_lo = all.iter().map(|p| p.0).fold(f64::MAX, f64::min).min(1000.0);
    let x_hi = all.iter().map(|p| p.0).fold(0.0, f64::max).max(x_lo * 10.0);
    let y_lo = all.iter().map(|p| p.1).fold(f64::MAX, f64::min).min(0.1);
    let y_hi = all.iter().map(|p| p.1).fold(0.0, f64::max).max(200.0);
    let (lx0, lx1) = (x_lo.log10().floor(), x_hi.log10().ceil());
    let (ly0, ly1) = (y_lo.log10().floor(), y_hi.log10().ceil());
    let sx = |x: f64| left + (x.log10() - lx0) / (lx1 - lx0) * pw;
    let sy = |y: f64| top + ph - (y.log10() - ly0) / (ly1 - ly0) * ph;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" font-size="15" font-weight="bold">{}</text>"#,
        left,
        escape(title)
    );
    // Grid and axes.
    let mut e = lx0;
    while e <= lx1 {
        let x = sx(10f64.powf(e));
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            top + ph,
            top + ph + 16.0,
            human(10f64.powf(e))
        );
        e += 1.0;
    }
    let mut e = ly0;
    while e <= ly1 {
        let y = sy(10f64.powf(e));
        let _ = writeln!(
            s,
            r##"<line x1="{left}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            left + pw,
            left - 6.0,
            y + 4.0,
            human(10f64.powf(e))
        );
        e += 1.0;
    }
    let _ = writeln!(
        s,
        r##"<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>"##
    );
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">offered load, messages/s (log)</text>"#,
        left + pw / 2.0,
        h - 12.0
    );
    let _ = writeln!(
        s,
        r#"<text x="16" y="{:.1}" transform="rotate(-90 16 {:.1})" text-anchor="middle">latency, ms (log)</text>"#,
        top + ph / 2.0,
        top + ph / 2.0
    );
    // The 100 ms goal.
    let y100 = sy(100.0);
    let _ = writeln!(
        s,
        r##"<line x1="{left}" y1="{y100:.1}" x2="{:.1}" y2="{y100:.1}" stroke="#c00" stroke-dasharray="2,3"/><text x="{:.1}" y="{:.1}" fill="#c00">p99 limit 100 ms</text>"##,
        left + pw,
        left + 6.0,
        y100 - 4.0
    );
    for (i, c) in curves.iter().enumerate() {
        let pts: Vec<String> = c
            .points
            .iter()
            .filter(|(x, y)| *x > 0.0 && *y > 0.0 && y.is_finite())
            .map(|(x, y)| format!("{:.1},{:.1}", sx(*x), sy(*y)))
            .collect();
        let dash = if c.dashed {
            r#" stroke-dasharray="6,4""#
        } else {
            ""
        };
        let _ = writeln!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"{dash}/>"#,
            pts.join(" "),
            c.color
        );
        for p in &pts {
            let (x, y) = p.split_once(',').unwrap_or(("0", "0"));
            let _ = writeln!(s, r#"<circle cx="{x}" cy="{y}" r="3" fill="{}"/>"#, c.color);
        }
        let ly = top + 14.0 + 20.0 * i as f64;
        let lx = left + pw + 12.0;
        let _ = writeln!(
            s,
            r#"<line x1="{lx:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{}" stroke-width="2"{dash}/><text x="{:.1}" y="{:.1}">{}</text>"#,
            lx + 24.0,
            c.color,
            lx + 30.0,
            ly + 4.0,
            escape(&c.label)
        );
    }
    s.push_str("</svg>\n");
    s
}

fn human(v: f64) -> String {
    if v >= 1000.0 {
        format!("{}k", v / 1000.0)
    } else {
        format!("{v}")
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn percentiles() {
        let mut v: Vec<u32> = (1..=1000).map(|i| i * 1000).collect();
        let l = Latency::of_us(&mut v);
        assert_eq!(l.p50, 500.0);
        assert_eq!(l.p99, 990.0);
        assert_eq!(l.p999, 999.0);
        assert_eq!(l.max, 1000.0);
    }
}
