//! Private notes: agents' words about a conversation that only agents
//! read. They are stored beside the conversation's messages, not among
//! them (a note takes no seq, so the visitor's thread never sees a gap
//! where one was), anchored after the message that was newest when the
//! note was written.

use serde::{Deserialize, Serialize};

use super::{ConversationId, MessageId};

/// One stored private note, as agents see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatNote {
    /// The writing client's id for it (the server's own for a note given
    /// with a transfer).
    pub id: MessageId,
    /// The conversation it is about.
    pub conversation: ConversationId,
    /// The seq of the conversation's newest message when it was written
    /// (0: none yet): it is shown after that message.
    pub after_seq: i64,
    /// The writing agent's display name.
    pub author_name: String,
    /// The text, always shown as text.
    pub text: String,
    /// When the server stored it, in milliseconds since the Unix epoch.
    pub sent_at: i64,
}
