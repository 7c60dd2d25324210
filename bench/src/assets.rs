//! The assets scenario: what the browser downloads. Every file in
//! `<site>/pkg` (raw, gzip, and on the wire), each page with what it loads
//! at once, `embed.js` and what the snippet adds to a customer's page with
//! the chat closed, and the opened widget (`/widget`, the page customers'
//! sites frame) response by response.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::procs;
use super::report::Record;

/// Issue 12's budget for the opened widget on the wire, KiB.
pub const OPENED_WIDGET_GOAL_KIB: f64 = 150.0;
/// Targets of the opened widget's rows start with this.
pub const OPENED: &str = "opened widget";
/// Targets of the snippet's rows start with this.
pub const SNIPPET: &str = "snippet";

/// Raw and gzipped size of every file in `<site>/pkg`, and of the pages
/// `/widget` and `/` with everything under /pkg/ they load; with a server,
/// also the bytes each takes on the wire (`Accept-Encoding: gzip, deflate,
/// br`, headers included), as a first visit downloads them.
pub async fn assets(site: &Path, kefu: Option<SocketAddr>) -> Result<Vec<Record>> {
    let pkg = site.join("pkg");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&pkg)
        .with_context(|| format!("reading {} (run `make build`)", pkg.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        // Precompressed copies (`scripts/precompress.sh`) are encodings of
        // the files beside them, not assets of their own.
        .filter(|p| !p.extension().is_some_and(|e| e == "br" || e == "gz"))
        .collect();
    files.sort();
    let mut records = Vec::new();
    let mut gz_of: HashMap<String, (f64, f64)> = HashMap::new();
    for file in files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let data = std::fs::read(&file)?;
        let gz = procs::gzip_size(&data).map(|g| g as f64 / 1024.0);
        let mut r = Record::new("assets", &format!("pkg/{name}"));
        r.set("raw_kib", data.len() as f64 / 1024.0);
        r.set("gzip_kib", gz.unwrap_or(f64::NAN));
        gz_of.insert(name, (data.len() as f64 / 1024.0, gz.unwrap_or(f64::NAN)));
        records.push(r);
    }
    let Some(addr) = kefu else {
        return Ok(records);
    };
    let mut wire_of: HashMap<String, f64> = HashMap::new();
    for r in &mut records {
        let name = r.target.trim_start_matches("pkg/").to_owned();
        let wire = procs::transferred(addr, &format!("/pkg/{name}")).await? as f64 / 1024.0;
        r.set("wire_kib", wire);
        wire_of.insert(name, wire);
    }
    for page in ["/widget", "/"] {
        let page_wire = procs::transferred(addr, page).await? as f64 / 1024.0;
        let response = procs::http(addr, "GET", page, None, None).await?;
        let html = response.body;
        let mut r = Record::new("assets", &format!("page {page}"));
        let html_gz = procs::gzip_size(&html).map_or(f64::NAN, |g| g as f64 / 1024.0);
        r.set("html_raw_kib", html.len() as f64 / 1024.0);
        r.set("html_gzip_kib", html_gz);
        let text = String::from_utf8_lossy(&html);
        let loaded = loaded_up_front(&text);
        let sum = |names: &[String]| {
            names.iter().filter_map(|n| gz_of.get(n)).fold(
                (html.len() as f64 / 1024.0, html_gz),
                |(raw, gz), (a, b)| (raw + a, gz + b),
            )
        };
        let wire =
            |names: &[String]| page_wire + names.iter().filter_map(|n| wire_of.get(n)).sum::<f64>();
        let (raw, gz) = sum(&loaded);
        r.set("total_raw_kib", raw);
        r.set("total_gzip_kib", gz);
        r.set("total_wire_kib", wire(&loaded));
        r.note(format!("loads up front: /pkg/{}", loaded.join(", /pkg/")));
        if page == "/" {
            r.goal(
                "<= 30 KiB gzipped for a page with the widget closed",
                gz.is_finite().then_some(gz <= 30.0),
            );
            records.push(r);
            records.extend(snippet(site, addr).await?);
        } else {
            records.push(r);
            let mut others = Vec::new();
            for path in other_up_front(&text) {
                let wire = procs::transferred(addr, &path).await? as f64 / 1024.0;
                others.push((path, wire));
            }
            records.extend(opened_widget(page_wire, &loaded, &others, &gz_of, &wire_of));
        }
    }
    Ok(records)
}

