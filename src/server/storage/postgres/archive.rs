//! The archive: who served which conversation, closed conversations page
//! by page, and search over what people wrote (the trigram index
//! `messages_text`, pg_trgm, serving `ILIKE`) and over visitors' names and
//! emails. Same answers as SQLite's FTS5 search; there is no indexer to
//! wait for: a message is searchable once committed.

use async_trait::async_trait;
use sqlx::{Postgres as Db, QueryBuilder};

use super::Postgres;
use crate::protocol::archive::{ClosedConversation, VisitorLabel};
use crate::protocol::{AgentId, Author, ConversationId, ConversationStatus};
use crate::server::storage::{Archive, FoundMessage, FoundVisitor, Reader, StoreResult};

/// Trigrams are runs of three characters: a shorter term cannot be looked
/// up in the index (as on SQLite, whose limits these are).
const MIN_INDEXED_CHARS: usize = 3;

/// Searches with a shorter term (such as 退款) read the messages of at
/// most this many of the newest conversations the reader may see.
const SCAN_CONVERSATIONS: i64 = 1000;

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

/// An `ILIKE` pattern that finds `text` anywhere, taken literally: `%`,
/// `_` and the escape character `\` (PostgreSQL's default) are escaped.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// PostgreSQL text cannot hold NUL: a term with one finds nothing (and
/// would be refused as a parameter).
fn holds_nul(text: &str) -> bool {
    text.contains('\0')
}

const MESSAGE_HIT_COLUMNS: &str = "SELECT m.conversation_id, m.seq, m.author, m.body, m.sent_at,
        c.status, c.visitor_id, v.name, v.email
     FROM messages m
     JOIN conversations c ON c.id = m.conversation_id
     JOIN visitors v ON v.id = c.visitor_id
     WHERE m.author IN ('visitor', 'agent')";

#[async_trait]
impl Archive for Postgres {
    async fn has_served(&self, agent: AgentId, conversation: ConversationId) -> StoreResult<bool> {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM conversation_agents
                            WHERE agent_id = $1 AND conversation_id = $2)",
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
        // `closed_at IS NOT NULL` (always true of a closed conversation)
        // lets the newest-first order walk `conversations_closed` backwards:
        // PostgreSQL sorts NULLs first in DESC, SQLite last.
        let mut q = QueryBuilder::<Db>::new(
            "SELECT c.id, c.closed_at, c.visitor_id, v.name, v.email,
                (SELECT m.body FROM messages m
                 WHERE m.conversation_id = c.id AND m.author IN ('visitor', 'agent')
                 ORDER BY m.seq DESC LIMIT 1)
             FROM conversations c JOIN visitors v ON v.id = c.visitor_id
             WHERE c.status = 'closed' AND c.closed_at IS NOT NULL",
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
        if terms.is_empty() || terms.iter().any(|t| holds_nul(t)) {
            return Ok(Vec::new());
        }
        // `m.author IN ('visitor', 'agent')` (in the columns) is the partial
        // index's own condition, which lets the planner use it.
        let indexed = terms.iter().all(|t| t.chars().count() >= MIN_INDEXED_CHARS);
        let mut q = QueryBuilder::<Db>::new(MESSAGE_HIT_COLUMNS);
        if indexed {
            // Every term has trigrams to look up: search every conversation
            // the reader may see.
            push_reader(&mut q, reader, "m.conversation_id");
        } else {
            // A term too short for the index (the index would be read
            // whole): read the messages of the newest conversations the
            // reader may see, and no more.
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
        }
        // Case-insensitive and literal, like FTS5's trigram tokenizer.
        for term in terms {
            q.push(" AND m.body ILIKE ");
            q.push_bind(contains_pattern(term));
        }
        q.push(" ORDER BY m.conversation_id DESC, m.seq DESC LIMIT ");
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
        if holds_nul(query) {
            return Ok(Vec::new());
        }
        let pattern = contains_pattern(query);
        let mut q = QueryBuilder::<Db>::new(
            "SELECT c.id, c.status, c.visitor_id, v.name, v.email
             FROM visitors v JOIN conversations c ON c.visitor_id = v.id
             WHERE (v.name ILIKE ",
        );
        q.push_bind(pattern.clone());
        q.push(" OR v.email ILIKE ");
        q.push_bind(pattern);
        q.push(")");
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

    #[test]
    fn a_pattern_takes_wildcards_and_the_escape_literally() {
        assert_eq!(contains_pattern("退款"), "%退款%");
        assert_eq!(contains_pattern("100%_off\\"), "%100\\%\\_off\\\\%");
        assert_eq!(contains_pattern(""), "%%");
    }
}
