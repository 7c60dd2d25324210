//! Every route of the binary (ssr only): the Leptos pages and server
//! functions of [`crate::app`], the WebSocket endpoints and middleware of
//! [`crate::server::edge`], and static files. It sits above both, so the
//! server never imports the UI.

use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use leptos_axum::{generate_route_list, LeptosRoutes};

use crate::app::visitor::widget_shell;
use crate::app::{shell, App};
use crate::server::edge::{assets, ops, reports, security, settings, trace, ws};
use crate::server::AppState;

/// `/widget`, rendered from its own shell with the state in context (for
/// the page's headers and the server functions its resources call).
async fn widget_page(State(state): State<AppState>, req: Request) -> Response {
    let options = state.leptos_options.clone();
    let render = leptos_axum::render_app_to_stream_with_context(
        move || leptos::prelude::provide_context(state.clone()),
        move || widget_shell(options.clone()),
    );
    render(req).await
}

/// The router for `state`.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    Router::new()
        .route("/ws/visitor", get(ws::visitor_socket))
        .route("/ws/agent", get(ws::agent_socket))
        .nest_service("/pkg", assets::pkg(&state.leptos_options, &state.assets))
        .route_service("/embed.js", assets::embed_js(&state.leptos_options))
        .route("/embed/config", get(settings::config))
        .route("/theme.css", get(settings::theme))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::public_metrics))
        .route("/console/reports.csv", get(reports::csv))
        // Outside the App's router: the visitor's bundle hydrates it alone.
        .route("/widget", get(widget_page))
        .leptos_routes(&state, routes, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::guard,
        ))
        // Outermost: the guard's own lines carry the request's id too.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            trace::request_span,
        ))
        .with_state(state)
}