/// `embed.js` (raw, gzip, on the wire) and what the snippet adds to a
/// customer's page while the chat is closed: the script and the launcher's
/// settings (`/embed/config`); opening the chat adds the opened widget.
async fn snippet(site: &Path, addr: SocketAddr) -> Result<Vec<Record>> {
    let script = std::fs::read(site.join("embed.js"))
        .with_context(|| format!("reading {}/embed.js (run `make build`)", site.display()))?;
    let script_wire = procs::transferred(addr, "/embed.js").await? as f64 / 1024.0;
    let config_wire = procs::transferred(addr, "/embed/config").await? as f64 / 1024.0;
    let gz = procs::gzip_size(&script).map_or(f64::NAN, |g| g as f64 / 1024.0);
    let mut js = Record::new("assets", &format!("{SNIPPET}: /embed.js"));
    js.set("raw_kib", script.len() as f64 / 1024.0);
    js.set("gzip_kib", gz);
    js.set("wire_kib", script_wire);
    js.goal(
        "<= 4 KiB gzipped (issue 12)",
        gz.is_finite().then_some(gz <= 4.0),
    );
    let mut closed = Record::new(
        "assets",
        &format!("{SNIPPET}: added to a page, chat closed"),
    );
    closed.set("wire_kib", script_wire + config_wire);
    closed.note("embed.js and /embed/config: no wasm until the visitor opens the chat");
    Ok(vec![js, closed])
}

/// The `/widget` page response by response (HTML, then each /pkg/ file),
/// and their total against issue 12's budget.
fn opened_widget(
    html_wire: f64,
    loaded: &[String],
    others: &[(String, f64)],
    gz_of: &HashMap<String, (f64, f64)>,
    wire_of: &HashMap<String, f64>,
) -> Vec<Record> {
    let mut rows = Vec::new();
    let mut html = Record::new("assets", &format!("{OPENED}: /widget (HTML)"));
    html.set("wire_kib", html_wire);
    rows.push(html);
    let mut total = html_wire;
    for name in loaded {
        let mut r = Record::new("assets", &format!("{OPENED}: /pkg/{name}"));
        if let Some((raw, _)) = gz_of.get(name) {
            r.set("raw_kib", *raw);
        }
        let wire = wire_of.get(name).copied().unwrap_or(f64::NAN);
        r.set("wire_kib", wire);
        total += wire;
        rows.push(r);
    }
    for (path, wire) in others {
        let mut r = Record::new("assets", &format!("{OPENED}: {path}"));
        r.set("wire_kib", *wire);
        total += wire;
        rows.push(r);
    }
    let mut t = Record::new("assets", &format!("{OPENED}: total"));
    t.set("wire_kib", total);
    t.goal(
        "<= 150 KiB on the wire (issue 12; Chatwoot's widget: 170 KiB)",
        total.is_finite().then_some(total <= OPENED_WIDGET_GOAL_KIB),
    );
    t.note(
        "every HTTP response the page loads, headers included, Accept-Encoding: gzip, deflate, br",
    );
    rows.push(t);
    rows
}

/// What the browser fetches up front: `href`/`src` attributes naming
/// /pkg/ files (stylesheet, module preload, wasm preload). Paths named
/// inside an inline script (the launcher's lazy import) do not count.
fn loaded_up_front(html: &str) -> Vec<String> {
    let mut loaded: Vec<String> = ["href=\"/pkg/", "src=\"/pkg/"]
        .iter()
        .flat_map(|attr| html.match_indices(attr).map(|(i, _)| i + attr.len()))
        .map(|start| {
            html[start..]
                .chars()
                .take_while(|c| !matches!(c, '"' | '?' | '#'))
                .collect::<String>()
        })
        .filter(|n| !n.is_empty())
        .collect();
    loaded.sort();
    loaded.dedup();
    loaded
}

/// What else the browser fetches up front from the server: stylesheets
/// outside /pkg/ (the brand colour's `/theme.css?c=…`).
fn other_up_front(html: &str) -> Vec<String> {
    let attr = "href=\"/";
    html.match_indices(attr)
        .map(|(i, _)| &html[i + attr.len() - 1..])
        .map(|rest| rest.chars().take_while(|c| *c != '"').collect::<String>())
        .filter(|path| !path.starts_with("/pkg/") && path.len() > 1)
        .map(|path| path.replace("&amp;", "&"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_a_page_loads_up_front() {
        let html = r#"<link rel="modulepreload" href="/pkg/widget.A.js"><link rel="preload" href="/pkg/widget.B.wasm"><link rel="stylesheet" href="/pkg/kefu.C.css"><link rel="stylesheet" href="/theme.css?c=2563eb"><script src="/embed.js" async></script>"#;
        assert_eq!(
            loaded_up_front(html),
            ["kefu.C.css", "widget.A.js", "widget.B.wasm"]
        );
        assert_eq!(other_up_front(html), ["/theme.css?c=2563eb"]);
    }
}
