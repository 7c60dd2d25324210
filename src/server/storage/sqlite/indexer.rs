//! The full-text index, kept off the message hot path.
//!
//! Indexing a message with the trigram tokenizer costs far more than
//! storing it, and FTS5 writes a new segment (then merges segments) at every
//! commit: done by a trigger inside each of the writer's small batches, it
//! cut the highest rate kefu holds by three quarters and tripled the bytes
//! written per message (bench, issue 13). So the writer only says which
//! conversations got messages (in memory, after each commit), and this task
//! indexes them in batches of its own: a few hundred milliseconds later, at
//! most [`CHUNK`] messages per transaction, while the writer waits between
//! two batches (the checkpoint [`Gate`]), and pausing between chunks so that
//! it never takes the writer's place. Under a load it cannot keep up with,
//! the index lags and catches up afterwards; chat is never slowed for it.
//!
//! Each conversation's messages are indexed up to `conversations.indexed_seq`,
//! so after a crash the conversations behind are found again at start. A
//! search first asks for everything committed so far ([`Indexer::flush`]),
//! waiting a bounded time.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection, SqlitePool};
use tokio::sync::{watch, Notify};

use super::checkpoint::Gate;
use crate::protocol::ConversationId;

/// Messages indexed in one transaction, at most.
const CHUNK: i64 = 1000;
/// How long new messages gather before they are indexed: FTS5 writes a
/// segment per transaction and merges them later, so fewer, larger
/// transactions write and merge less per message.
const GATHER: Duration = Duration::from_secs(1);
/// The indexer's page cache (KiB): FTS5 merges read back recent segments.
const CACHE_KIB: i64 = 16 * 1024;
/// The shortest pause between two chunks while behind.
const PAUSE: Duration = Duration::from_millis(10);

#[derive(Default)]
struct Pending {
    /// Conversations with messages beyond their `indexed_seq`.
    dirty: BTreeSet<ConversationId>,
    /// Conversations being indexed now.
    busy: usize,
}

struct Shared {
    pending: Mutex<Pending>,
    wake: Notify,
    /// Cuts the gathering pause short (a search is waiting).
    hurry: Notify,
    /// Bumped each time pending work shrinks.
    progress: watch::Sender<u64>,
}

/// Handle to the indexing task; cheap to clone.
#[derive(Clone)]
pub struct Indexer(Arc<Shared>);

impl std::fmt::Debug for Indexer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Indexer")
    }
}

impl Indexer {
    /// Finds the conversations left behind (by a crash) and starts the
    /// task, on a connection of its own (opened with `options`); it ends
    /// when `pool` is closed.
    pub async fn start(
        pool: SqlitePool,
        options: &SqliteConnectOptions,
        gate: Gate,
    ) -> sqlx::Result<Self> {
        let conn = options
            .clone()
            .pragma("cache_size", format!("-{CACHE_KIB}"))
            .connect()
            .await?;
        let behind: Vec<ConversationId> =
            sqlx::query_scalar("SELECT id FROM conversations WHERE indexed_seq < last_seq")
                .fetch_all(&pool)
                .await?;
        let shared = Arc::new(Shared {
            pending: Mutex::new(Pending {
                dirty: behind.into_iter().collect(),
                busy: 0,
            }),
            wake: Notify::new(),
            hurry: Notify::new(),
            progress: watch::channel(0).0,
        });
        shared.wake.notify_one();
        tokio::spawn(run(conn, pool, gate, shared.clone()));
        Ok(Self(shared))
    }

    /// These conversations got messages (called by the writer after each commit).
    pub fn mark(&self, conversations: impl IntoIterator<Item = ConversationId>) {
        let mut added = false;
        if let Ok(mut p) = self.0.pending.lock() {
            for c in conversations {
                added |= p.dirty.insert(c);
            }
        }
        if added {
            self.0.wake.notify_one();
        }
    }

    fn behind(&self) -> bool {
        self.0
            .pending
            .lock()
            .map(|p| !p.dirty.is_empty() || p.busy > 0)
            .unwrap_or(false)
    }

    /// Waits (at most `wait`) until every message committed before the call
    /// is indexed; returns whether it is.
    pub async fn flush(&self, wait: Duration) -> bool {
        let mut progress = self.0.progress.subscribe();
        self.0.wake.notify_one();
        self.0.hurry.notify_one();
        let caught_up = async {
            while self.behind() {
                if progress.changed().await.is_err() {
                    return;
                }
            }
        };
        tokio::time::timeout(wait, caught_up).await.is_ok()
    }
}

