//! Canned replies as the console gets them from server functions
//! (`list_canned`, `save_canned`): shortcuts agents expand in the composer.

use serde::{Deserialize, Serialize};

/// One canned reply: a shortcut and a text with `{visitor_name}` and
/// `{agent_name}` placeholders (filled in the console when chosen).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CannedReply {
    /// Row id.
    pub id: i64,
    /// Typed after `/` in the composer (lower case, no spaces).
    pub shortcut: String,
    /// Plain text, placeholders unfilled.
    pub text: String,
    /// Kept by admins for every agent; otherwise the asking agent's own.
    pub shared: bool,
}
