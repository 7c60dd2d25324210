//! The chat's code and style under `/pkg`, `/embed.js`, and the names
//! pages load them by.
//!
//! Files are served precompressed (brotli or gzip, whichever the browser
//! accepts; made at build time by `scripts/precompress.sh`). The build puts
//! a hash of each bundle's content in its file names (`kefu.<hash>.wasm`,
//! `widget.<hash>.js`, ...) and lists them in the hash file beside the
//! binary (cargo-leptos' `hash.txt`, to which `scripts/widget-bundle.sh`
//! adds the visitor's bundle). A file named there never changes, so it is
//! cached as immutable for a year; any other file is revalidated on every use
//! (`no-cache`, answered by a `304` from its `Last-Modified`).

use std::path::Path;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use leptos::prelude::LeptosOptions;
use tower_http::services::{ServeDir, ServeFile};

/// `Cache-Control` of a file whose name changes with its content.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The file names of this build's bundles (inside the site's `pkg` folder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetNames {
    /// `/pkg`, as pages name it.
    pub pkg_path: String,
    /// The full app's script (console, demo page).
    pub app_js: String,
    /// The full app's wasm.
    pub app_wasm: String,
    /// The stylesheet of every page.
    pub style: String,
    /// The visitor's bundle's script (the `/widget` page); the full app's
    /// script when the build made no visitor's bundle (it can hydrate the
    /// widget too).
    pub widget_js: String,
    /// The visitor's bundle's wasm (or the full app's, as above).
    pub widget_wasm: String,
    /// The `/widget` page's stylesheet: the widget's part of the full one
    /// (`widget.<hash>.css`), or the full one when the build made none.
    pub widget_style: String,
    /// Whether the names carry hashes (and may be cached forever).
    pub hashed: bool,
}

impl AssetNames {
    /// The names of a build without hashes: `kefu.js`, `kefu.wasm`, `kefu.css`.
    pub fn unhashed(options: &LeptosOptions) -> Self {
        Self::parse(options, "")
    }

    /// The names the hash file's `text` gives (cargo-leptos' `js: <hash>`,
    /// `wasm: <hash>`, `css: <hash>` lines, and `widget.js: <hash>`,
    /// `widget.wasm: <hash>`, `widget.css: <hash>` from
    /// `scripts/widget-bundle.sh`).
    pub fn parse(options: &LeptosOptions, text: &str) -> Self {
        let hash_of = |key: &str| {
            text.lines()
                .filter_map(|line| line.split_once(':'))
                .find(|(k, _)| k.trim() == key)
                .map(|(_, hash)| hash.trim())
                .filter(|hash| !hash.is_empty())
        };
        let name = |stem: &str, key: &str, ext: &str| match hash_of(key) {
            Some(hash) => format!("{stem}.{hash}.{ext}"),
            None => format!("{stem}.{ext}"),
        };
        let out = options.output_name.as_ref();
        let app_js = name(out, "js", "js");
        let app_wasm = name(out, "wasm", "wasm");
        let (widget_js, widget_wasm) = match (hash_of("widget.js"), hash_of("widget.wasm")) {
            (Some(_), Some(_)) => (
                name("widget", "widget.js", "js"),
                name("widget", "widget.wasm", "wasm"),
            ),
            _ => (app_js.clone(), app_wasm.clone()),
        };
        let style = name(out, "css", "css");
        let widget_style = match hash_of("widget.css") {
            Some(_) => name("widget", "widget.css", "css"),
            None => style.clone(),
        };
        Self {
            pkg_path: format!("/{}", options.site_pkg_dir),
            style,
            widget_style,
            app_js,
            app_wasm,
            widget_js,
            widget_wasm,
            hashed: hash_of("js").is_some(),
        }
    }

