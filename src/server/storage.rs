//! Everything kefu keeps on disk, in one SQLite file (WAL mode).
//!
//! The hub and the server functions call these methods; no SQL lives anywhere else.

use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{FromRow, SqlitePool};

use crate::protocol::{
    AgentId, AgentInfo, Author, ChatMessage, ConversationId, ConversationStatus, MessageId,
    SystemEvent,
};

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

/// An agent account as stored.
#[derive(Debug, Clone, FromRow)]
pub struct AgentRow {
    /// Row id.
    pub id: AgentId,
    /// Unique, case-insensitive.
    pub name: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Admins manage agents.
    pub is_admin: bool,
    /// Concurrent conversations.
    pub capacity: i64,
    /// Disabled agents cannot sign in.
    pub disabled: bool,
}

impl AgentRow {
    /// What the browser may know of this agent.
    pub fn info(&self) -> AgentInfo {
        AgentInfo {
            id: self.id,
            name: self.name.clone(),
            is_admin: self.is_admin,
            capacity: self.capacity.max(0) as u32,
            disabled: self.disabled,
        }
    }
}

/// A conversation as stored.
#[derive(Debug, Clone, FromRow)]
pub struct ConversationRow {
    /// Row id.
    pub id: ConversationId,
    /// Whose.
    pub visitor_id: VisitorId,
    /// Serving agent while assigned.
    pub agent_id: Option<AgentId>,
    /// The serving agent's name while assigned.
    pub agent_name: Option<String>,
    /// queued | assigned | closed.
    pub status: String,
    /// Newest seq.
    pub last_seq: i64,
    /// Agent has read up to here.
    pub agent_read_seq: i64,
}

impl ConversationRow {
    /// Parsed status.
    pub fn status(&self) -> ConversationStatus {
        ConversationStatus::parse(&self.status)
    }
}

/// A stored message row (also read by the writer).
#[derive(FromRow)]
pub(super) struct MessageRow {
    conversation_id: ConversationId,
    seq: i64,
    client_id: MessageId,
    author: String,
    author_name: Option<String>,
    body: String,
    event: Option<String>,
    sent_at: i64,
}

impl MessageRow {
    /// As the wire has it.
    pub(super) fn into_message(self) -> ChatMessage {
        ChatMessage {
            id: self.client_id,
            conversation: self.conversation_id,
            seq: self.seq,
            author: Author::parse(&self.author).unwrap_or(Author::System),
            author_name: self.author_name,
            text: self.body,
            event: self
                .event
                .and_then(|e| serde_json::from_str::<SystemEvent>(&e).ok()),
            sent_at: self.sent_at,
        }
    }
}

/// What to append to a conversation. Owned: the sender's frame already
/// holds the id and text, and they move on into the writer's queue as they are.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Client's id (or a server-made one for system messages).
    pub id: MessageId,
    /// Who.
    pub author: Author,
    /// Agent's display name for agent messages.
    pub author_name: Option<String>,
    /// Text (empty for system messages).
    pub text: String,
    /// For system messages.
    pub event: Option<SystemEvent>,
    /// Marked by the client as possibly sent before: only these are looked
    /// up, and stored only if not found (see [`super::writer`]).
    pub resend: bool,
}

/// Outcome of [`Storage::append`].
#[derive(Debug)]
pub enum Appended {
    /// Stored now.
    New(ChatMessage),
    /// This id was stored before; nothing changed.
    Duplicate(ChatMessage),
    /// The conversation is closed (or does not exist); nothing stored.
    Closed,
}

/// Why an account could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateAgentError {
    /// The name is taken (names are case-insensitive).
    #[error("an agent with that name already exists")]
    NameTaken,
    /// Storage failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// The SQLite database.
