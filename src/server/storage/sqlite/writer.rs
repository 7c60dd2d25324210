//! The SQLite side of the group-commit writer ([`group_commit`]): one
//! connection of its own, one `BEGIN IMMEDIATE` transaction per batch,
//! written while holding the [`Gate`] (checkpoints, the indexer, deletions
//! and webhook events wait between two batches), and the search indexer
//! told which conversations each committed batch touched.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection, QueryBuilder, Sqlite};

use super::checkpoint::Gate;
use super::indexer::Indexer;
use crate::protocol::{ChatMessage, ConversationId};
use crate::server::storage::group_commit::{self, first_seqs, Batch, Batches, Plan, Writer};
use crate::server::storage::rows::MessageRow;
use crate::server::storage::{now_ms, Appended, StoreResult};

/// Starts the writer over its own connection. Batches are written while
/// holding `gate` (see [`super::checkpoint`]); `indexer` is told which
/// conversations each committed batch touched.
pub async fn start(
    options: SqliteConnectOptions,
    gate: Gate,
    indexer: Indexer,
) -> StoreResult<Writer> {
    let conn = options.connect().await?;
    Ok(group_commit::Writer::start(SqliteBatches {
        conn,
        gate,
        indexer,
    }))
}

struct SqliteBatches {
    conn: SqliteConnection,
    gate: Gate,
    indexer: Indexer,
}

#[async_trait]
impl Batches for SqliteBatches {
    async fn write(&mut self, batch: Batch) -> sqlx::Result<Vec<Appended>> {
        let _checkpoint_waits = self.gate.lock().await;
        write_batch(&mut self.conn, batch).await
    }

    fn committed(&self, results: &[Appended]) {
        // Before any answer leaves: a search after an ack finds it.
        self.indexer.mark(results.iter().filter_map(|a| match a {
            Appended::New(m) => Some(m.conversation),
            _ => None,
        }));
    }
}

/// Stores a batch in one transaction, in a fixed number of statements
/// whatever its size (look up resends, reserve seqs, insert, commit).
async fn write_batch(conn: &mut SqliteConnection, batch: Batch) -> sqlx::Result<Vec<Appended>> {
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    // Only messages marked as resends are looked up: there is no index on
    // the client's id, which would cost every message a second B-tree
    // insert (bench/README.md).
    let plan = Plan::new(&batch, &stored_before(&mut tx, &batch).await?);
    let next = reserve_seqs(&mut tx, &plan.wanted).await?;
    let seqs = plan.seqs(&batch, next);
    let sent_at = now_ms();
    insert_rows(&mut tx, &batch, &seqs, sent_at).await?;
    tx.commit().await?;
    Ok(plan.answers(batch, &seqs, sent_at))
}

/// The batch's resends that an earlier batch stored, by (conversation, id):
/// one query, which reads through each such conversation's messages (the
/// client's id has no index; resends are rare). If an id was stored twice
/// (by a client that resent without saying so), its first seq is kept.
async fn stored_before(
    conn: &mut SqliteConnection,
    batch: &Batch,
) -> sqlx::Result<HashMap<(ConversationId, String), ChatMessage>> {
    let resends = Plan::resends(batch);
    if resends.clone().next().is_none() {
        return Ok(HashMap::new());
    }
    let mut q = QueryBuilder::<Sqlite>::new(
        "SELECT m.conversation_id, m.seq, m.client_id, m.author, m.author_name, m.body, m.event, m.sent_at
         FROM (",
    );
    q.push_values(resends, |mut row, (conversation, msg)| {
        row.push_bind(*conversation).push_bind(&msg.id);
    });
    q.push(
        ") AS b JOIN messages m ON m.conversation_id = b.column1 AND m.client_id = b.column2
         ORDER BY m.seq",
    );
    let rows: Vec<MessageRow> = q.build_query_as().fetch_all(&mut *conn).await?;
    Ok(Plan::found(
        batch,
        rows.into_iter().map(MessageRow::into_message),
    ))
}

/// Advances `last_seq` of each open conversation by the messages it gets;
/// returns the first seq to give in each (closed ones are left out).
async fn reserve_seqs(
    conn: &mut SqliteConnection,
    wanted: &BTreeMap<ConversationId, i64>,
) -> sqlx::Result<HashMap<ConversationId, i64>> {
    if wanted.is_empty() {
        return Ok(HashMap::new());
    }
    let mut q = QueryBuilder::<Sqlite>::new("WITH n(id, k) AS (");
    q.push_values(wanted, |mut row, (conversation, k)| {
        row.push_bind(*conversation).push_bind(*k);
    });
    q.push(
        ") UPDATE conversations SET last_seq = last_seq + (SELECT k FROM n WHERE n.id = conversations.id)
         WHERE id IN (SELECT id FROM n) AND status != 'closed' RETURNING id, last_seq",
    );
    let rows: Vec<(ConversationId, i64)> = q.build_query_as().fetch_all(&mut *conn).await?;
    Ok(first_seqs(wanted, rows))
}

/// Inserts the messages that got a seq, in one statement. System events
/// are stored as JSON.
async fn insert_rows(
    conn: &mut SqliteConnection,
    batch: &Batch,
    seqs: &[Option<i64>],
    sent_at: i64,
) -> sqlx::Result<()> {
    if seqs.iter().all(Option::is_none) {
        return Ok(());
    }
    let rows = batch
        .iter()
        .zip(seqs)
        .filter_map(|(b, s)| s.map(|s| (b, s)))
        .map(|((conversation, msg), seq)| {
            let event = msg.event.as_ref().map(serde_json::to_string).transpose();
            event.map(|event| (conversation, msg, seq, event))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let mut q = QueryBuilder::<Sqlite>::new(
        "INSERT INTO messages (conversation_id, seq, client_id, author, author_name, body, event, sent_at) ",
    );
    q.push_values(rows, |mut row, (conversation, msg, seq, event)| {
        row.push_bind(*conversation)
            .push_bind(seq)
            .push_bind(&msg.id)
            .push_bind(msg.author.as_str())
            .push_bind(msg.author_name.as_deref())
            .push_bind(&msg.text)
            .push_bind(event)
            .push_bind(sent_at);
    });
    q.build().execute(&mut *conn).await?;
    Ok(())
}
