//! The PostgreSQL backend (`--db postgres://…`): the record shared by every
//! node of a cluster. Same operations as [`super::sqlite`], same answers;
//! its own migrations (migrations/postgres/), run at start.
//!
//! What differs from SQLite, and why it stays correct with many nodes:
//! - seqs are given by `UPDATE conversations … RETURNING last_seq` inside the
//!   storing transaction: the row lock orders concurrent writers of one
//!   conversation, whichever node they run on;
//! - ids (visitors, conversations) come from sequences, so every node gives
//!   distinct ones and a deleted id is never given again;
//! - search is a trigram index (pg_trgm) instead of FTS5.

mod accounts;
mod archive;
mod canned;
mod conversations;
mod coordination;
mod export;
mod identities;
mod messages;
mod notes;
mod ratings;
mod retention;
mod settings;
mod upkeep;
mod visits;
mod webhooks;
mod writer;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use super::Storage;

/// Connections each node keeps for reads and small writes (the message
/// writer has one more of its own).
const POOL_SIZE: u32 = 10;

/// How long an operation waits for a free connection before it fails.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Connects to the database at `url` (`postgres://…`) and migrates it.
pub async fn open(url: &str) -> anyhow::Result<Storage> {
    Ok(Arc::new(Postgres::connect(url).await?))
}

/// The PostgreSQL database.
#[derive(Clone, Debug)]
pub struct Postgres {
    pool: PgPool,
    /// The one writer of chat messages on this node (group commit).
    writer: crate::server::storage::group_commit::Writer,
}

impl Postgres {
    /// Connects to the database at `url` (see [`open`]).
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let options = PgConnectOptions::from_str(url)?.application_name("kefu");
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        let writer = writer::start(options).await?;
        Ok(Self { pool, writer })
    }
}

/// Whether `db` names a PostgreSQL database rather than a SQLite file.
pub fn is_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}
