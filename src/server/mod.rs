//! The server (ssr feature only): state, routes, and the pieces behind them.

pub mod api;
pub mod auth;
pub mod checkpoint;
pub mod config;
pub mod hub;
pub mod limits;
pub mod outbox;
pub mod security;
pub mod shutdown;
pub mod storage;
pub mod writer;
pub mod ws;

use std::time::Duration;

use axum::extract::FromRef;
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};

use crate::app::{shell, App};
use hub::Hub;
use storage::Storage;

/// What every handler and server function can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// Leptos' own settings (site root, output name).
    pub leptos_options: LeptosOptions,
    /// The live switchboard (which also holds storage).
    pub hub: Hub,
    /// Winds sockets down on SIGTERM.
    pub shutdown: shutdown::Shutdown,
    /// Origins, limits, revocations.
    pub security: security::SecurityState,
}

impl AppState {
    /// Opens storage at `db`, migrates it, and loads the hub from it.
    pub async fn open(
        leptos_options: LeptosOptions,
        db: &std::path::Path,
        grace: Duration,
    ) -> anyhow::Result<Self> {
        Self::with_storage(leptos_options, Storage::open(db).await?, grace).await
    }

    /// Builds the state around storage opened by the caller.
    pub async fn with_storage(
        leptos_options: LeptosOptions,
        storage: Storage,
        grace: Duration,
    ) -> anyhow::Result<Self> {
        let hub = Hub::load(storage, grace).await?;
        let config = config::Security::default();
        hub.set_conversation_limit(config.limits.max_conversations_per_hour);
        Ok(Self {
            leptos_options,
            hub,
            shutdown: shutdown::Shutdown::new(),
            security: security::SecurityState::new(config),
        })
    }

    /// Replaces the security settings (origins, cookies, limits).
    pub fn with_security(mut self, config: config::Security) -> Self {
        self.hub
            .set_conversation_limit(config.limits.max_conversations_per_hour);
        self.security = security::SecurityState::new(config);
        self
    }
}

/// The app state inside a server function.
pub fn state() -> AppState {
    expect_context::<AppState>()
}

/// Every route: pages, server functions, sockets, static files.
pub fn app(state: AppState) -> Router {
    let routes = generate_route_list(App);
    Router::new()
        .route("/ws/visitor", get(ws::visitor_socket))
        .route("/ws/agent", get(ws::agent_socket))
        .leptos_routes(&state, routes, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::guard,
        ))
        .with_state(state)
}
