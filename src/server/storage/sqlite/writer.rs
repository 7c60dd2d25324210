//! The one writer of chat messages (group commit).
//!
//! Every socket's appends queue here; one task owning one SQLite connection
//! stores whatever is waiting as a batch, in one `BEGIN IMMEDIATE`
//! transaction, and answers each sender only after that batch committed. So
//! an acknowledged message is stored exactly as before, with far fewer
//! transactions and thread hand-offs per message under load.
//!
//! The answers are announced in commit order: each append carries an
//! [`OnCommit`], and one announcer task runs them batch after batch, in the
//! order the appends were queued. Seqs are given in that same order, so
//! whatever an `OnCommit` sends (an ack, a delivery) leaves in seq order for
//! every conversation and in submission order for every sender, however
//! many messages are in flight. (Waking each sender to announce its own
//! message instead lets a message whose batch committed early overtake
//! earlier ones still waiting to be polled.)

use std::collections::{BTreeMap, HashMap};

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection, QueryBuilder, Sqlite};
use tokio::sync::{mpsc, oneshot};

use super::checkpoint::Gate;
use super::indexer::Indexer;
use super::messages::MessageRow;
use crate::protocol::{ChatMessage, ConversationId};
use crate::server::metrics;
use crate::server::storage::{now_ms, Appended, NewMessage, OnCommit, StoreError, StoreResult};

/// Most appends stored in one transaction. Large batches are what let the
/// writer catch up under load: each batch rewrites one page per busy
/// conversation whatever the number of its messages, so at 100,000 msgs/s
/// over 100 conversations a batch of 2,048 writes about a fifth as many
/// pages per message as one of 400. Their insert binds 8 values per
/// message: 16,384, within SQLite's limit of 32,766 per statement.
pub const MAX_BATCH: usize = 2048;
/// Appends that may wait for the writer before senders wait too.
const QUEUE: usize = 8192;
/// Committed batches that may wait for the announcer before the writer waits.
const ANNOUNCE_QUEUE: usize = 4;

struct Job {
    conversation: ConversationId,
    msg: NewMessage,
    then: OnCommit,
}

/// A committed (or failed) batch's answers, in submission order.
type Announced = Vec<(OnCommit, StoreResult<Appended>)>;

/// Handle to the writer task; cheap to clone.
#[derive(Clone, Debug)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
}

impl Writer {
    /// Opens the writer's own connection and starts the task.
    /// Batches are written while holding `gate` (see [`super::checkpoint`]);
    /// `indexer` is told which conversations each committed batch touched.
    pub async fn start(
        options: SqliteConnectOptions,
        gate: Gate,
        indexer: Indexer,
    ) -> StoreResult<Self> {
        let conn = options.connect().await?;
        let (tx, rx) = mpsc::channel(QUEUE);
        let (announce, announced) = mpsc::channel(ANNOUNCE_QUEUE);
        tokio::spawn(run(conn, rx, gate, announce, indexer));
        tokio::spawn(announcer(announced));
        Ok(Self { tx })
    }

    /// Stores `msg` as the conversation's next seq (see [`Appended`]);
    /// returns once its batch is committed and everything submitted before
    /// it was announced.
    pub async fn append(
        &self,
        conversation: ConversationId,
        msg: NewMessage,
    ) -> StoreResult<Appended> {
        let (reply, answer) = oneshot::channel();
        let then: OnCommit = Box::new(move |result| {
            let _ = reply.send(result);
        });
        self.submit(conversation, msg, then).await;
        answer.await.unwrap_or(Err(StoreError::WriterStopped))
    }

    /// Queues `msg` behind everything submitted before it, waiting only for
    /// room in the queue: a socket can go on reading while its messages are
    /// stored. `then` runs once the batch committed, after the `then` of
    /// every message submitted before it (see the module's docs).
    pub async fn submit(&self, conversation: ConversationId, msg: NewMessage, then: OnCommit) {
        let job = Job {
            conversation,
            msg,
            then,
        };
        if let Err(mpsc::error::SendError(job)) = self.tx.send(job).await {
            // The writer task is gone (it never ends while a handle lives,
            // so it panicked): nothing queued before this can be announced.
            (job.then)(Err(StoreError::WriterStopped));
        }
    }
}

async fn run(
    mut conn: SqliteConnection,
    mut rx: mpsc::Receiver<Job>,
    gate: Gate,
    announce: mpsc::Sender<Announced>,
    indexer: Indexer,
) {
    let mut work = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        let mut thens = Vec::with_capacity(MAX_BATCH.min(rx.len() + 1));
        let mut next = Some(first);
        while let Some(job) = next.take() {
            work.push((job.conversation, job.msg));
            thens.push(job.then);
            if work.len() < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
        let size = work.len();
        let (written, took) = {
            let _checkpoint_waits = gate.lock().await;
            let began = std::time::Instant::now();
            let written = write_batch(&mut conn, work.drain(..)).await;
            (written, began.elapsed())
        };
        let answers: Announced = match written {
            Ok(results) => {
                record(size, took, &results);
                // Before any answer leaves: a search after an ack finds it.
                indexer.mark(results.iter().filter_map(|a| match a {
                    Appended::New(m) => Some(m.conversation),
                    _ => None,
                }));
                thens.into_iter().zip(results.into_iter().map(Ok)).collect()
            }
            Err(e) => {
                tracing::error!(error = %e, size = thens.len(), "storing a batch of messages failed");
                let e = StoreError::from(e);
                thens
                    .into_iter()
                    .map(|then| (then, Err(e.clone())))
                    .collect()
            }
        };
        // The announcer lives as long as this sender; a send fails only if it panicked.
        if announce.send(answers).await.is_err() {
            tracing::error!("the announcer of stored messages is gone");
        }
    }
}

