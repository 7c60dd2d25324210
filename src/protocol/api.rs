//! What server functions answer with (their requests are form fields; see
//! `crate::api`). Shared by the server's edge and the UIs.

use serde::{Deserialize, Serialize};

use super::settings::WidgetSettings;
use super::{AgentInfo, ChatMessage, ChatNote, ConversationSummary};

/// What `/console` should show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ConsoleView {
    /// No account exists yet: offer the one-time setup form.
    NeedsSetup,
    /// Show the sign-in form.
    SignedOut,
    /// Show the console.
    SignedIn(AgentInfo),
}

/// Messages per history page: what opening a conversation fetches, and
/// what each "earlier messages" click adds.
pub const HISTORY_PAGE: i64 = 50;

/// One page of a conversation's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryPage {
    /// Up to [`HISTORY_PAGE`] messages, oldest first.
    pub messages: Vec<ChatMessage>,
    /// Whether older messages exist before the first one here.
    pub more: bool,
    /// Agents' pages only: the private notes anchored among these
    /// messages (after the seq before the first one, up to the last one;
    /// on the newest page, every later note too). Never in a visitor's
    /// page; the visitor's bundle does not even read the field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "visitor-bundle", serde(skip_deserializing))]
    pub notes: Vec<ChatNote>,
    /// Agents' newest page of a rated conversation: the visitor's rating
    /// (never in a visitor's page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "visitor-bundle", serde(skip_deserializing))]
    pub rating: Option<super::rating::Rating>,
}

/// A visitor's newest conversation and one page of its messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitorThread {
    /// The conversation.
    pub conversation: ConversationSummary,
    /// The newest page of its messages (or the page before `before`).
    pub page: HistoryPage,
}

/// What the widget needs before its socket opens: whether an agent is
/// online, and the look and words admins set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WidgetBoot {
    /// Whether any agent is online now.
    pub online: bool,
    /// The widget's look and words.
    pub settings: WidgetSettings,
    /// Embedded: whether the site named as the host page may embed the
    /// chat (`None` when the widget is not embedded).
    pub embed_allowed: Option<bool>,
    /// Outside business hours: when the team is back (unix ms).
    #[serde(default)]
    pub back_at: Option<i64>,
}
