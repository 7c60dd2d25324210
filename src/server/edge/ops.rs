//! What load balancers, systemd and Prometheus call: `/healthz` (the
//! process serves), `/readyz` (the database answers and the server is not
//! draining) and `/metrics`. Their answers say nothing but ready or not.

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::server::AppState;

/// How long `/readyz` waits for the database before it says not ready.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /healthz`: 200 while the process serves requests.
pub async fn healthz() -> Response {
    plain(StatusCode::OK, "ok")
}

/// `GET /readyz`: 200 when the database answers a query and the server is
/// not shutting down; 503 from the moment SIGTERM arrives (sockets drain
/// while load balancers stop sending new ones) or when the database fails.
pub async fn readyz(State(state): State<AppState>) -> Response {
    if state.shutdown.is_shutting_down() {
        return plain(StatusCode::SERVICE_UNAVAILABLE, "not ready");
    }
    match tokio::time::timeout(PING_TIMEOUT, state.storage.ping()).await {
        Ok(Ok(())) => plain(StatusCode::OK, "ready"),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: the database did not answer");
            plain(StatusCode::SERVICE_UNAVAILABLE, "not ready")
        }
        Err(_) => {
            tracing::warn!("readiness: the database took over {PING_TIMEOUT:?}");
            plain(StatusCode::SERVICE_UNAVAILABLE, "not ready")
        }
    }
}

/// `GET /metrics` on the public listener: only with `--metrics-token`, and
/// only to requests that carry it (401 otherwise); 404 when no token is set.
pub async fn public_metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match &state.metrics {
        Some(exporter) if exporter.has_token() => scrape(&state, &headers),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `GET /metrics` on `--metrics-addr`: open, unless a token is set.
async fn private_metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    scrape(&state, &headers)
}

fn scrape(state: &AppState, headers: &HeaderMap) -> Response {
    let Some(exporter) = &state.metrics else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !exporter.allows(headers) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "unauthorized",
        )
            .into_response();
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        exporter.render(state.hub.gauges()),
    )
        .into_response()
}

/// The router of `--metrics-addr`: `/metrics`, and the probes beside it.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(private_metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state)
}

fn plain(status: StatusCode, body: &'static str) -> Response {
    (status, [(header::CACHE_CONTROL, "no-store")], body).into_response()
}