/// A committed batch's figures for `/metrics`: a few atomic adds per batch,
/// whatever its size.
fn record(size: usize, took: std::time::Duration, results: &[Appended]) {
    let m = metrics::handles();
    m.batch_size.record(size as f64);
    m.commit_seconds.record(took.as_secs_f64());
    let (mut chat, mut system) = (0u64, 0u64);
    for a in results {
        if let Appended::New(message) = a {
            if message.event.is_some() {
                system += 1;
            } else {
                chat += 1;
            }
        }
    }
    m.messages_chat.increment(chat);
    m.messages_system.increment(system);
}

/// Runs each batch's [`OnCommit`]s in order, batch after batch: the one
/// place where stored messages are announced. While it announces a batch,
/// the writer already stores the next.
async fn announcer(mut batches: mpsc::Receiver<Announced>) {
    while let Some(batch) = batches.recv().await {
        for (then, result) in batch {
            then(result);
        }
    }
}

/// Stores a batch in one transaction, in a fixed number of statements
/// whatever its size (look up resends, reserve seqs, insert, commit); the
/// messages move into the answers, which come in the batch's order.
async fn write_batch(
    conn: &mut SqliteConnection,
    batch: impl ExactSizeIterator<Item = (ConversationId, NewMessage)>,
) -> sqlx::Result<Vec<Appended>> {
    let batch: Vec<(ConversationId, NewMessage)> = batch.collect();
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;

    // Per message: new, or a resend stored by an earlier batch, or a resend
    // of an earlier message of this batch. Only messages marked as resends
    // are looked up: there is no index on the client's id, which would cost
    // every message a second B-tree insert (bench/README.md).
    let mut prior: Vec<Option<ChatMessage>> = vec![None; batch.len()];
    let mut repeat_of: Vec<Option<usize>> = vec![None; batch.len()];
    let mut wanted: BTreeMap<ConversationId, i64> = BTreeMap::new();
    {
        let earlier = stored_before(&mut tx, &batch).await?;
        for (i, (conversation, msg)) in batch.iter().enumerate() {
            if msg.resend {
                if let Some(m) = earlier.get(&(*conversation, msg.id.0.as_str())) {
                    prior[i] = Some(m.clone());
                    continue;
                }
                repeat_of[i] = batch[..i]
                    .iter()
                    .position(|(c, m)| c == conversation && m.id == msg.id);
                if repeat_of[i].is_some() {
                    continue;
                }
            }
            *wanted.entry(*conversation).or_default() += 1;
        }
    }
    // Seqs for the new messages of open conversations, in batch order.
    let mut next = reserve_seqs(&mut tx, &wanted).await?;
    let sent_at = now_ms();
    let mut seqs = vec![None; batch.len()];
    for (i, (conversation, _)) in batch.iter().enumerate() {
        if prior[i].is_none() && repeat_of[i].is_none() {
            if let Some(seq) = next.get_mut(conversation) {
                seqs[i] = Some(*seq);
                *seq += 1;
            }
        }
    }
    insert_rows(&mut tx, &batch, &seqs, sent_at).await?;
    tx.commit().await?;

    let mut out: Vec<Appended> = Vec::with_capacity(batch.len());
    for (i, (conversation, msg)) in batch.into_iter().enumerate() {
        let answer = if let Some(seq) = seqs[i] {
            Appended::New(ChatMessage {
                id: msg.id,
                conversation,
                seq,
                author: msg.author,
                author_name: msg.author_name,
                text: msg.text,
                event: msg.event,
                sent_at,
            })
        } else if let Some(m) = prior[i].take() {
            Appended::Duplicate(m)
        } else if let Some(j) = repeat_of[i] {
            match &out[j] {
                Appended::New(m) | Appended::Duplicate(m) => Appended::Duplicate(m.clone()),
                Appended::Closed => Appended::Closed,
            }
        } else {
            Appended::Closed
        };
        out.push(answer);
    }
    Ok(out)
}

/// The batch's resends that an earlier batch stored, by (conversation, id):
/// one query, which reads through each such conversation's messages (the
/// client's id has no index; resends are rare). If an id was stored twice
/// (by a client that resent without saying so), its first seq is kept.
async fn stored_before<'a>(
    conn: &mut SqliteConnection,
    batch: &'a [(ConversationId, NewMessage)],
) -> sqlx::Result<HashMap<(ConversationId, &'a str), ChatMessage>> {
    let resends = batch.iter().filter(|(_, m)| m.resend);
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
    let mut found = HashMap::with_capacity(rows.len());
    for row in rows {
        let message = row.into_message();
        if let Some((c, msg)) = batch
            .iter()
            .find(|(c, m)| m.resend && *c == message.conversation && m.id == message.id)
        {
            found.entry((*c, msg.id.0.as_str())).or_insert(message);
        }
    }
    Ok(found)
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
    Ok(rows
        .into_iter()
        .map(|(c, last)| (c, last - wanted.get(&c).copied().unwrap_or(0) + 1))
        .collect())
}

/// Inserts the messages that got a seq, in one statement. System events
/// are stored as JSON.
async fn insert_rows(
    conn: &mut SqliteConnection,
    batch: &[(ConversationId, NewMessage)],
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