async fn run(mut conn: SqliteConnection, pool: SqlitePool, gate: Gate, shared: Arc<Shared>) {
    loop {
        shared.wake.notified().await;
        let _ = tokio::time::timeout(GATHER, shared.hurry.notified()).await;
        loop {
            if pool.is_closed() {
                return;
            }
            let taken: Vec<ConversationId> = match shared.pending.lock() {
                Ok(mut p) => {
                    let taken = std::mem::take(&mut p.dirty);
                    p.busy = taken.len();
                    taken.into_iter().collect()
                }
                Err(_) => return,
            };
            if taken.is_empty() {
                break;
            }
            let started = Instant::now();
            let left = {
                let _writer_waits = gate.lock().await;
                index_chunk(&mut conn, &taken).await
            };
            let left = left.unwrap_or_else(|e| {
                if !pool.is_closed() {
                    tracing::warn!(error = %e, "indexing messages for search failed; retrying");
                }
                taken
            });
            if let Ok(mut p) = shared.pending.lock() {
                p.dirty.extend(left);
                p.busy = 0;
            }
            shared.progress.send_modify(|n| *n += 1);
            // Leave the writer at least as much time as this chunk took.
            tokio::time::sleep(started.elapsed().max(PAUSE)).await;
        }
    }
}

/// Indexes up to [`CHUNK`] messages of `conversations`, in one transaction;
/// returns the conversations still behind.
async fn index_chunk(
    conn: &mut SqliteConnection,
    conversations: &[ConversationId],
) -> sqlx::Result<Vec<ConversationId>> {
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let mut budget = CHUNK;
    let mut left = Vec::new();
    for &c in conversations {
        if budget == 0 {
            left.push(c);
            continue;
        }
        let Some((indexed, last)): Option<(i64, i64)> =
            sqlx::query_as("SELECT indexed_seq, last_seq FROM conversations WHERE id = ?")
                .bind(c)
                .fetch_optional(&mut *tx)
                .await?
        else {
            continue;
        };
        let upto = last.min(indexed + budget);
        if upto > indexed {
            sqlx::query(
                "INSERT INTO message_text (rowid, body)
                 SELECT conversation_id * 4294967296 + seq, body FROM messages
                 WHERE conversation_id = ? AND seq > ? AND seq <= ? AND author IN ('visitor', 'agent')",
            )
            .bind(c)
            .bind(indexed)
            .bind(upto)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE conversations SET indexed_seq = ? WHERE id = ?")
                .bind(upto)
                .bind(c)
                .execute(&mut *tx)
                .await?;
            budget -= upto - indexed;
        }
        if upto < last {
            left.push(c);
        }
    }
    tx.commit().await?;
    Ok(left)
}

#[cfg(test)]
mod tests {
    use super::super::tests::temp;
    use super::*;
    use crate::protocol::MessageId;
    use crate::server::storage::{Conversations, Messages, NewMessage};

    /// More messages than one chunk, in two conversations, with system
    /// notices among them: after a flush every message people wrote is
    /// indexed, and each conversation is marked indexed to its last seq.
    #[tokio::test]
    async fn every_message_is_indexed_in_chunks_and_notices_are_not() {
        let (_dir, s) = temp().await;
        let v = s.create_visitor(b"h").await.expect("visitor");
        let a = s.create_conversation(v).await.expect("conversation");
        let b = s.create_conversation(v).await.expect("conversation");
        let n = CHUNK as usize + 300;
        let appends = (0..n).map(|i| {
            let msg =
                NewMessage::from_visitor(MessageId(format!("m{i}")), format!("needle {i}"), false);
            s.append(if i % 3 == 0 { b } else { a }, msg)
        });
        futures::future::join_all(appends).await;
        let notice = NewMessage::system(
            MessageId("sys".into()),
            crate::protocol::SystemEvent::Closed {
                agent: "needle".into(),
            },
        );
        s.append(a, notice).await.expect("notice");
        assert!(s.indexer.flush(Duration::from_secs(10)).await, "caught up");
        let indexed: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM message_text WHERE message_text MATCH 'needle'",
        )
        .fetch_one(&s.pool)
        .await
        .expect("count");
        assert_eq!(indexed, n as i64);
        let behind: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM conversations WHERE indexed_seq < last_seq")
                .fetch_one(&s.pool)
                .await
                .expect("count");
        assert_eq!(behind, 0);
    }
}
