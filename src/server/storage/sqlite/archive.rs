//! The archive: who served which conversation, closed conversations page
//! by page, and search over what people wrote (the FTS5 table
//! `message_text`, trigram tokenizer) and over visitors' names and emails.

use async_trait::async_trait;
use sqlx::{QueryBuilder, Sqlite as Db};

use super::Sqlite;
use crate::protocol::archive::{ClosedConversation, VisitorLabel};
use crate::protocol::{AgentId, Author, ConversationId, ConversationStatus};
use crate::server::storage::{Archive, FoundMessage, FoundVisitor, Reader, StoreResult};

/// The trigram tokenizer indexes runs of three characters: a shorter term
/// cannot be looked up in the index.
pub const MIN_INDEXED_CHARS: usize = 3;

/// Searches with a shorter term (such as 退款) read the messages of at
/// most this many of the newest conversations the reader may see.
pub const SCAN_CONVERSATIONS: i64 = 1000;

/// How long a search waits for the messages committed before it to be
/// indexed (under a load the indexer cannot keep up with, it searches what
/// is indexed).
const FLUSH_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// A message row as searched: conversation, seq, author, body, sent_at,
/// status, visitor number, name, email.
type MessageHit = (
    ConversationId,
    i64,
    String,
    String,
    i64,
    String,
    i64,
    Option<String>,
    Option<String>,
);

fn found_message(row: MessageHit) -> FoundMessage {
    let (conversation, seq, author, text, sent_at, status, number, name, email) = row;
    FoundMessage {
        conversation,
        seq,
        author: Author::parse(&author).unwrap_or(Author::System),
        text,
        sent_at,
        status: ConversationStatus::parse(&status),
        visitor: VisitorLabel {
            number,
            name,
            email,
        },
    }
}

/// Limits `column` (a conversation id) to what `reader` may see.
fn push_reader(q: &mut QueryBuilder<'_, Db>, reader: Reader, column: &str) {
    if let Reader::Served(agent) = reader {
        q.push(format!(
            " AND {column} IN (SELECT conversation_id FROM conversation_agents WHERE agent_id = "
        ));
        q.push_bind(agent);
        q.push(")");
    }
}

/// `term` as one FTS5 string: taken literally, whatever quotes or
/// operators (AND, OR, NEAR, *, ^, :) it holds.
fn fts_string(term: &str) -> String {
    format!("\"{}\"", term.replace('"', "\"\""))
}

const MESSAGE_HIT_COLUMNS: &str = "SELECT m.conversation_id, m.seq, m.author, m.body, m.sent_at,
        c.status, c.visitor_id, v.name, v.email";

