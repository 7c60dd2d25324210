//! The SQLite backend: one file in WAL mode, one group-commit writer for
//! chat messages, and WAL checkpoints off the write path.
//!
//! Every transaction that writes begins `IMMEDIATE`: a deferred one that
//! reads first cannot take the write lock once another connection wrote
//! (SQLITE_BUSY at once, whatever the busy timeout), which failed an
//! admin's webhook registration while the webhook task was deriving events.

mod accounts;
mod archive;
mod canned;
mod checkpoint;
mod conversations;
mod export;
mod identities;
mod indexer;
mod messages;
mod notes;
mod ratings;
mod retention;
mod settings;
mod upkeep;
mod visits;
mod webhooks;
mod writer;

use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::AtomicI64;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use super::Storage;
pub use upkeep::{backup, Backup};

/// How long a write waits for a locked database before it fails.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens (creating it and its folder if needed) and migrates the database at `path`.
pub async fn open(path: &Path) -> anyhow::Result<Storage> {
    Ok(Arc::new(Sqlite::open_file(path).await?))
}

/// Like [`open`], waiting at most `busy_timeout` for a locked database
/// before a write fails (and its sender is told).
pub async fn open_with(path: &Path, busy_timeout: Duration) -> anyhow::Result<Storage> {
    Ok(Arc::new(Sqlite::open_with(path, busy_timeout).await?))
}

/// The SQLite database.
#[derive(Clone, Debug)]
pub struct Sqlite {
    pool: SqlitePool,
    /// The one writer of chat messages (group commit).
    writer: crate::server::storage::group_commit::Writer,
    /// Keeps the full-text index in step with the messages, off their path.
    indexer: indexer::Indexer,
    /// Held by the writer while it writes a batch (and by whatever must not
    /// run beside it: checkpoints, the indexer, deletions, webhook events).
    gate: checkpoint::Gate,
    /// The highest visitor id given so far (stored or reserved): every new
    /// visitor's id comes from here, so that an id reserved for a visitor
    /// not stored yet is never taken by another.
    next_visitor: Arc<AtomicI64>,
}

impl Sqlite {
    /// Opens the database at `path` (see [`open`]).
    pub async fn open_file(path: &Path) -> anyhow::Result<Self> {
        Self::open_with(path, DEFAULT_BUSY_TIMEOUT).await
    }

    /// Opens the database at `path` (see [`open_with`]).
    pub async fn open_with(path: &Path, busy_timeout: Duration) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)?;
            }
        }
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            // Each batch rewrites the last page of every conversation it
            // touches and a page of its id index: with 1 KiB pages instead
            // of 4 KiB, half the bytes go through the WAL and the checkpoint
            // per message (bench: 5.6 -> 3.0 KiB), for the same B-tree work.
            // Applies to new database files; existing ones keep theirs.
            .page_size(1024)
            .busy_timeout(busy_timeout)
            // Checkpoints run in their own task (see `checkpoint`), not in commits.
            .pragma("wal_autocheckpoint", "0")
            // RETURNING and big statements use temporary tables: keep them off the disk.
            .pragma("temp_store", "memory")
            // The WAL file shrinks back to this after a checkpoint restarts it.
            .pragma("journal_size_limit", "67108864");
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        let gate = checkpoint::Gate::default();
        let indexer = indexer::Indexer::start(pool.clone(), &options, gate.clone()).await?;
        let writer = writer::start(options, gate.clone(), indexer.clone()).await?;
        checkpoint::start(pool.clone(), gate.clone());
        let highest: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM visitors")
            .fetch_one(&pool)
            .await?;
        Ok(Self {
            pool,
            writer,
            indexer,
            gate,
            next_visitor: Arc::new(AtomicI64::new(highest.unwrap_or(0))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh database in a temporary folder (kept while the folder lives).
    pub(super) async fn temp() -> (tempfile::TempDir, Sqlite) {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = Sqlite::open_file(&dir.path().join("sub/kefu.db"))
            .await
            .expect("opens");
        (dir, storage)
    }

    /// A database file at `path` made by the migrations older than
    /// `version` only: the shape a real database had before that one, for
    /// tests that a migration keeps (or fills in) what was stored.
    pub(super) async fn migrated_before(path: &std::path::Path, version: i64) -> sqlx::SqlitePool {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options)
            .await
            .expect("opens");
        let mut before = sqlx::migrate!("./migrations");
        before.migrations = before
            .migrations
            .iter()
            .filter(|m| m.version < version)
            .cloned()
            .collect::<Vec<_>>()
            .into();
        before.run(&pool).await.expect("the older migrations run");
        pool
    }
}