#[derive(Clone, Debug)]
pub struct Storage {
    pool: SqlitePool,
    /// The one writer of chat messages (group commit).
    writer: super::writer::Writer,
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
        let writer = super::writer::Writer::start(options, gate.clone()).await?;
        super::checkpoint::start(pool.clone(), gate);
        Ok(Self { pool, writer })
    }

    // ---- agents ----

    /// How many agent accounts exist.
    pub async fn agent_count(&self) -> sqlx::Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM agents")
            .fetch_one(&self.pool)
            .await
    }

    /// Creates an account. With `only_if_none`, fails unless no account exists
    /// yet (first-run setup), atomically.
    pub async fn create_agent(
        &self,
        name: &str,
        password_hash: &str,
        capacity: u32,
        is_admin: bool,
        only_if_none: bool,
    ) -> Result<Option<AgentRow>, CreateAgentError> {
        let sql = if only_if_none {
            "INSERT INTO agents (name, password_hash, is_admin, capacity, created_at)
             SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM agents)
             RETURNING id, name, password_hash, is_admin, capacity, disabled"
        } else {
            "INSERT INTO agents (name, password_hash, is_admin, capacity, created_at)
             VALUES (?, ?, ?, ?, ?)
             RETURNING id, name, password_hash, is_admin, capacity, disabled"
        };
        let row = sqlx::query_as::<_, AgentRow>(sql)
            .bind(name)
            .bind(password_hash)
            .bind(is_admin)
            .bind(capacity as i64)
            .bind(now_ms())
            .fetch_optional(&self.pool)
            .await;
        match row {
            Ok(row) => Ok(row),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(CreateAgentError::NameTaken)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Looks an account up by name (case-insensitive).
    pub async fn agent_by_name(&self, name: &str) -> sqlx::Result<Option<AgentRow>> {
        sqlx::query_as(
            "SELECT id, name, password_hash, is_admin, capacity, disabled FROM agents WHERE name = ?",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await
    }

    /// Every account, by name.
    pub async fn list_agents(&self) -> sqlx::Result<Vec<AgentRow>> {
        sqlx::query_as(
            "SELECT id, name, password_hash, is_admin, capacity, disabled FROM agents ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await
    }

    // ---- sessions ----

    /// Stores a session for `agent` that ends at `expires_at` (ms).
    pub async fn create_session(
        &self,
        token_hash: &[u8],
        agent: AgentId,
        expires_at: i64,
    ) -> sqlx::Result<()> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO sessions (token_hash, agent_id, created_at, expires_at, last_seen_at)
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(token_hash)
        .bind(agent)
        .bind(now)
        .bind(expires_at)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The enabled agent behind a session that is neither past its absolute
    /// expiry nor unused since `idle_since` (ms). With `touch`, marks the
    /// session used (at most once a minute, to spare writes).
    pub async fn session_agent(
        &self,
        token_hash: &[u8],
        idle_since: i64,
        touch: bool,
    ) -> sqlx::Result<Option<AgentRow>> {
        let now = now_ms();
        let agent: Option<AgentRow> = sqlx::query_as(
            "SELECT a.id, a.name, a.password_hash, a.is_admin, a.capacity, a.disabled
             FROM sessions s JOIN agents a ON a.id = s.agent_id
             WHERE s.token_hash = ? AND s.expires_at > ? AND s.last_seen_at > ? AND a.disabled = 0",
        )
        .bind(token_hash)
        .bind(now)
        .bind(idle_since)
        .fetch_optional(&self.pool)
        .await?;
        if agent.is_some() && touch {
            sqlx::query(
                "UPDATE sessions SET last_seen_at = ? WHERE token_hash = ? AND last_seen_at < ?",
            )
            .bind(now)
            .bind(token_hash)
            .bind(now - 60_000)
            .execute(&self.pool)
            .await?;
        }
        Ok(agent)
    }

    /// Ends every session of an agent.
    pub async fn delete_agent_sessions(&self, agent: AgentId) -> sqlx::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE agent_id = ?")
            .bind(agent)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// One agent account.
    pub async fn agent_by_id(&self, id: AgentId) -> sqlx::Result<Option<AgentRow>> {
        sqlx::query_as(
            "SELECT id, name, password_hash, is_admin, capacity, disabled FROM agents WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
    }

    /// Changes an agent's capacity and enabled state.
    pub async fn update_agent(
        &self,
        id: AgentId,
        capacity: u32,
        disabled: bool,
    ) -> sqlx::Result<Option<AgentRow>> {
        sqlx::query_as(
            "UPDATE agents SET capacity = ?, disabled = ? WHERE id = ?
             RETURNING id, name, password_hash, is_admin, capacity, disabled",
        )
        .bind(i64::from(capacity))
        .bind(disabled)
        .bind(id)
        .fetch_optional(&self.pool)
        .await
    }

    /// Removes an agent account. Their past messages keep their name; their
    /// conversations must already be closed or requeued.
    pub async fn delete_agent(&self, id: AgentId) -> sqlx::Result<bool> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM sessions WHERE agent_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE conversations SET agent_id = NULL WHERE agent_id = ? AND status = 'closed'",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let gone = sqlx::query("DELETE FROM agents WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(gone > 0)
    }

    /// Ends a session.
    pub async fn delete_session(&self, token_hash: &[u8]) -> sqlx::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    // ---- visitors ----

    /// The visitor with this token hash.
    pub async fn visitor_by_token(&self, token_hash: &[u8]) -> sqlx::Result<Option<VisitorId>> {
        sqlx::query_scalar("SELECT id FROM visitors WHERE token_hash = ?")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
    }

    /// Creates a visitor known by this token hash.
    pub async fn create_visitor(&self, token_hash: &[u8]) -> sqlx::Result<VisitorId> {
        sqlx::query_scalar(
            "INSERT INTO visitors (token_hash, created_at) VALUES (?, ?) RETURNING id",
        )
        .bind(token_hash)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await
    }

    // ---- conversations ----

    const CONVERSATION_COLUMNS: &'static str =
        "c.id, c.visitor_id, c.agent_id, a.name AS agent_name, c.status, c.last_seq, c.agent_read_seq
         FROM conversations c LEFT JOIN agents a ON a.id = c.agent_id";

    /// Opens a new, queued conversation for `visitor`.
    pub async fn create_conversation(&self, visitor: VisitorId) -> sqlx::Result<ConversationId> {
        let now = now_ms();
        sqlx::query_scalar(
            "INSERT INTO conversations (visitor_id, status, created_at, queued_at)
             VALUES (?, 'queued', ?, ?) RETURNING id",
        )
        .bind(visitor)
        .bind(now)
        .bind(now)
        .fetch_one(&self.pool)
        .await
    }

    /// How many conversations `visitor` started after `since` (ms).
    pub async fn conversations_since(&self, visitor: VisitorId, since: i64) -> sqlx::Result<i64> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM conversations WHERE visitor_id = ? AND created_at > ?",
        )
        .bind(visitor)
        .bind(since)
        .fetch_one(&self.pool)
        .await
    }

    /// Every conversation not yet closed, oldest queued first.
    pub async fn open_conversations(&self) -> sqlx::Result<Vec<ConversationRow>> {
        sqlx::query_as(&format!(
            "SELECT {} WHERE c.status != 'closed' ORDER BY c.queued_at, c.id",
            Self::CONVERSATION_COLUMNS
        ))
        .fetch_all(&self.pool)
        .await
    }

    /// The visitor's newest conversation, open or closed.
    pub async fn latest_conversation(
        &self,
        visitor: VisitorId,
    ) -> sqlx::Result<Option<ConversationRow>> {
        sqlx::query_as(&format!(
            "SELECT {} WHERE c.visitor_id = ? ORDER BY c.id DESC LIMIT 1",
            Self::CONVERSATION_COLUMNS
        ))
        .bind(visitor)
        .fetch_optional(&self.pool)
        .await
    }

    /// One conversation.
    pub async fn conversation(&self, id: ConversationId) -> sqlx::Result<Option<ConversationRow>> {
        sqlx::query_as(&format!(
            "SELECT {} WHERE c.id = ?",
            Self::CONVERSATION_COLUMNS
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
    }

    /// Gives a conversation to an agent.
    pub async fn assign(&self, id: ConversationId, agent: AgentId) -> sqlx::Result<()> {
        sqlx::query("UPDATE conversations SET agent_id = ?, status = 'assigned' WHERE id = ?")
            .bind(agent)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Puts a conversation back in the queue.
    pub async fn requeue(&self, id: ConversationId) -> sqlx::Result<()> {
        sqlx::query(
            "UPDATE conversations SET agent_id = NULL, status = 'queued' WHERE id = ? AND status != 'closed'",
        )
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Closes a conversation.
    pub async fn close(&self, id: ConversationId) -> sqlx::Result<()> {
        sqlx::query("UPDATE conversations SET status = 'closed', closed_at = ? WHERE id = ?")
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records how far the agent has read.
    pub async fn set_agent_read(&self, id: ConversationId, seq: i64) -> sqlx::Result<()> {
        sqlx::query(
            "UPDATE conversations SET agent_read_seq = MAX(agent_read_seq, MIN(?, last_seq)) WHERE id = ?",
        )
        .bind(seq)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    // ---- messages ----

    /// Stores a message as the conversation's next seq, in one transaction,
    /// unless a message with the same id is already there. Goes through the
    /// group-commit writer: returns once the message is committed.
    pub async fn append(
        &self,
        conversation: ConversationId,
        msg: NewMessage,
    ) -> sqlx::Result<Appended> {
        self.submit(conversation, msg).await?.await
    }

    /// Like [`Storage::append`], but returns as soon as the message is queued
    /// for the writer (behind every message submitted before it); the
    /// answer comes when its batch is committed.
    pub async fn submit(
        &self,
        conversation: ConversationId,
        msg: NewMessage,
    ) -> sqlx::Result<super::writer::Stored> {
        let event = msg
            .event
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        let owned = super::writer::OwnedMessage {
            id: msg.id,
            author: msg.author,
            author_name: msg.author_name,
            text: msg.text,
            event,
            event_value: msg.event,
            resend: msg.resend,
        };
        self.writer.submit(conversation, owned).await
    }

    /// Messages with seq > `after`, oldest first, at most `limit`.
    pub async fn messages_after(
        &self,
        conversation: ConversationId,
        after: i64,
        limit: i64,
    ) -> sqlx::Result<Vec<ChatMessage>> {
        let rows: Vec<MessageRow> = sqlx::query_as(
            "SELECT conversation_id, seq, client_id, author, author_name, body, event, sent_at
             FROM messages WHERE conversation_id = ? AND seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(conversation)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(MessageRow::into_message).collect())
    }

    /// The newest `limit` messages with seq < `before`, oldest first.
    pub async fn messages_before(
        &self,
        conversation: ConversationId,
        before: i64,
        limit: i64,
    ) -> sqlx::Result<Vec<ChatMessage>> {
        let rows: Vec<MessageRow> = sqlx::query_as(
            "SELECT conversation_id, seq, client_id, author, author_name, body, event, sent_at
             FROM messages WHERE conversation_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
        )
        .bind(conversation)
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .rev()
            .map(MessageRow::into_message)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn temp() -> (tempfile::TempDir, Storage) {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = Storage::open(&dir.path().join("sub/kefu.db"))
            .await
            .expect("opens");
        (dir, storage)
    }

    fn text(id: &MessageId, text: &str) -> NewMessage {
        NewMessage {
            id: id.clone(),
            author: Author::Visitor,
            author_name: None,
            text: text.to_owned(),
            event: None,
            resend: false,
        }
    }

    /// The same message marked as a resend.
    fn resent(id: &MessageId, text_: &str) -> NewMessage {
        NewMessage {
            resend: true,
            ..text(id, text_)
        }
    }

    #[tokio::test]
    async fn seq_is_gapless_and_resends_are_stored_once() {
        let (_dir, s) = temp().await;
        let v = s.create_visitor(b"h").await.expect("visitor");
        let c = s.create_conversation(v).await.expect("conversation");
        let a = MessageId("a".into());
        let b = MessageId("b".into());
        let Appended::New(first) = s.append(c, text(&a, "one")).await.expect("append") else {
            panic!("first append must be new");
        };
        assert_eq!(first.seq, 1);
        let Appended::Duplicate(again) = s.append(c, resent(&a, "one")).await.expect("append")
        else {
            panic!("a resend must be a duplicate");
        };
        assert_eq!(again.seq, 1);
        let Appended::New(second) = s.append(c, text(&b, "two")).await.expect("append") else {
            panic!("second append must be new");
        };
        assert_eq!(second.seq, 2);
        let all = s.messages_after(c, 0, 100).await.expect("history");
        assert_eq!(
            all.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(),
            ["one", "two"]
        );
        s.close(c).await.expect("close");
        let c_id = MessageId("c".into());
        assert!(matches!(
            s.append(c, text(&c_id, "late")).await.expect("append"),
            Appended::Closed
        ));
    }

    #[tokio::test]
    async fn one_batch_keeps_order_gapless_seqs_resends_repeats_and_closed_apart() {
        let (_dir, s) = temp().await;
        let v = s.create_visitor(b"h").await.expect("visitor");
        let c1 = s.create_conversation(v).await.expect("conversation");
        let c2 = s.create_conversation(v).await.expect("conversation");
        let c3 = s.create_conversation(v).await.expect("conversation");
        s.close(c3).await.expect("close");
        let id = |x: &str| MessageId(x.into());
        let a = id("a");
        s.append(c1, text(&a, "a")).await.expect("append");
        // Sent together, these reach the writer as one batch.
        let (b, x, z, y, c) = (id("b"), id("x"), id("z"), id("y"), id("c"));
        let answers = futures::future::join_all([
            s.append(c1, resent(&a, "a")),
            s.append(c1, text(&b, "b")),
            s.append(c2, text(&x, "x")),
            s.append(c1, resent(&b, "b")),
            s.append(c3, text(&z, "z")),
            s.append(c2, text(&y, "y")),
            s.append(c1, text(&c, "c")),
        ])
        .await;
        let got: Vec<String> = answers
            .into_iter()
            .map(|a| match a.expect("append") {
                Appended::New(m) => format!("new {} {}", m.text, m.seq),
                Appended::Duplicate(m) => format!("dup {} {}", m.text, m.seq),
                Appended::Closed => "closed".to_owned(),
            })
            .collect();
        assert_eq!(
            got,
            ["dup a 1", "new b 2", "new x 1", "dup b 2", "closed", "new y 2", "new c 3"]
        );
        let texts =
            |m: Vec<ChatMessage>| m.into_iter().map(|m| (m.seq, m.text)).collect::<Vec<_>>();
        assert_eq!(
            texts(s.messages_after(c1, 0, 10).await.expect("c1")),
            [(1, "a".into()), (2, "b".into()), (3, "c".into())]
        );
        assert_eq!(
            texts(s.messages_after(c2, 0, 10).await.expect("c2")),
            [(1, "x".into()), (2, "y".into())]
        );
        assert!(s.messages_after(c3, 0, 10).await.expect("c3").is_empty());
    }

    /// A database made before the resend look-up keeps its messages when
    /// the migration drops the id index, and resends still find them.
    #[tokio::test]
    async fn the_id_index_migration_keeps_stored_messages() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("old.db");
        {
            let pool = SqlitePool::connect_with(
                SqliteConnectOptions::new()
                    .filename(&path)
                    .create_if_missing(true),
            )
            .await
            .expect("opens");
            let mut before = sqlx::migrate!("./migrations");
            before.migrations = before
                .migrations
                .iter()
                .filter(|m| m.version < 20261124000001)
                .cloned()
                .collect::<Vec<_>>()
                .into();
            before.run(&pool).await.expect("the older migrations run");
            sqlx::query(
                "INSERT INTO visitors (id, token_hash, created_at) VALUES (1, x'01', 0);
                 INSERT INTO conversations (id, visitor_id, status, last_seq, created_at, queued_at)
                     VALUES (1, 1, 'queued', 1, 0, 0);
                 INSERT INTO messages (conversation_id, seq, client_id, author, body, sent_at)
                     VALUES (1, 1, 'old-1', 'visitor', 'from before', 0);",
            )
            .execute(&pool)
            .await
            .expect("a message stored the old way");
            pool.close().await;
        }
        let s = Storage::open(&path).await.expect("migrates");
        let c = ConversationId(1);
        let kept = s.messages_after(c, 0, 10).await.expect("history");
        assert_eq!(
            kept.iter()
                .map(|m| (m.seq, m.id.0.as_str(), m.text.as_str()))
                .collect::<Vec<_>>(),
            [(1, "old-1", "from before")]
        );
        let indexes: Vec<(i64, String, i64)> =
            sqlx::query_as("SELECT seq, name, \"unique\" FROM pragma_index_list('messages')")
                .fetch_all(&s.pool)
                .await
                .expect("index list");
        assert_eq!(
            indexes.len(),
            1,
            "only the primary key is left: {indexes:?}"
        );
        let again = s
            .append(c, resent(&MessageId("old-1".into()), "from before"))
            .await
            .expect("append");
        assert!(
            matches!(&again, Appended::Duplicate(m) if m.seq == 1),
            "{again:?}"
        );
    }

    /// More appends than fit one batch, queued at once, over a few
    /// conversations: all stored, seqs gapless per conversation (a full
    /// batch stays within SQLite's bound on values per statement).
    #[tokio::test]
    async fn full_batches_store_every_message_in_order() {
        let (_dir, s) = temp().await;
        let v = s.create_visitor(b"h").await.expect("visitor");
        let mut convs = Vec::new();
        for _ in 0..3 {
            convs.push(s.create_conversation(v).await.expect("conversation"));
        }
        let n = 2 * crate::server::writer::MAX_BATCH + 1;
        let ids: Vec<MessageId> = (0..n).map(|i| MessageId(format!("m{i}"))).collect();
        let answers = futures::future::join_all(
            ids.iter()
                .enumerate()
                .map(|(i, id)| s.append(convs[i % 3], resent(id, "x"))),
        )
        .await;
        let mut seqs = [vec![], vec![], vec![]];
        for (i, a) in answers.into_iter().enumerate() {
            match a.expect("append") {
                Appended::New(m) => seqs[i % 3].push(m.seq),
                other => panic!("message {i}: {other:?}"),
            }
        }
        for (k, (c, mut got)) in convs.iter().zip(seqs).enumerate() {
            got.sort_unstable();
            let want: Vec<i64> = (1..=got.len() as i64).collect();
            assert_eq!(got, want, "conversation {k}: gapless seqs");
            let stored = s.messages_after(*c, 0, 10_000).await.expect("history");
            assert_eq!(stored.len(), (n + 2 - k) / 3, "conversation {k}");
        }
    }

    /// Only marked resends are looked up (no index on the client's id): an
    /// unmarked repeat is stored again, and a later marked resend is
    /// acknowledged with the first seq.
    #[tokio::test]
    async fn only_marked_resends_are_looked_up() {
        let (_dir, s) = temp().await;
        let v = s.create_visitor(b"h").await.expect("visitor");
        let c = s.create_conversation(v).await.expect("conversation");
        let a = MessageId("a".into());
        let outcome = |r: sqlx::Result<Appended>| match r.expect("append") {
            Appended::New(m) => format!("new {}", m.seq),
            Appended::Duplicate(m) => format!("dup {}", m.seq),
            Appended::Closed => "closed".to_owned(),
        };
        assert_eq!(outcome(s.append(c, text(&a, "a")).await), "new 1");
        assert_eq!(outcome(s.append(c, text(&a, "a")).await), "new 2");
        assert_eq!(outcome(s.append(c, resent(&a, "a")).await), "dup 1");
        let b = MessageId("b".into());
        assert_eq!(outcome(s.append(c, resent(&b, "b")).await), "new 3");
    }

    #[tokio::test]
    async fn the_wal_starts_over_while_the_writer_never_pauses() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("kefu.db");
        let s = Storage::open(&db).await.expect("opens");
        let v = s.create_visitor(b"h").await.expect("visitor");
        let c = s.create_conversation(v).await.expect("conversation");
        // New databases use small pages (fewer bytes per commit).
        let page: i64 = sqlx::query_scalar("PRAGMA page_size")
            .fetch_one(&s.pool)
            .await
            .expect("page size");
        assert_eq!(page, 1024);
        // One commit after another for two seconds, watching the WAL's
        // checkpoint sequence number (header bytes 12..16), which SQLite
        // bumps each time the log starts over from its beginning.
        let wal = dir.path().join("kefu.db-wal");
        let sequence = || -> Option<u32> {
            let header = std::fs::read(&wal).ok()?;
            Some(u32::from_be_bytes(header.get(12..16)?.try_into().ok()?))
        };
        let started = std::time::Instant::now();
        let mut commits = 0u64;
        let mut seen = std::collections::BTreeSet::new();
        while started.elapsed() < Duration::from_secs(2) || commits < 3_000 {
            let id = MessageId(format!("m{commits}"));
            s.append(c, text(&id, "a message of ordinary length, for the WAL"))
                .await
                .expect("append");
            commits += 1;
            if commits.is_multiple_of(20) {
                seen.extend(sequence());
            }
        }
        // Checkpoints run every 250 ms: a WAL that starts over would do so
        // several times in two seconds, one that never does keeps one number.
        assert!(
            seen.len() >= 3,
            "the WAL started over {} times in {commits} commits ({} bytes now)",
            seen.len().saturating_sub(1),
            std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0)
        );
    }

    #[tokio::test]
    async fn first_admin_can_be_created_only_once() {
        let (_dir, s) = temp().await;
        let first = s.create_agent("Ann", "h", 5, true, true).await.expect("ok");
        assert!(first.is_some());
        let second = s.create_agent("Bob", "h", 5, true, true).await.expect("ok");
        assert!(second.is_none());
        assert!(matches!(
            s.create_agent("ann", "h", 5, false, false).await,
            Err(CreateAgentError::NameTaken)
        ));
    }
}
