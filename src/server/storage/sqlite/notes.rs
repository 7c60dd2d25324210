//! Private notes, kept beside a conversation's messages. A note is one
//! small row written in its own statement (not through the messages'
//! group-commit writer: notes are rare, and take no seq), committed
//! before the hub acknowledges it.

use async_trait::async_trait;
use sqlx::FromRow;

use super::Sqlite;
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
impl Notes for Sqlite {
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
             SELECT id, last_seq, ?, ?, ?, ?, ? FROM conversations
             WHERE id = ? AND status != 'closed'
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
        let row: Option<NoteRow> = sqlx::query_as(&format!(
            "SELECT {NOTE_COLUMNS} FROM notes WHERE conversation_id = ? AND client_id = ?"
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
             WHERE conversation_id = ? AND after_seq >= ? AND after_seq < ?
             ORDER BY after_seq, id LIMIT ?"
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

#[cfg(test)]
mod tests {
    use super::super::tests::temp;
    use super::*;
    use crate::protocol::AgentId;
    use crate::server::storage::{Accounts, Conversations, Messages, NewMessage};

    fn note(id: &str, agent: AgentId, text: &str) -> NewNote {
        NewNote {
            id: MessageId(id.into()),
            agent,
            author_name: "Ann".into(),
            text: text.into(),
        }
    }

    /// A note is anchored after the newest message, takes no seq, is
    /// stored once however often it is resent, and is refused in a closed
    /// conversation.
    #[tokio::test]
    async fn notes_are_anchored_kept_once_and_only_in_open_conversations() {
        let (_dir, db) = temp().await;
        let agent = db
            .create_agent("Ann", "x", 5, false, false)
            .await
            .expect("agent")
            .expect("created");
        let visitor = db.create_visitor(b"v").await.expect("visitor");
        let c = db.create_conversation(visitor).await.expect("conversation");
        let hi = NewMessage::from_visitor(MessageId("m1".into()), "hi".into(), false);
        db.append(c, hi).await.expect("stored");
        let first = db
            .add_note(c, note("n1", agent.id, "VIP"))
            .await
            .expect("stored")
            .expect("open");
        assert_eq!(first.after_seq, 1);
        let again = db
            .add_note(c, note("n1", agent.id, "changed"))
            .await
            .expect("looked up")
            .expect("open");
        assert_eq!(again, first, "a resend is not stored twice");
        let next = NewMessage::from_visitor(MessageId("m2".into()), "there?".into(), false);
        db.append(c, next).await.expect("stored");
        let later = db
            .messages_after(c, 0, 10)
            .await
            .expect("messages")
            .iter()
            .map(|m| m.seq)
            .collect::<Vec<_>>();
        assert_eq!(later, [1, 2], "the note took no seq");
        db.add_note(c, note("n2", agent.id, "second"))
            .await
            .expect("stored");
        let all = db.notes_between(c, 0, i64::MAX, 10).await.expect("notes");
        assert_eq!(
            all.iter()
                .map(|n| (n.after_seq, n.text.as_str()))
                .collect::<Vec<_>>(),
            [(1, "VIP"), (2, "second")]
        );
        assert_eq!(db.notes_between(c, 2, 3, 10).await.expect("notes").len(), 1);
        db.close(c).await.expect("closed");
        let refused = db.add_note(c, note("n3", agent.id, "late")).await;
        assert!(matches!(refused, Ok(None)), "{refused:?}");
    }
}