#[async_trait]
impl Archive for Sqlite {
    async fn has_served(&self, agent: AgentId, conversation: ConversationId) -> StoreResult<bool> {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM conversation_agents WHERE agent_id = ? AND conversation_id = ?)",
        )
        .bind(agent)
        .bind(conversation)
        .fetch_one(&self.pool)
        .await
        .map_err(Into::into)
    }

    async fn closed_conversations(
        &self,
        reader: Reader,
        before: Option<(i64, ConversationId)>,
        limit: i64,
    ) -> StoreResult<Vec<ClosedConversation>> {
        let mut q = QueryBuilder::<Db>::new(
            "SELECT c.id, c.closed_at, c.visitor_id, v.name, v.email,
                (SELECT m.body FROM messages m
                 WHERE m.conversation_id = c.id AND m.author IN ('visitor', 'agent')
                 ORDER BY m.seq DESC LIMIT 1)
             FROM conversations c JOIN visitors v ON v.id = c.visitor_id
             WHERE c.status = 'closed'",
        );
        push_reader(&mut q, reader, "c.id");
        if let Some((closed_at, id)) = before {
            q.push(" AND (c.closed_at < ");
            q.push_bind(closed_at);
            q.push(" OR (c.closed_at = ");
            q.push_bind(closed_at);
            q.push(" AND c.id < ");
            q.push_bind(id);
            q.push("))");
        }
        q.push(" ORDER BY c.closed_at DESC, c.id DESC LIMIT ");
        q.push_bind(limit);
        type Row = (
            ConversationId,
            Option<i64>,
            i64,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> = q.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, closed_at, number, name, email, last_text)| ClosedConversation {
                    id,
                    visitor: VisitorLabel {
                        number,
                        name,
                        email,
                    },
                    closed_at: closed_at.unwrap_or(0),
                    last_text,
                },
            )
            .collect())
    }

    async fn search_messages(
        &self,
        reader: Reader,
        terms: &[String],
        limit: i64,
    ) -> StoreResult<Vec<FoundMessage>> {
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        if !self.indexer.flush(FLUSH_WAIT).await {
            tracing::debug!("searching while the index is behind");
        }
        let indexed = terms.iter().all(|t| t.chars().count() >= MIN_INDEXED_CHARS);
        let mut q = QueryBuilder::<Db>::new(MESSAGE_HIT_COLUMNS);
        if indexed {
            // Every term in the index; newest conversations first.
            let query = terms
                .iter()
                .map(|t| fts_string(t))
                .collect::<Vec<_>>()
                .join(" ");
            q.push(
                " FROM message_text f
                 JOIN messages m ON m.conversation_id = f.rowid / 4294967296
                     AND m.seq = f.rowid % 4294967296
                 JOIN conversations c ON c.id = m.conversation_id
                 JOIN visitors v ON v.id = c.visitor_id
                 WHERE message_text MATCH ",
            );
            q.push_bind(query);
            push_reader(&mut q, reader, "m.conversation_id");
            q.push(" ORDER BY f.rowid DESC LIMIT ");
        } else {
            // A term too short for the index: read the messages of the
            // newest conversations the reader may see, and no more.
            q.push(
                " FROM messages m
                 JOIN conversations c ON c.id = m.conversation_id
                 JOIN visitors v ON v.id = c.visitor_id
                 WHERE m.author IN ('visitor', 'agent')",
            );
            match reader {
                Reader::All => {
                    q.push(
                        " AND m.conversation_id > (SELECT COALESCE(MAX(id), 0) FROM conversations) - ",
                    );
                    q.push_bind(SCAN_CONVERSATIONS);
                }
                Reader::Served(agent) => {
                    q.push(
                        " AND m.conversation_id IN (SELECT conversation_id FROM conversation_agents
                         WHERE agent_id = ",
                    );
                    q.push_bind(agent);
                    q.push(" ORDER BY conversation_id DESC LIMIT ");
                    q.push_bind(SCAN_CONVERSATIONS);
                    q.push(")");
                }
            }
            for term in terms {
                q.push(" AND instr(lower(m.body), ");
                q.push_bind(term.to_ascii_lowercase());
                q.push(") > 0");
            }
            q.push(" ORDER BY m.conversation_id DESC, m.seq DESC LIMIT ");
        }
        q.push_bind(limit);
        let rows: Vec<MessageHit> = q.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(found_message).collect())
    }

    async fn search_visitors(
        &self,
        reader: Reader,
        query: &str,
        limit: i64,
    ) -> StoreResult<Vec<FoundVisitor>> {
        let mut q = QueryBuilder::<Db>::new(
            "SELECT c.id, c.status, c.visitor_id, v.name, v.email
             FROM visitors v JOIN conversations c ON c.visitor_id = v.id
             WHERE (instr(lower(v.name), ",
        );
        let query = query.to_ascii_lowercase();
        q.push_bind(query.clone());
        q.push(") > 0 OR instr(lower(v.email), ");
        q.push_bind(query);
        q.push(") > 0)");
        push_reader(&mut q, reader, "c.id");
        q.push(" ORDER BY c.id DESC LIMIT ");
        q.push_bind(limit);
        type Row = (ConversationId, String, i64, Option<String>, Option<String>);
        let rows: Vec<Row> = q.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(|(conversation, status, number, name, email)| FoundVisitor {
                conversation,
                status: ConversationStatus::parse(&status),
                visitor: VisitorLabel {
                    number,
                    name,
                    email,
                },
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database from before the search migration: its messages are
    /// indexed (system notices left out) and who served what is known.
    #[tokio::test]
    async fn the_search_migration_indexes_stored_messages_and_who_served_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("old.db");
        {
            let pool = super::super::tests::migrated_before(&path, 20261205000021).await;
            sqlx::query(
                "INSERT INTO agents (id, name, password_hash, created_at) VALUES (1, 'Ann', 'x', 0), (2, 'Bob', 'x', 0);
                 INSERT INTO visitors (id, token_hash, created_at) VALUES (1, x'01', 0);
                 INSERT INTO conversations (id, visitor_id, agent_id, status, last_seq, created_at, queued_at, closed_at)
                     VALUES (1, 1, NULL, 'closed', 3, 0, 0, 5), (2, 1, 2, 'assigned', 1, 0, 0, NULL);
                 INSERT INTO messages (conversation_id, seq, client_id, author, author_name, body, event, sent_at) VALUES
                     (1, 1, 's1', 'system', NULL, '', '{\"type\":\"assigned\",\"agent\":\"Ann\"}', 0),
                     (1, 2, 'v1', 'visitor', NULL, '我想申请退款', NULL, 0),
                     (1, 3, 'a1', 'agent', 'Ann', 'refund sent', NULL, 0),
                     (2, 1, 'v2', 'visitor', NULL, 'another refund', NULL, 0);",
            )
            .execute(&pool)
            .await
            .expect("rows stored the old way");
            pool.close().await;
        }
        let s = Sqlite::open_file(&path).await.expect("migrates");
        let ann = AgentId(1);
        assert!(s.has_served(ann, ConversationId(1)).await.expect("served"));
        assert!(s
            .has_served(AgentId(2), ConversationId(2))
            .await
            .expect("served"));
        assert!(!s.has_served(ann, ConversationId(2)).await.expect("served"));
        let terms = |t: &[&str]| t.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>();
        let seqs = |found: Vec<FoundMessage>| {
            found
                .into_iter()
                .map(|m| (m.conversation.0, m.seq))
                .collect::<Vec<_>>()
        };
        let all = s
            .search_messages(Reader::All, &terms(&["refund"]), 10)
            .await
            .expect("search");
        assert_eq!(seqs(all), [(2, 1), (1, 3)]);
        let anns = s
            .search_messages(Reader::Served(ann), &terms(&["申请退款"]), 10)
            .await
            .expect("search");
        assert_eq!(seqs(anns), [(1, 2)]);
        let indexed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM message_text")
            .fetch_one(&s.pool)
            .await
            .expect("count");
        assert_eq!(indexed, 3, "the system notice is not indexed");
    }
}
