//! Private notes, kept beside a conversation's messages. A note is one
//! small row written in its own statement (not through the messages'
//! group-commit writer: notes are rare, and take no seq), committed
//! before the hub acknowledges it.

use async_trait::async_trait;
use sqlx::FromRow;

use super::Postgres;
use crate::protocol::{ChatNote, ConversationId, MessageId};
use crate::server::storage::{now_ms, NewNote, Notes, StoreResult};

#[derive(FromRow)]
struct NoteRow {
    client_id: String,
    conversation_id: i64,
    after_seq: i64,
    author_name: String,
    body: String,
    sent_at: i64,
}

impl NoteRow {
    fn into_note(self) -> ChatNote {
        ChatNote {
            id: MessageId(self.client_id),
            conversation: ConversationId(self.conversation_id),
            after_seq: self.after_seq,
            author_name: self.author_name,
            text: self.body,
            sent_at: self.sent_at,
        }
    }
}

const NOTE_COLUMNS: &str = "client_id, conversation_id, after_seq, author_name, body, sent_at";

#[async_trait]
impl Notes for Postgres {
    async fn add_note(
        &self,
        conversation: ConversationId,
        note: NewNote,
    ) -> StoreResult<Option<ChatNote>> {
        // Anchored in the same statement that checks the conversation is
        // open: after its newest committed message.
        sqlx::query(
            "INSERT INTO notes
                 (conversation_id, after_seq, client_id, agent_id, author_name, body, sent_at)
             SELECT id, last_seq, $1, $2, $3, $4, $5 FROM conversations
             WHERE id = $6 AND status != 'closed'
             ON CONFLICT (conversation_id, client_id) DO NOTHING",
        )
        .bind(&note.id)
        .bind(note.agent)
        .bind(&note.author_name)
        .bind(&note.text)
        .bind(now_ms())
        .bind(conversation)
        .execute(&self.pool)
        .await?;
        // A statement of its own, with a snapshot taken after the insert:
        // it sees the note even when another node stored it meanwhile (the
        // insert waited for that one's commit, then did nothing).
        let row: Option<NoteRow> = sqlx::query_as(&format!(
            "SELECT {NOTE_COLUMNS} FROM notes WHERE conversation_id = $1 AND client_id = $2"
        ))
        .bind(conversation)
        .bind(&note.id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(NoteRow::into_note))
    }

    async fn notes_between(
        &self,
        conversation: ConversationId,
        from: i64,
        to: i64,
        limit: i64,
    ) -> StoreResult<Vec<ChatNote>> {
        let rows: Vec<NoteRow> = sqlx::query_as(&format!(
            "SELECT {NOTE_COLUMNS} FROM notes
             WHERE conversation_id = $1 AND after_seq >= $2 AND after_seq < $3
             ORDER BY after_seq, id LIMIT $4"
        ))
        .bind(conversation)
        .bind(from)
        .bind(to)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(NoteRow::into_note).collect())
    }
}
