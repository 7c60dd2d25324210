//! WAL checkpoints off the write path, and a WAL that keeps restarting.
//!
//! SQLite normally checkpoints inside the commit that pushes the WAL past
//! 1,000 pages, so every thousandth page written made one message wait for
//! the copy back into the database file and its fsyncs. Automatic
//! checkpoints are off on every connection (`wal_autocheckpoint = 0`, see
//! `Sqlite::open_with`) and this task checkpoints instead, in two phases:
//!
//! 1. a `PASSIVE` checkpoint on a pooled connection copies the bulk of the
//!    WAL while the writer goes on committing;
//! 2. if the WAL holds many pages, a second `PASSIVE` checkpoint runs while
//!    the writer waits between two batches (the [`Gate`]): it only copies
//!    the pages committed during phase 1, and afterwards every page is in
//!    the database file, so the writer's next transaction starts the WAL
//!    over from its beginning.
//!
//! Without phase 2 a writer that never pauses keeps the WAL growing (1 GB in
//! ten seconds at 20,000 messages/s was measured), and every page it writes
//! lands further into an ever larger file. Durability is unchanged: a commit
//! is in the WAL either way.

use std::sync::Arc;
use std::time::Duration;

use sqlx::SqlitePool;
use tokio::sync::Mutex;

/// How often the WAL is checkpointed.
const EVERY: Duration = Duration::from_millis(250);
/// WAL pages (4 KiB each) left after phase 1 that call for phase 2.
const RESTART_PAGES: i64 = 1_000;

/// Held by the writer while it writes a batch, and by the checkpointer for
/// phase 2.
pub type Gate = Arc<Mutex<()>>;

/// Starts the checkpoint task; it ends when the pool is closed.
pub fn start(pool: SqlitePool, gate: Gate) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(EVERY);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if pool.is_closed() {
                return;
            }
            let Some(pages) = checkpoint(&pool).await else {
                continue;
            };
            if pages >= RESTART_PAGES {
                let _writer_waits = gate.lock().await;
                checkpoint(&pool).await;
            }
        }
    });
}

/// One `PASSIVE` checkpoint; returns the WAL's size in pages.
async fn checkpoint(pool: &SqlitePool) -> Option<i64> {
    let result: sqlx::Result<(i64, i64, i64)> = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(pool)
        .await;
    match result {
        Ok((_, pages, copied)) => {
            tracing::trace!(pages, copied, "checkpoint");
            Some(pages)
        }
        Err(e) if pool.is_closed() => {
            tracing::debug!(error = %e, "checkpoint after close");
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "WAL checkpoint failed");
            None
        }
    }
}
