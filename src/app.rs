//! The HTML shells and the routes: `/` (a demo host page with the embed
//! snippet) and `/console`, in the [`App`] router hydrated by the full
//! bundle; `/widget` (the widget alone, for embedding in an iframe) has its
//! own shell and bundle (see [`visitor`]).

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

mod strings;
pub mod visitor;

use crate::console::ConsolePage;
use crate::i18n::Lang;
use strings::PageStrings;

/// The document around every page of the [`App`] router (server side).
///
/// The demo page `/` is a host page like any customer's: no wasm, only the
/// embed snippet (`public/embed.js`), which loads the chat in an iframe
/// when the visitor opens it.
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    use leptos_meta::MetaTags;
    let assets = visitor::asset_names(&options);
    let scripts = if lazy_page() {
        let nonce = leptos::nonce::use_nonce();
        view! { <script src="/embed.js" async nonce=nonce></script> }.into_any()
    } else {
        view! { <HydrationScripts options=options.clone() /> }.into_any()
    };
    view! {
        <!DOCTYPE html>
        <html lang=Lang::current().tag()>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options />
                {scripts}
                <link rel="stylesheet" id="kefu" href=assets.url(&assets.style) />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Whether this request's page is the demo host page (no hydration).
#[cfg(feature = "ssr")]
fn lazy_page() -> bool {
    use_context::<axum::http::request::Parts>().is_some_and(|parts| parts.uri.path() == "/")
}

/// The application: routes to the demo page and the console.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    #[cfg(feature = "ssr")]
    crate::server::edge::security::set_page_headers();
    view! {
        <Title text="kefu" />
        <Router>
            <Routes fallback=|| view! { <p class="not-found">{PageStrings::of(Lang::current()).not_found}</p> }>
                <Route path=path!("/") view=DemoPage />
                <Route path=path!("/console") view=ConsolePage />
            </Routes>
        </Router>
    }
}

/// A stand-in for a customer's website, with the embed snippet on it.
#[component]
fn DemoPage() -> impl IntoView {
    let s = PageStrings::of(Lang::current());
    view! {
        <main class="demo">
            <h1>{s.demo_title}</h1>
            <p>{s.demo_intro}</p>
            <p>{s.demo_agents} " " <a href="/console">"/console"</a></p>
        </main>
    }
}
