#![cfg(feature = "ssr")]
//! The chat's code and style under `/pkg`: sent precompressed (brotli or
//! gzip, as the browser accepts); files whose names carry a hash of their
//! content cached as immutable, any other revalidated; and the `/widget`
//! page loading the visitor's bundle by those names, never the console's.
//! The files are compressed by the build's own script.
//!
//! Run with `cargo test --features ssr --test assets`.

use std::path::Path;

use kefu::server::edge::assets::{AssetNames, IMMUTABLE};

mod common;
use common::*;

/// What the build's hash file says (cargo-leptos' lines, then
/// `scripts/widget-bundle.sh`'s).
const HASHES: &str = "js: AppJsHash\nwasm: AppWasmHash\ncss: StyleHash\n\
                      widget.js: WidgetJsHash\nwidget.wasm: WidgetWasmHash\n";
const WIDGET_WASM: &str = "widget.WidgetWasmHash.wasm";

/// A site root whose `pkg/` holds the files `HASHES` names (the visitor's
/// wasm about 300 KiB), one file without a hash, all precompressed by
/// `scripts/precompress.sh` as `make build` does.
fn built_site() -> tempfile::TempDir {
    let site = tempfile::tempdir().expect("a temporary directory");
    let pkg = site.path().join("pkg");
    std::fs::create_dir_all(&pkg).expect("pkg/");
    // Compressible like real code: repeated, varied text.
    let body: String = (0..6_000)
        .map(|i| format!("function f{i}(a, b) {{ return a * {i} + b; }}\n"))
        .collect();
    std::fs::write(pkg.join(WIDGET_WASM), &body).expect("widget wasm");
    for (name, len) in [
        ("widget.WidgetJsHash.js", 4_000),
        ("kefu.AppWasmHash.wasm", 40_000),
        ("kefu.AppJsHash.js", 4_000),
        ("kefu.StyleHash.css", 2_000),
        ("unhashed.js", 4_000),
    ] {
        std::fs::write(pkg.join(name), &body[..len]).expect(name);
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/precompress.sh");
    let status = std::process::Command::new(script)
        .arg(&pkg)
        .status()
        .expect("scripts/precompress.sh runs (brotli and gzip installed by scripts/setup.sh)");
    assert!(status.success(), "precompress.sh failed");
    site
}

fn size(path: &Path) -> usize {
    std::fs::metadata(path).expect("the file exists").len() as usize
}

async fn start_site(site: &tempfile::TempDir) -> Server {
    let options = leptos::prelude::LeptosOptions::builder()
        .output_name("kefu")
        .build();
    start_with(Setup {
        site_root: Some(site.path().to_path_buf()),
        assets: Some(AssetNames::parse(&options, HASHES)),
        ..Setup::default()
    })
    .await
}

#[tokio::test]
async fn hashed_code_is_sent_precompressed_and_cached_as_immutable() {
    let site = built_site();
    let pkg = site.path().join("pkg");
    let server = start_site(&site).await;
    let path = format!("/pkg/{WIDGET_WASM}");
    let get = |accept: &'static str| {
        let (addr, path) = (server.addr, path.clone());
        async move {
            let headers: Vec<(&str, &str)> = match accept {
                "" => vec![],
                accept => vec![("Accept-Encoding", accept)],
            };
            http_request(addr, None, "GET", &path, &headers, "").await
        }
    };

    let br = get("gzip, deflate, br").await;
    assert_eq!(br.status, 200, "{br:?}");
    assert_eq!(br.header("content-encoding"), Some("br"));
    let br_len = size(&pkg.join(format!("{WIDGET_WASM}.br")));
    assert_eq!(
        br.header("content-length"),
        Some(br_len.to_string().as_str())
    );
    assert!(
        br_len * 4 < size(&pkg.join(WIDGET_WASM)),
        "brotli sends under a quarter of the bytes"
    );
    assert_eq!(br.header("content-type"), Some("application/wasm"));
    assert_eq!(br.header("cache-control"), Some(IMMUTABLE));
    assert!(
        br.header("vary")
            .is_some_and(|v| v.to_ascii_lowercase().contains("accept-encoding")),
        "caches must key on the encoding: {br:?}"
    );

    let gzip = get("gzip").await;
    assert_eq!(gzip.header("content-encoding"), Some("gzip"));
    let gz_len = size(&pkg.join(format!("{WIDGET_WASM}.gz"))).to_string();
    assert_eq!(gzip.header("content-length"), Some(gz_len.as_str()));
    assert_eq!(gzip.header("cache-control"), Some(IMMUTABLE));

    let plain = get("").await;
    assert_eq!(plain.header("content-encoding"), None);
    let raw_len = size(&pkg.join(WIDGET_WASM)).to_string();
    assert_eq!(plain.header("content-length"), Some(raw_len.as_str()));

    for name in ["kefu.AppJsHash.js", "kefu.StyleHash.css"] {
        let hashed = server.get(&format!("/pkg/{name}")).await;
        assert_eq!(hashed.status, 200, "{name}: {hashed:?}");
        assert_eq!(hashed.header("cache-control"), Some(IMMUTABLE), "{name}");
    }
    // A name the hash file does not give is not promised never to change,
    // nor is a missing file.
    let missing = server.get("/pkg/widget.NoSuchHash.wasm").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("cache-control"), Some("no-cache"));
}

