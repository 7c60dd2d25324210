//! Everything kefu keeps on disk, in one SQLite file (WAL mode).
//!
//! The hub and the server functions call these methods; no SQL lives anywhere
//! else. [`Storage`] opens the file; its methods are spread by what they
//! store: accounts and sessions, visitors and conversations, messages.

mod accounts;
mod conversations;
mod messages;

use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

pub use accounts::{AgentRow, CreateAgentError};
pub use conversations::ConversationRow;
pub(in crate::server) use messages::MessageRow;
pub use messages::{Appended, NewMessage};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// How long a write waits for a locked database before it fails.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A visitor's row id (never sent to browsers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sqlx::Type)]
#[sqlx(transparent)]
pub struct VisitorId(pub i64);

impl VisitorId {
    /// The label agents see, e.g. "Visitor 12".
    pub fn label(self) -> String {
        format!("Visitor {}", self.0)
    }
}

/// The SQLite database.
#[derive(Clone, Debug)]
pub struct Storage {
    pool: SqlitePool,
    /// The one writer of chat messages (group commit).
    writer: crate::server::writer::Writer,
}

impl Storage {
    /// Opens (creating it and its folder if needed) and migrates the database at `path`.
    pub async fn open(path: &Path) -> anyhow::Result<Self> {
        Self::open_with(path, DEFAULT_BUSY_TIMEOUT).await
    }

    /// Like [`Storage::open`], waiting at most `busy_timeout` for a locked
    /// database before a write fails (and its sender is told).
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
            // Checkpoints run in their own task (super::checkpoint), not in commits.
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
        let gate = super::checkpoint::Gate::default();
        let writer = crate::server::writer::Writer::start(options, gate.clone()).await?;
        super::checkpoint::start(pool.clone(), gate);
        Ok(Self { pool, writer })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh database in a temporary folder (kept while the folder lives).
    pub(super) async fn temp() -> (tempfile::TempDir, Storage) {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = Storage::open(&dir.path().join("sub/kefu.db"))
            .await
            .expect("opens");
        (dir, storage)
    }
}
