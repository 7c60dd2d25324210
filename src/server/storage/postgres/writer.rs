//! The PostgreSQL side of the group-commit writer ([`group_commit`]): one
//! connection per node, one transaction per batch, a fixed number of
//! statements whatever its size (arrays through `unnest`).
//!
//! Several nodes' writers may store messages of one conversation at once:
//! each reserves its seqs by updating the conversation's row, which it
//! locks (in id order, so that two batches touching the same conversations
//! cannot deadlock) until it commits. So seqs are gapless and given in
//! commit order across nodes, as on one node.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgConnection, PgPool};

use crate::protocol::{ChatMessage, ConversationId};
use crate::server::storage::group_commit::{self, first_seqs, Batch, Batches, Plan, Writer};
use crate::server::storage::rows::MessageRow;
use crate::server::storage::{now_ms, Appended, StoreResult};

/// Starts the writer. It has a pool of one connection of its own, so that a
/// connection lost (a database restart) is replaced at the next batch; the
/// batch that met the loss fails, and its senders keep their messages to
/// send again.
pub async fn start(options: PgConnectOptions) -> StoreResult<Writer> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        // While the database is away, a batch fails after this long (its
        // senders are told at once and send again), rather than waiting.
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await?;
    Ok(group_commit::Writer::start(PgBatches { pool }))
}

/// How long a batch waits for the writer's connection (or a new one).
const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

struct PgBatches {
    pool: PgPool,
}

#[async_trait]
impl Batches for PgBatches {
    async fn write(&mut self, batch: Batch) -> sqlx::Result<Vec<Appended>> {
        let mut conn = self.pool.acquire().await?;
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        let plan = Plan::new(&batch, &stored_before(&mut tx, &batch).await?);
        let next = reserve_seqs(&mut tx, &plan.wanted).await?;
        let seqs = plan.seqs(&batch, next);
        let sent_at = now_ms();
        insert_rows(&mut tx, &batch, &seqs, sent_at).await?;
        tx.commit().await?;
        Ok(plan.answers(batch, &seqs, sent_at))
    }
}

/// The batch's resends that an earlier batch stored, by (conversation, id),
/// in one query (see the SQLite writer: the client's id has no index).
async fn stored_before(
    conn: &mut PgConnection,
    batch: &Batch,
) -> sqlx::Result<HashMap<(ConversationId, String), ChatMessage>> {
    let (conversations, ids): (Vec<i64>, Vec<&str>) = Plan::resends(batch)
        .map(|(c, m)| (c.0, m.id.0.as_str()))
        .unzip();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<MessageRow> = sqlx::query_as(
        "SELECT m.conversation_id, m.seq, m.client_id, m.author, m.author_name, m.body, m.event,
                m.sent_at
         FROM unnest($1::BIGINT[], $2::TEXT[]) AS b(conversation_id, client_id)
         JOIN messages m ON m.conversation_id = b.conversation_id AND m.client_id = b.client_id
         ORDER BY m.seq",
    )
    .bind(&conversations)
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Plan::found(
        batch,
        rows.into_iter().map(MessageRow::into_message),
    ))
}

/// Advances `last_seq` of each open conversation by the messages it gets,
/// locking their rows in id order (the index scan's); returns the first seq to give in each
/// (closed ones are left out).
async fn reserve_seqs(
    conn: &mut PgConnection,
    wanted: &BTreeMap<ConversationId, i64>,
) -> sqlx::Result<HashMap<ConversationId, i64>> {
    if wanted.is_empty() {
        return Ok(HashMap::new());
    }
    let (ids, counts): (Vec<i64>, Vec<i64>) = wanted.iter().map(|(c, k)| (c.0, *k)).unzip();
    let rows: Vec<(ConversationId, i64)> = sqlx::query_as(
        // `id = ANY($1)`: the primary key's index whatever the plan (joined
        // to unnest() alone, the generic plan of this prepared statement read
        // the whole table twice per batch), and its rows come in id order,
        // the order their locks are taken in.
        "UPDATE conversations c SET last_seq = c.last_seq + n.k
         FROM unnest($1::BIGINT[], $2::BIGINT[]) AS n(id, k)
         WHERE c.id = ANY($1) AND c.id = n.id AND c.status != 'closed'
         RETURNING c.id, c.last_seq",
    )
    .bind(&ids)
    .bind(&counts)
    .fetch_all(&mut *conn)
    .await?;
    Ok(first_seqs(wanted, rows))
}

/// Inserts the messages that got a seq, in one statement. System events
/// are stored as JSON.
async fn insert_rows(
    conn: &mut PgConnection,
    batch: &Batch,
    seqs: &[Option<i64>],
    sent_at: i64,
) -> sqlx::Result<()> {
    let n = seqs.iter().flatten().count();
    if n == 0 {
        return Ok(());
    }
    let mut conversation_ids = Vec::with_capacity(n);
    let mut seq_col = Vec::with_capacity(n);
    let mut client_ids = Vec::with_capacity(n);
    let mut authors = Vec::with_capacity(n);
    let mut author_names = Vec::with_capacity(n);
    let mut bodies = Vec::with_capacity(n);
    let mut events = Vec::with_capacity(n);
    for ((conversation, msg), seq) in batch.iter().zip(seqs) {
        let Some(seq) = seq else { continue };
        let event = msg
            .event
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        conversation_ids.push(conversation.0);
        seq_col.push(*seq);
        client_ids.push(msg.id.0.as_str());
        authors.push(msg.author.as_str());
        author_names.push(msg.author_name.as_deref());
        bodies.push(msg.text.as_str());
        events.push(event);
    }
    sqlx::query(
        "INSERT INTO messages
             (conversation_id, seq, client_id, author, author_name, body, event, sent_at)
         SELECT c, s, i, a, n, b, e, $8
         FROM unnest($1::BIGINT[], $2::BIGINT[], $3::TEXT[], $4::TEXT[], $5::TEXT[], $6::TEXT[],
                     $7::TEXT[]) AS r(c, s, i, a, n, b, e)",
    )
    .bind(&conversation_ids)
    .bind(&seq_col)
    .bind(&client_ids)
    .bind(&authors)
    .bind(&author_names)
    .bind(&bodies)
    .bind(&events)
    .bind(sent_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