#[tokio::test]
async fn an_unhashed_file_is_revalidated_not_downloaded_again() {
    let site = built_site();
    let server = start_site(&site).await;
    let first = http_request(
        server.addr,
        None,
        "GET",
        "/pkg/unhashed.js",
        &[("Accept-Encoding", "br")],
        "",
    )
    .await;
    assert_eq!(first.status, 200, "{first:?}");
    assert_eq!(first.header("content-encoding"), Some("br"));
    assert_eq!(first.header("cache-control"), Some("no-cache"));

    // A browser that has the file asks whether it changed: it did not.
    let modified = first
        .header("last-modified")
        .expect("Last-Modified is sent");
    let again = http_request(
        server.addr,
        None,
        "GET",
        "/pkg/unhashed.js",
        &[("Accept-Encoding", "br"), ("If-Modified-Since", modified)],
        "",
    )
    .await;
    assert_eq!(again.status, 304, "{again:?}");
    assert!(again.body.is_empty());
}

#[tokio::test]
async fn the_widget_page_loads_the_visitors_bundle_by_its_hashed_names() {
    let site = built_site();
    let server = start_site(&site).await;
    let page = server.get("/widget").await;
    assert_eq!(page.status, 200, "{page:?}");
    let html = &page.body;
    for name in ["widget.WidgetJsHash.js", WIDGET_WASM, "kefu.StyleHash.css"] {
        assert!(html.contains(&format!("/pkg/{name}")), "{name}: {html}");
    }
    assert!(
        !html.contains("kefu.AppJsHash") && !html.contains("kefu.AppWasmHash"),
        "the visitor's page never loads the full bundle (the console): {html}"
    );
    // Its boot script runs under the page's CSP, by this response's nonce.
    let csp = page
        .header("content-security-policy")
        .expect("the widget has a CSP");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("the CSP names a nonce");
    assert!(
        html.contains(&format!(
            "<script type=\"module\" nonce=\"{nonce}\">import init, {{ hydrate_widget }}"
        )),
        "{html}"
    );

    // The demo page is a host page: the snippet under the page's nonce, no wasm.
    let demo = server.get("/").await;
    assert!(
        demo.body.contains("<script src=\"/embed.js\" async nonce="),
        "{demo:?}"
    );
    assert!(
        !demo.body.contains("AppJsHash") && !demo.body.contains("AppWasmHash"),
        "{demo:?}"
    );
    assert!(demo.body.contains("/pkg/kefu.StyleHash.css"), "{demo:?}");
}
