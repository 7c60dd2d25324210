//! The chat's code and style under `/pkg`: served precompressed (brotli or
//! gzip, whichever the browser accepts; files made at build time by
//! `scripts/precompress.sh`), with `Last-Modified`, so a browser that has a
//! file revalidates it (a `304`, no body) instead of downloading it again.
//!
//! The names do not change with the content yet, so the files are not
//! cached as immutable: `Cache-Control: no-cache` makes every use
//! revalidate.

use axum::http::{header, HeaderValue};
use leptos::prelude::LeptosOptions;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeader;

/// What `/pkg` is served by.
pub type PkgService = SetResponseHeader<SetResponseHeader<ServeDir, HeaderValue>, HeaderValue>;

/// The service for the site's `pkg` folder (`site_root/site_pkg_dir`).
pub fn pkg(options: &LeptosOptions) -> PkgService {
    let dir = std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    let files = ServeDir::new(dir).precompressed_br().precompressed_gzip();
    let revalidate = SetResponseHeader::if_not_present(
        files,
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    // The same path answers in several encodings: caches must keep them apart.
    SetResponseHeader::if_not_present(
        revalidate,
        header::VARY,
        HeaderValue::from_static("accept-encoding"),
    )
}

/// What `/embed.js` is served by.
pub type EmbedService =
    SetResponseHeader<SetResponseHeader<tower_http::services::ServeFile, HeaderValue>, HeaderValue>;

/// The script customers' pages load (`site_root/embed.js`, from
/// `public/`): precompressed like `/pkg`, and revalidated on every use, as
/// its name must stay the same for every site that pasted the snippet.
pub fn embed_js(options: &LeptosOptions) -> EmbedService {
    let file = std::path::Path::new(options.site_root.as_ref()).join("embed.js");
    let served = tower_http::services::ServeFile::new(file)
        .precompressed_br()
        .precompressed_gzip();
    let revalidate = SetResponseHeader::overriding(
        served,
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    SetResponseHeader::overriding(
        revalidate,
        header::VARY,
        HeaderValue::from_static("accept-encoding"),
    )
}
