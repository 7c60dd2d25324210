//! Who an agent is talking to: the page the visitor is on (sent by the
//! widget as `page_view`, shown live to the agents serving them) and the
//! visitor panel's answer (`visitor_context`).

use serde::{Deserialize, Serialize};

use super::ConversationId;

/// Longest page URL or referrer a `page_view` may carry, in bytes.
pub const MAX_PAGE_URL_BYTES: usize = 2048;
/// Longest page title a `page_view` may carry, in characters.
pub const MAX_PAGE_TITLE_CHARS: usize = 300;
/// Longest IANA time zone name (`America/Argentina/ComodRivadavia` is 32).
pub const MAX_TIME_ZONE_CHARS: usize = 64;

/// The page a visitor is on, as the serving agent sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageSeen {
    /// The page's address.
    pub url: String,
    /// The page's title (may be empty).
    #[serde(default)]
    pub title: String,
    /// When the server got it, in milliseconds since the Unix epoch.
    #[serde(default)]
    pub at: i64,
}

/// An earlier conversation of the visitor, listed in the visitor panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PastConversation {
    /// The conversation.
    pub id: ConversationId,
    /// When it started (ms since the epoch).
    pub started_at: i64,
    /// When it was closed (ms), if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<i64>,
    /// How many messages it holds.
    #[serde(default)]
    pub messages: i64,
}

/// What the console's visitor panel shows (server function
/// `visitor_context`): each field absent when unknown.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct VisitorContext {
    /// The visitor's number ("Visitor 12").
    pub visitor_number: i64,
    /// Name from the pre-chat form, `identify`, or a signed identity.
    #[serde(default)]
    pub name: Option<String>,
    /// Email, as the name.
    #[serde(default)]
    pub email: Option<String>,
    /// The name and email come from a signed identity.
    #[serde(default)]
    pub verified: bool,
    /// The latest page the visitor was seen on.
    #[serde(default)]
    pub page: Option<PageSeen>,
    /// The page that sent the visitor to the site (`document.referrer`).
    #[serde(default)]
    pub referrer: Option<String>,
    /// Browser and version, e.g. "Chrome 120.0.0.0" (from the User-Agent).
    #[serde(default)]
    pub browser: Option<String>,
    /// Operating system, e.g. "Windows 10".
    #[serde(default)]
    pub os: Option<String>,
    /// The browser's preferred language (`Accept-Language`'s first tag).
    #[serde(default)]
    pub language: Option<String>,
    /// The visitor's IANA time zone, e.g. `Asia/Shanghai`.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// The visitor's offset from UTC in minutes (east positive).
    #[serde(default)]
    pub utc_offset: Option<i32>,
    /// When kefu first saw the visitor (ms).
    pub first_seen: i64,
    /// Their other conversations, newest first.
    #[serde(default)]
    pub earlier: Vec<PastConversation>,
}
