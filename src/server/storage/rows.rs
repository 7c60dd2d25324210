//! Rows every backend reads the same way (their columns decode alike from
//! SQLite and PostgreSQL).

use sqlx::FromRow;

use crate::protocol::canned::CannedReply;
use crate::protocol::webhooks::{WebhookEvent, WebhookInfo};
use crate::protocol::{Author, ChatMessage, ConversationId, MessageId, SystemEvent};

/// The columns of a [`super::ConversationRow`], and where they come from.
pub const CONVERSATION_COLUMNS: &str =
    "c.id, c.visitor_id, c.agent_id, a.name AS agent_name, c.status, c.last_seq, c.agent_read_seq,
     c.visitor_read_seq,
     v.name, v.email, v.verified, r.score AS rating
     FROM conversations c LEFT JOIN agents a ON a.id = c.agent_id
     JOIN visitors v ON v.id = c.visitor_id
     LEFT JOIN ratings r ON r.conversation_id = c.id";

/// The columns of a [`super::AgentRow`].
pub const AGENT_COLUMNS: &str = "id, name, password_hash, is_admin, capacity, disabled, away";

/// A canned reply as read: id, shortcut, body, shared.
pub type CannedRow = (i64, String, String, bool);

/// A [`CannedRow`] as the console gets it.
pub fn canned_reply((id, shortcut, text, shared): CannedRow) -> CannedReply {
    CannedReply {
        id,
        shortcut,
        text,
        shared,
    }
}

/// A webhook as read: id, url, events (comma-separated), secret, created_at.
pub type WebhookRow = (i64, String, String, String, i64);

/// A [`WebhookRow`] as admins see it.
pub fn webhook_info((id, url, events, secret, created_at): WebhookRow) -> WebhookInfo {
    WebhookInfo {
        id,
        url,
        events: parse_events(&events),
        secret,
        created_at,
    }
}

/// The `events` column: known event names, comma-separated (unknown ones,
/// from a newer version, are skipped).
pub fn parse_events(column: &str) -> Vec<WebhookEvent> {
    column
        .split(',')
        .filter_map(|e| WebhookEvent::parse(e.trim()))
        .collect()
}

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
