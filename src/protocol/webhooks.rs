//! Webhooks as the console gets them from server functions (`webhooks`,
//! `save_webhook`, `webhook_deliveries`): the URLs admins register, the
//! events each wants, and the recent deliveries with their outcome.

use serde::{Deserialize, Serialize};

/// Longest webhook URL accepted, in bytes.
pub const MAX_WEBHOOK_URL_BYTES: usize = 2000;
/// Most webhooks one kefu keeps.
pub const MAX_WEBHOOKS: usize = 20;

/// What happened, as a webhook's JSON `type` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WebhookEvent {
    /// A visitor started a conversation.
    #[serde(rename = "conversation.created")]
    ConversationCreated,
    /// A visitor or an agent wrote in a conversation (never system notices).
    #[serde(rename = "message.created")]
    MessageCreated,
    /// A conversation was closed.
    #[serde(rename = "conversation.closed")]
    ConversationClosed,
    /// A visitor rated a closed conversation.
    #[serde(rename = "rating.given")]
    RatingGiven,
}

impl WebhookEvent {
    /// Every event, in the order the console lists them.
    pub const ALL: [WebhookEvent; 4] = [
        WebhookEvent::ConversationCreated,
        WebhookEvent::MessageCreated,
        WebhookEvent::ConversationClosed,
        WebhookEvent::RatingGiven,
    ];

    /// The name on the wire and in the form, e.g. `"message.created"`.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::ConversationCreated => "conversation.created",
            WebhookEvent::MessageCreated => "message.created",
            WebhookEvent::ConversationClosed => "conversation.closed",
            WebhookEvent::RatingGiven => "rating.given",
        }
    }

    /// The event named `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == name)
    }
}

/// A registered webhook, as admins see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookInfo {
    /// Row id.
    pub id: i64,
    /// Where deliveries are POSTed (http or https).
    pub url: String,
    /// The events it gets.
    pub events: Vec<WebhookEvent>,
    /// The HMAC-SHA256 key of its `X-Kefu-Signature` header.
    pub secret: String,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not delivered yet: waiting for its first try or a retry.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Given up after retrying for the configured time.
    Failed,
}

impl DeliveryStatus {
    /// The name in the database and in `data-status`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    /// The status named `name` (unknown names read as pending).
    pub fn parse(name: &str) -> Self {
        match name {
            "delivered" => DeliveryStatus::Delivered,
            "failed" => DeliveryStatus::Failed,
            _ => DeliveryStatus::Pending,
        }
    }
}

/// One event owed to one webhook, as the console lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    /// Row id.
    pub id: i64,
    /// The webhook it is for.
    pub webhook_id: i64,
    /// The event's id (the same on every retry and for every webhook).
    pub event_id: String,
    /// The event's type, e.g. `"message.created"`.
    pub event_type: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Tries so far.
    pub attempts: i64,
    /// Why the last try failed: `http_<status>`, `timeout`, `connect`,
    /// `dns`, `private_address`, `own_listener`, `bad_url`, `expired`.
    #[serde(default)]
    pub last_error: Option<String>,
    /// The receiver's last HTTP status, if it answered.
    #[serde(default)]
    pub last_status: Option<u16>,
    /// When the event was derived (unix milliseconds).
    pub created_at: i64,
    /// When it was delivered (unix milliseconds).
    #[serde(default)]
    pub delivered_at: Option<i64>,
}
