//! Rows every backend reads the same way (their columns decode alike from
//! SQLite and PostgreSQL).

use sqlx::FromRow;

use crate::protocol::{Author, ChatMessage, ConversationId, MessageId, SystemEvent};

/// A stored message row, as every backend reads it.
#[derive(FromRow)]
pub struct MessageRow {
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
    pub fn into_message(self) -> ChatMessage {
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

/// The columns of a [`MessageRow`].
pub const MESSAGE_COLUMNS: &str =
    "conversation_id, seq, client_id, author, author_name, body, event, sent_at";
