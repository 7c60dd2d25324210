//! A connection id on every request's and socket's log lines: each request
//! runs in a `request` span with a fresh `conn` id; a WebSocket keeps its
//! upgrade request's id in its `socket` span (and as its hub connection id).

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::server::AppState;

/// The id of the request (and, once upgraded, of its socket).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnId(pub u64);

/// Middleware: the request's span (id, method, path; never the query, which
/// may carry tokens), and a debug line with its status when it is answered.
pub async fn request_span(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let conn = state.hub.next_conn_id();
    req.extensions_mut().insert(ConnId(conn));
    let span = tracing::info_span!(
        "request",
        conn,
        method = %req.method(),
        path = %req.uri().path()
    );
    async move {
        let response = next.run(req).await;
        tracing::debug!(status = response.status().as_u16(), "answered");
        response
    }
    .instrument(span)
    .await
}
