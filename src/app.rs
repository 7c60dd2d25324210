//! The HTML shell and the routes: `/` (a demo page with the widget),
//! `/widget` (the widget alone, for embedding in an iframe) and `/console`.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::console::ConsolePage;
use crate::widget::Widget;

/// The document around every page (server side).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The application: routes to the three pages.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    #[cfg(feature = "ssr")]
    crate::server::security::set_page_headers();
    view! {
        <Stylesheet id="kefu" href="/pkg/kefu.css" />
        <Title text="kefu" />
        <Router>
            <Routes fallback=|| view! { <p class="not-found">"Page not found."</p> }>
                <Route path=path!("/") view=DemoPage />
                <Route path=path!("/widget") view=Widget />
                <Route path=path!("/console") view=ConsolePage />
            </Routes>
        </Router>
    }
}

/// A stand-in for a customer's website, with the widget on it.
#[component]
fn DemoPage() -> impl IntoView {
    view! {
        <main class="demo">
            <h1>"Acme Widgets"</h1>
            <p>"This page stands in for your website. The chat button at the bottom right is kefu's widget: click it to talk to an agent."</p>
            <p>"Agents answer at " <a href="/console">"/console"</a> "."</p>
        </main>
        <Widget />
    }
}
