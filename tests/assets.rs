#![cfg(feature = "ssr")]
//! The chat's code and style under `/pkg`: sent precompressed (brotli or
//! gzip, as the browser accepts), revalidated rather than downloaded again.
//! The files are compressed by the build's own script.
//!
//! Run with `cargo test --features ssr --test assets`.

use std::path::Path;

mod common;
use common::*;

/// A site root whose `pkg/` holds a wasm-sized file, precompressed by
/// `scripts/precompress.sh` as `make build` does.
fn built_site() -> tempfile::TempDir {
    let site = tempfile::tempdir().expect("a temporary directory");
    let pkg = site.path().join("pkg");
    std::fs::create_dir_all(&pkg).expect("pkg/");
    // Compressible like real code: repeated, varied text (about 300 KiB).
    let body: String = (0..6_000)
        .map(|i| format!("function f{i}(a, b) {{ return a * {i} + b; }}\n"))
        .collect();
    std::fs::write(pkg.join("kefu.wasm"), &body).expect("kefu.wasm");
    std::fs::write(pkg.join("kefu.js"), &body[..4_000]).expect("kefu.js");
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

#[tokio::test]
async fn the_chats_code_is_sent_precompressed_and_revalidated_not_downloaded_again() {
    let site = built_site();
    let pkg = site.path().join("pkg");
    let server = start_with(Setup {
        site_root: Some(site.path().to_path_buf()),
        ..Setup::default()
    })
    .await;
    let get = |accept: &'static str| {
        let addr = server.addr;
        async move {
            let headers: Vec<(&str, &str)> = match accept {
                "" => vec![],
                accept => vec![("Accept-Encoding", accept)],
            };
            http_request(addr, None, "GET", "/pkg/kefu.wasm", &headers, "").await
        }
    };

    let br = get("gzip, deflate, br").await;
    assert_eq!(br.status, 200, "{br:?}");
    assert_eq!(br.header("content-encoding"), Some("br"));
    let br_len = size(&pkg.join("kefu.wasm.br"));
    assert_eq!(
        br.header("content-length"),
        Some(br_len.to_string().as_str())
    );
    assert!(
        br_len * 4 < size(&pkg.join("kefu.wasm")),
        "brotli sends under a quarter of the bytes"
    );
    assert_eq!(br.header("content-type"), Some("application/wasm"));
    assert_eq!(br.header("cache-control"), Some("no-cache"));
    assert!(
        br.header("vary")
            .is_some_and(|v| v.to_ascii_lowercase().contains("accept-encoding")),
        "caches must key on the encoding: {br:?}"
    );

    let gzip = get("gzip").await;
    assert_eq!(gzip.header("content-encoding"), Some("gzip"));
    let gz_len = size(&pkg.join("kefu.wasm.gz")).to_string();
    assert_eq!(gzip.header("content-length"), Some(gz_len.as_str()));

    let plain = get("").await;
    assert_eq!(plain.header("content-encoding"), None);
    let raw_len = size(&pkg.join("kefu.wasm")).to_string();
    assert_eq!(plain.header("content-length"), Some(raw_len.as_str()));

    // A browser that has the file asks whether it changed: it did not.
    let modified = br.header("last-modified").expect("Last-Modified is sent");
    let again = http_request(
        server.addr,
        None,
        "GET",
        "/pkg/kefu.wasm",
        &[("Accept-Encoding", "br"), ("If-Modified-Since", modified)],
        "",
    )
    .await;
    assert_eq!(again.status, 304, "{again:?}");
    assert!(again.body.is_empty());
}
