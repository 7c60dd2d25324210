//! The assets scenario's four tables: the built files, each page with what
//! it loads at once, the embed snippet, and the opened widget.

use std::path::Path;

use anyhow::Result;

use crate::assets;
use crate::report::Record;
use crate::scenarios::Side;

/// How sequence.rs prints a table: its title, its rows, and its columns
/// (a record's key and the column's heading).
type ShowTable<'a> = dyn Fn(&str, &[Record], &[(&str, &str)]) + 'a;

/// Measures the files and pages of `site` (served by `kefu`), prints their
/// tables with `show` and adds their records to `records`.
pub async fn asset_tables(
    site: &Path,
    kefu: &Side,
    show: &ShowTable<'_>,
    records: &mut Vec<Record>,
) -> Result<()> {
    let rs = assets::assets(site, Some(kefu.target.addr)).await?;
    let (files, rest): (Vec<Record>, Vec<Record>) =
        rs.into_iter().partition(|r| r.target.starts_with("pkg/"));
    let (opened, rest): (Vec<Record>, Vec<Record>) = rest
        .into_iter()
        .partition(|r| r.target.starts_with(assets::OPENED));
    let (snippet, pages): (Vec<Record>, Vec<Record>) = rest
        .into_iter()
        .partition(|r| r.target.starts_with(assets::SNIPPET));
    show(
        &format!("assets in {}", site.join("pkg").display()),
        &files,
        &[
            ("raw_kib", "raw KiB"),
            ("gzip_kib", "gzip -9 KiB"),
            ("wire_kib", "on the wire KiB"),
        ],
    );
    show(
        "pages: HTML plus every /pkg/ file it loads at once",
        &pages,
        &[
            ("html_raw_kib", "HTML KiB"),
            ("html_gzip_kib", "HTML gz KiB"),
            ("total_raw_kib", "total KiB"),
            ("total_gzip_kib", "total gz KiB"),
            ("total_wire_kib", "on the wire KiB"),
        ],
    );
    show(
        "the snippet on a customer's page (embed.js), chat closed",
        &snippet,
        &[
            ("raw_kib", "raw KiB"),
            ("gzip_kib", "gzip -9 KiB"),
            ("wire_kib", "on the wire KiB"),
        ],
    );
    show(
        "the opened widget (/widget, what customers' sites frame): every response",
        &opened,
        &[("raw_kib", "raw KiB"), ("wire_kib", "on the wire KiB")],
    );
    records.extend(files);
    records.extend(pages);
    records.extend(snippet);
    records.extend(opened);
    Ok(())
}
