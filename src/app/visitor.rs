//! The `/widget` page (what customers' sites show in an iframe): its own
//! shell, outside the [`super::App`] router, hydrated by the visitor's
//! bundle (`widget.*`, entry point `hydrate_widget`), which therefore links
//! neither the router nor the console.

use leptos::prelude::*;

use crate::widget::Widget;

/// The `/widget` document (server side): the same `<html lang>`, headers
/// (CSP with this response's nonce) and title as the other pages, the
/// widget's part of the stylesheet, and a module script that loads the
/// visitor's bundle and hydrates the body, [`WidgetRoot`].
#[cfg(feature = "ssr")]
pub fn widget_shell(options: LeptosOptions) -> impl IntoView {
    use crate::i18n::Lang;
    crate::server::edge::security::set_page_headers();
    let assets = asset_names(&options);
    let js = assets.url(&assets.widget_js);
    let wasm = assets.url(&assets.widget_wasm);
    let boot = format!(
        "import init, {{ hydrate_widget }} from {js:?};\n\
         init({{ module_or_path: {wasm:?} }}).then(hydrate_widget);"
    );
    let nonce = leptos::nonce::use_nonce();
    view! {
        <!DOCTYPE html>
        <html lang=Lang::current().tag()>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options />
                <link rel="modulepreload" href=js crossorigin="anonymous" />
                <link rel="preload" href=wasm r#as="fetch" r#type="application/wasm" crossorigin="anonymous" />
                <script type="module" nonce=nonce>{boot}</script>
                <link rel="stylesheet" id="kefu" href=assets.url(&assets.widget_style) />
                <title>"kefu"</title>
            </head>
            <body>
                <WidgetRoot />
            </body>
        </html>
    }
}

/// The body of the `/widget` page, rendered by the server and hydrated by
/// `hydrate_widget`.
#[component]
pub fn WidgetRoot() -> impl IntoView {
    view! { <Widget /> }
}

/// The bundles' names of this server (from its state; plain names when
/// rendered without one).
#[cfg(feature = "ssr")]
pub(super) fn asset_names(options: &LeptosOptions) -> crate::server::edge::assets::AssetNames {
    use_context::<crate::server::AppState>()
        .map(|state| state.assets)
        .unwrap_or_else(|| crate::server::edge::assets::AssetNames::unhashed(options))
}
