//! What storage keeps of a visitor besides their chats: the latest page
//! they were seen on, their browser, and their earlier conversations.

use async_trait::async_trait;

use super::{StoreResult, VisitorId};
use crate::protocol::{PageSeen, PastConversation};

/// A visitor's latest page view, as stored (checked before).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageViewRow {
    /// The page.
    pub page: PageSeen,
    /// `document.referrer`.
    pub referrer: Option<String>,
    /// IANA time zone.
    pub time_zone: Option<String>,
    /// Minutes east of UTC.
    pub utc_offset: Option<i32>,
}

/// What a visitor's browser said of itself when their socket opened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientFacts {
    /// Browser and version.
    pub browser: Option<String>,
    /// Operating system (and version when known).
    pub os: Option<String>,
    /// First tag of `Accept-Language`.
    pub language: Option<String>,
}

/// Everything stored about a visitor for the console's visitor panel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VisitorFacts {
    /// When the visitor was first seen (ms).
    pub first_seen: i64,
    /// Their latest page view, if any.
    pub page: Option<PageViewRow>,
    /// Their browser, at their last connection.
    pub client: ClientFacts,
}

/// Visitors' pages, browsers and past conversations.
#[async_trait]
pub trait Visits: Send + Sync {
    /// Replaces the visitor's latest page view.
    async fn record_page_view(&self, visitor: VisitorId, view: &PageViewRow) -> StoreResult<()>;

    /// Records what the visitor's browser said of itself.
    async fn record_client(&self, visitor: VisitorId, client: &ClientFacts) -> StoreResult<()>;

    /// What is known of the visitor (`None`: no such visitor).
    async fn visitor_facts(&self, visitor: VisitorId) -> StoreResult<Option<VisitorFacts>>;

    /// The visitor's newest `limit` conversations, newest first.
    async fn visitor_conversations(
        &self,
        visitor: VisitorId,
        limit: i64,
    ) -> StoreResult<Vec<PastConversation>>;
}
