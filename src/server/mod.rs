//! The server (ssr feature only), in three layers, each calling only the
//! ones below it:
//!
//! - [`edge`]: what faces the network — HTTP pages' headers, server
//!   functions' bodies, WebSocket endpoints and their reader loops, origin
//!   checks, limits, sessions;
//! - [`hub`]: live routing — connections, the queue and assignment, grace
//!   and the conversation's life, delivery into each socket's outbox;
//! - [`storage`]: everything that touches the database, behind one interface.
//!
//! Beside them: [`AppState`], [`config`], [`error`], [`secrets`], [`site`]
//! (admins' settings), [`shutdown`], [`metrics`], [`retention`] (the sweep) and
//! [`webhooks`] (their background task).

pub mod cluster;
pub mod config;
pub mod edge;
pub mod error;
pub mod hours;
pub mod hub;
pub mod identity;
pub mod metrics;
pub mod retention;
pub mod secrets;
pub mod shutdown;
pub mod site;
pub mod storage;
pub mod webhooks;

use std::time::Duration;

use axum::extract::FromRef;
use leptos::prelude::*;

use edge::security::SecurityState;
use hub::Hub;
use storage::Storage;

/// What every handler and server function can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// Leptos' own settings (site root, output name).
    pub leptos_options: LeptosOptions,
    /// The database.
    pub storage: Storage,
    /// The live switchboard.
    pub hub: Hub,
    /// Winds sockets down on SIGTERM.
    pub shutdown: shutdown::Shutdown,
    /// Origins, limits, revocations.
    pub security: SecurityState,
    /// What admins set in the console (widget, allowed sites).
    pub site: site::Site,
    /// The first-start setup code, while no account exists.
    pub setup: edge::accounts::SetupCode,
    /// The file names of this build's bundles and stylesheet.
    pub assets: edge::assets::AssetNames,
    /// Seconds after which a hidden console sets its agent away (`--away-after-idle`).
    pub away_after_idle_secs: Option<u32>,
    /// The webhook task (admins' registrations wake it).
    pub webhooks: webhooks::Webhooks,
    /// The Prometheus exporter, when metrics are on (`--metrics-addr`, `--metrics-token`).
    pub metrics: Option<metrics::Exporter>,
}

impl AppState {
    /// Opens the database `db` (a SQLite file or a PostgreSQL URL: see
    /// [`storage::open`]), migrates it, and loads the hub from it.
    pub async fn open(
        leptos_options: LeptosOptions,
        db: &str,
        grace: Duration,
    ) -> anyhow::Result<Self> {
        Self::with_storage(leptos_options, storage::open(db).await?, grace).await
    }

    /// Opens the PostgreSQL database `db` and joins the other nodes on it
    /// through Redis at `redis` (`--redis`; see [`cluster`]).
    pub async fn open_clustered(
        leptos_options: LeptosOptions,
        db: &str,
        grace: Duration,
        redis: &str,
    ) -> anyhow::Result<Self> {
        let storage::Database::Postgres(url) = storage::Database::parse(db) else {
            anyhow::bail!(
                "--redis joins nodes that share one PostgreSQL database: give --db postgres://… \
                 (a SQLite file serves one node)"
            );
        };
        let postgres = std::sync::Arc::new(storage::postgres::Postgres::connect(&url).await?);
        let (bus, incoming) = cluster::Bus::connect(redis)
            .await
            .map_err(|e| anyhow::anyhow!("connecting to Redis: {e}"))?;
        let hub =
            Hub::load_clustered(postgres.clone(), grace, bus, postgres.clone(), incoming).await?;
        Self::with_hub(leptos_options, postgres, hub).await
    }

    /// Builds the state around storage opened by the caller.
    pub async fn with_storage(
        leptos_options: LeptosOptions,
        storage: Storage,
        grace: Duration,
    ) -> anyhow::Result<Self> {
        let hub = Hub::load(storage.clone(), grace).await?;
        Self::with_hub(leptos_options, storage, hub).await
    }

    async fn with_hub(
        leptos_options: LeptosOptions,
        storage: Storage,
        hub: Hub,
    ) -> anyhow::Result<Self> {
        let site = site::Site::load(&storage).await?;
        hours::spawn(hub.clone(), site.clone());
        let config = config::Security::default();
        hub.set_conversation_limit(config.limits.max_conversations_per_hour);
        let setup = if storage.agent_count().await? == 0 {
            let setup = edge::accounts::SetupCode::fresh();
            if let Some(code) = setup.code() {
                tracing::warn!(
                    "no account exists yet: open /console and create the first admin with \
                     the setup code {code} (or run `kefu agent add --admin`)"
                );
            }
            setup
        } else {
            edge::accounts::SetupCode::default()
        };
        let webhooks = webhooks::Webhooks::start(storage.clone()).await?;
        Ok(Self {
            webhooks,
            assets: edge::assets::AssetNames::unhashed(&leptos_options),
            leptos_options,
            storage,
            hub,
            shutdown: shutdown::Shutdown::new(),
            security: SecurityState::new(config),
            site,
            setup,
            away_after_idle_secs: None,
            metrics: None,
        })
    }

    /// Replaces the security settings (origins, cookies, limits).
    pub fn with_security(mut self, config: config::Security) -> Self {
        self.hub
            .set_conversation_limit(config.limits.max_conversations_per_hour);
        self.security = SecurityState::new(config);
        if self.hub.is_clustered() {
            // Other nodes' revocations close this node's sockets too, and
            // their admins' settings apply here.
            let mut elsewhere = self.hub.elsewhere();
            let security = self.security.clone();
            let (site, storage) = (self.site.clone(), self.storage.clone());
            tokio::spawn(async move {
                loop {
                    match elsewhere.recv().await {
                        Ok(hub::Elsewhere::Revoked(json)) => {
                            if let Ok(what) = serde_json::from_str(&json) {
                                security.revoke(what);
                            }
                        }
                        Ok(hub::Elsewhere::Settings) => {
                            if let Err(e) = site.reload(&storage).await {
                                tracing::error!(error = %e, "reading the site's settings failed");
                            }
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    }
                }
            });
        }
        self
    }
}

impl AppState {
    /// Sets the idle time after which a hidden console goes away by itself.
    pub fn with_away_after_idle(mut self, secs: Option<u32>) -> Self {
        self.away_after_idle_secs = secs;
        self
    }

    /// Serves `/metrics` from `exporter` (see [`metrics::install`]).
    pub fn with_metrics(mut self, exporter: metrics::Exporter) -> Self {
        self.metrics = Some(exporter);
        self
    }

    /// Replaces the bundles' file names (read from the build's hash file).
    pub fn with_assets(mut self, assets: edge::assets::AssetNames) -> Self {
        self.assets = assets;
        self
    }
}

/// The app state inside a server function.
pub fn state() -> AppState {
    expect_context::<AppState>()
}
