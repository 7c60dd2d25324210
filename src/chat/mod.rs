//! Pieces shared by the widget and the console: the thread model, the
//! message list and composer, the outbox to the socket, and the session
//! (hello, send, resend, acks, history) both UIs run on it.

pub mod link;
pub mod session;
pub mod strings;
pub mod thread;
pub mod typing;
pub mod view;

pub use link::{LinkStatus, Outbox};
pub use session::{Held, Session, Threads};
pub use strings::ChatStrings;
pub use thread::{Delivery, Entry, Notice, Thread};
pub use typing::{TheirTyping, Typer};

/// A page of a conversation's history that a UI should fetch: the newest
/// (`before: None`), or the one below a seq (an older page, or one that
/// fills a [`Thread::gap`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fetch {
    /// The conversation.
    pub conversation: crate::protocol::ConversationId,
    /// The page's messages have seqs below this.
    pub before: Option<i64>,
}

impl Fetch {
    /// The page filling `thread`'s first gap, if it has one.
    pub fn gap(thread: &Thread) -> Option<Self> {
        Some(Self {
            conversation: thread.conversation?,
            before: Some(thread.gap()?),
        })
    }
}
