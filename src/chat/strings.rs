//! The words the shared chat pieces need; each UI tree passes its own set
//! (and, later, its own language).

use crate::chat::Notice;
use crate::protocol::{ErrorCode, SystemEvent};

/// Texts for the message list and composer.
#[derive(Debug, Clone, Copy)]
pub struct ChatStrings {
    /// Composer placeholder.
    pub placeholder: &'static str,
    /// Send button.
    pub send: &'static str,
    /// Under a message not yet acknowledged.
    pub pending: &'static str,
    /// Under a message stored by the server.
    pub sent: &'static str,
    /// Under a message of ours the other side has seen.
    pub seen: &'static str,
    /// The other side is typing: "Ann is typing…" with their name, or
    /// "typing…" without.
    pub typing: fn(Option<&str>) -> String,
    /// Over the list when the reader scrolled up and new messages came.
    pub new_messages: &'static str,
    /// Button over the oldest message shown when older ones exist.
    pub earlier: &'static str,
    /// Shown when the text is over the length limit.
    pub too_long: &'static str,
    /// The mark on a private note (agents only; the widget never shows one).
    pub note: &'static str,
    /// Words for a stored system event.
    pub event: fn(&SystemEvent) -> String,
    /// Words for a presence notice.
    pub notice: fn(Notice) -> &'static str,
    /// Words for a refusal (under a message, or in a banner).
    pub error: fn(ErrorCode) -> &'static str,
    /// The locale dates and times are written in (`en`, `zh-CN`).
    pub locale: &'static str,
}
