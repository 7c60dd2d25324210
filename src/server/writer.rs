//! The one writer of chat messages (group commit).
//!
//! Every socket's appends queue here; one task owning one SQLite connection
//! stores whatever is waiting as a batch, in one `BEGIN IMMEDIATE`
//! transaction, and answers each sender only after that batch committed. So
//! an acknowledged message is stored exactly as before, with far fewer
//! transactions and thread hand-offs per message under load.

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection, SqliteConnection as Conn};
use tokio::sync::{mpsc, oneshot};

use super::storage::{now_ms, Appended, MessageRow};
use crate::protocol::{Author, ChatMessage, ConversationId, MessageId, SystemEvent};

/// Most appends stored in one transaction.
const MAX_BATCH: usize = 512;
/// Appends that may wait for the writer before senders wait too.
const QUEUE: usize = 8192;

/// A message to append, owned so it can wait in the queue.
#[derive(Debug, Clone)]
pub struct OwnedMessage {
    /// Sender's id.
    pub id: MessageId,
    /// Who.
    pub author: Author,
    /// Agent's display name.
    pub author_name: Option<String>,
    /// Text.
    pub text: String,
    /// System event, already serialized.
    pub event: Option<String>,
    /// The event itself, for the answer.
    pub event_value: Option<SystemEvent>,
}

struct Job {
    conversation: ConversationId,
    msg: OwnedMessage,
    reply: oneshot::Sender<sqlx::Result<Appended>>,
}

/// Handle to the writer task; cheap to clone.
#[derive(Clone, Debug)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
}

impl Writer {
    /// Opens the writer's own connection and starts the task.
    pub async fn start(options: SqliteConnectOptions) -> sqlx::Result<Self> {
        let conn = options.connect().await?;
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(conn, rx));
        Ok(Self { tx })
    }

    /// Stores `msg` as the conversation's next seq (see [`Appended`]);
    /// returns once its batch is committed.
    pub async fn append(
        &self,
        conversation: ConversationId,
        msg: OwnedMessage,
    ) -> sqlx::Result<Appended> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job {
                conversation,
                msg,
                reply,
            })
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        answer.await.map_err(|_| sqlx::Error::PoolClosed)?
    }
}

async fn run(mut conn: SqliteConnection, mut rx: mpsc::Receiver<Job>) {
    let mut work = Vec::with_capacity(MAX_BATCH);
    let mut replies = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        while let Some(job) = next.take() {
            work.push((job.conversation, job.msg));
            replies.push(job.reply);
            if work.len() < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
        match write_batch(&mut conn, work.drain(..)).await {
            Ok(results) => {
                for (reply, result) in replies.drain(..).zip(results) {
                    let _ = reply.send(Ok(result));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, size = replies.len(), "storing a batch of messages failed");
                let reason = e.to_string();
                for reply in replies.drain(..) {
                    let _ = reply.send(Err(sqlx::Error::Protocol(reason.clone())));
                }
            }
        }
    }
}

/// Stores a batch in one transaction; the messages move into the answers.
async fn write_batch(
    conn: &mut Conn,
    batch: impl ExactSizeIterator<Item = (ConversationId, OwnedMessage)>,
) -> sqlx::Result<Vec<Appended>> {
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let mut out = Vec::with_capacity(batch.len());
    for (conversation, msg) in batch {
        out.push(append_one(&mut tx, conversation, msg).await?);
    }
    tx.commit().await?;
    Ok(out)
}

async fn stored(
    conn: &mut Conn,
    conversation: ConversationId,
    id: &MessageId,
) -> sqlx::Result<Option<ChatMessage>> {
    let row: Option<MessageRow> = sqlx::query_as(
        "SELECT conversation_id, seq, client_id, author, author_name, body, event, sent_at
         FROM messages WHERE conversation_id = ? AND client_id = ?",
    )
    .bind(conversation)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(MessageRow::into_message))
}

/// One append inside the batch's transaction. The common path is two
/// statements; a resent id (or a closed conversation) costs a look-up.
async fn append_one(
    conn: &mut Conn,
    conversation: ConversationId,
    msg: OwnedMessage,
) -> sqlx::Result<Appended> {
    let seq: Option<i64> = sqlx::query_scalar(
        "UPDATE conversations SET last_seq = last_seq + 1
         WHERE id = ? AND status != 'closed' RETURNING last_seq",
    )
    .bind(conversation)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(seq) = seq else {
        // Closed (or unknown): a resend of a message stored before still gets its ack.
        return Ok(match stored(conn, conversation, &msg.id).await? {
            Some(existing) => Appended::Duplicate(existing),
            None => Appended::Closed,
        });
    };
    let sent_at = now_ms();
    let inserted = sqlx::query(
        "INSERT INTO messages (conversation_id, seq, client_id, author, author_name, body, event, sent_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (conversation_id, client_id) DO NOTHING",
    )
    .bind(conversation)
    .bind(seq)
    .bind(&msg.id)
    .bind(msg.author.as_str())
    .bind(msg.author_name.as_deref())
    .bind(&msg.text)
    .bind(msg.event.as_deref())
    .bind(sent_at)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 0 {
        // A resend: give the seq back, answer with the stored message.
        sqlx::query("UPDATE conversations SET last_seq = last_seq - 1 WHERE id = ?")
            .bind(conversation)
            .execute(&mut *conn)
            .await?;
        return Ok(match stored(conn, conversation, &msg.id).await? {
            Some(existing) => Appended::Duplicate(existing),
            None => Appended::Closed,
        });
    }
    Ok(Appended::New(ChatMessage {
        id: msg.id,
        conversation,
        seq,
        author: msg.author,
        author_name: msg.author_name,
        text: msg.text,
        event: msg.event_value,
        sent_at,
    }))
}
