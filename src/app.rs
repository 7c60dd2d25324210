//! The HTML shell and the routes: `/` (a demo host page with the embed snippet),
//! `/widget` (the widget alone, for embedding in an iframe) and `/console`.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

mod strings;

use crate::console::ConsolePage;
use crate::i18n::Lang;
use crate::widget::Widget;
use strings::PageStrings;

/// The document around every page (server side).
///
/// The demo page `/` is a host page like any customer's: no wasm, only the
/// embed snippet (`public/embed.js`), which loads the chat in an iframe
/// when the visitor opens it.
pub fn shell(options: LeptosOptions) -> impl IntoView {
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

#[cfg(not(feature = "ssr"))]
fn lazy_page() -> bool {
    false
}

/// The application: routes to the three pages.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    #[cfg(feature = "ssr")]
    crate::server::edge::security::set_page_headers();
    view! {
        <Stylesheet id="kefu" href="/pkg/kefu.css" />
        <Title text="kefu" />
        <Router>
            <Routes fallback=|| view! { <p class="not-found">{PageStrings::of(Lang::current()).not_found}</p> }>
                <Route path=path!("/") view=DemoPage />
                <Route path=path!("/widget") view=Widget />
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