    /// The names in the hash file that the build left beside the running
    /// binary (`options.hash_file`), or the unhashed names if there is none.
    pub fn beside_exe(options: &LeptosOptions) -> std::io::Result<Self> {
        let exe = std::env::current_exe()?;
        let file = exe
            .parent()
            .unwrap_or(Path::new("."))
            .join(options.hash_file.as_ref());
        match std::fs::read_to_string(&file) {
            Ok(text) => Ok(Self::parse(options, &text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::unhashed(options)),
            Err(e) => Err(e),
        }
    }

    /// `/pkg/<name>`.
    pub fn url(&self, name: &str) -> String {
        format!("{}/{name}", self.pkg_path)
    }

    /// Whether `name` is one of this build's hashed files.
    pub fn is_hashed(&self, name: &str) -> bool {
        self.hashed
            && [
                &self.app_js,
                &self.app_wasm,
                &self.style,
                &self.widget_js,
                &self.widget_wasm,
                &self.widget_style,
            ]
            .iter()
            .any(|n| n.as_str() == name)
    }
}

/// The service for the site's `pkg` folder (`site_root/site_pkg_dir`).
pub fn pkg(options: &LeptosOptions, names: &AssetNames) -> Router {
    let dir = Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    let files = ServeDir::new(dir).precompressed_br().precompressed_gzip();
    with_cache_headers(Router::new().fallback_service(files), Some(names.clone()))
}

/// The script customers' pages load (`site_root/embed.js`, from
/// `public/`): precompressed like `/pkg`, and revalidated on every use, as
/// its name must stay the same for every site that pasted the snippet.
pub fn embed_js(options: &LeptosOptions) -> Router {
    let file = Path::new(options.site_root.as_ref()).join("embed.js");
    let served = ServeFile::new(file).precompressed_br().precompressed_gzip();
    with_cache_headers(Router::new().fallback_service(served), None)
}

/// `router` with the cache headers of [`cache_headers`]; no name is
/// hashed without `names`.
fn with_cache_headers(router: Router, names: Option<AssetNames>) -> Router {
    let names = Arc::new(names);
    router.layer(axum::middleware::from_fn(
        move |req: Request, next: Next| {
            let names = names.clone();
            async move { cache_headers(names.as_ref().as_ref(), req, next).await }
        },
    ))
}

/// Adds `Cache-Control` (immutable for a hashed name that was found,
/// `no-cache` otherwise) and `Vary: Accept-Encoding`.
async fn cache_headers(names: Option<&AssetNames>, req: Request, next: Next) -> Response {
    let name = req.uri().path().rsplit('/').next().unwrap_or_default();
    let hashed = names.is_some_and(|n| n.is_hashed(name));
    let mut response = next.run(req).await;
    let found = response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED;
    let headers = response.headers_mut();
    let cache = if hashed && found {
        IMMUTABLE
    } else {
        "no-cache"
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    // The same path answers in several encodings: caches must keep them apart.
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> LeptosOptions {
        LeptosOptions::builder().output_name("kefu").build()
    }

    #[test]
    fn a_build_without_a_hash_file_uses_plain_names_and_the_full_bundle() {
        let names = AssetNames::unhashed(&options());
        assert_eq!(names.url(&names.app_js), "/pkg/kefu.js");
        assert_eq!(names.style, "kefu.css");
        assert_eq!(names.widget_wasm, "kefu.wasm");
        assert!(!names.hashed);
        assert!(!names.is_hashed("kefu.js"));
    }

    #[test]
    fn the_hash_file_names_both_bundles() {
        let text =
            "js: AAA\nwasm: BBB\ncss: CCC\nwidget.js: DDD\nwidget.wasm: EEE\nwidget.css: FFF\n";
        let names = AssetNames::parse(&options(), text);
        assert_eq!(names.app_js, "kefu.AAA.js");
        assert_eq!(names.app_wasm, "kefu.BBB.wasm");
        assert_eq!(names.style, "kefu.CCC.css");
        assert_eq!(names.widget_js, "widget.DDD.js");
        assert_eq!(names.widget_wasm, "widget.EEE.wasm");
        assert_eq!(names.widget_style, "widget.FFF.css");
        assert!(names.is_hashed("widget.EEE.wasm"));
        assert!(names.is_hashed("widget.FFF.css"));
        assert!(!names.is_hashed("favicon.ico"));
    }

    #[test]
    fn without_the_visitors_bundle_the_widget_loads_the_full_one() {
        let names = AssetNames::parse(&options(), "js: AAA\nwasm: BBB\ncss: CCC\n");
        assert_eq!(names.widget_js, "kefu.AAA.js");
        assert_eq!(names.widget_wasm, "kefu.BBB.wasm");
        assert_eq!(names.widget_style, "kefu.CCC.css");
    }
}
