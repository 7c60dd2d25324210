//! Webhooks as stored: the URLs admins register, the events derived for
//! them from the durable tables (off the message path, by
//! `server::webhooks`), and the queue of deliveries with their outcome.
//! Part of the [`super::Store`] interface.

use async_trait::async_trait;

use super::StoreResult;
use crate::protocol::webhooks::{WebhookDelivery, WebhookEvent, WebhookInfo};

/// One delivery due now, with what sending it needs.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    /// Row id.
    pub id: i64,
    /// The event's id (`X-Kefu-Delivery`).
    pub event_id: String,
    /// The event's type (`X-Kefu-Event`).
    pub event_type: String,
    /// The exact JSON body.
    pub payload: String,
    /// Tries so far.
    pub attempts: i64,
    /// When it was derived (unix milliseconds): retries stop some time after.
    pub created_at: i64,
    /// Where it goes.
    pub url: String,
    /// The webhook's signing key.
    pub secret: String,
}

/// How one try went.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The delivery's row id.
    pub id: i64,
    /// Tries so far, this one included.
    pub attempts: i64,
    /// `None`: delivered; otherwise why not (`http_500`, `timeout`, …).
    pub error: Option<String>,
    /// The receiver's HTTP status, if it answered.
    pub http_status: Option<u16>,
    /// When to try again (unix milliseconds); `None` with an error: given up.
    pub retry_at: Option<i64>,
}

/// Webhooks, their events and deliveries.
#[async_trait]
pub trait Webhooks: Send + Sync {
    /// Every registered webhook, oldest first.
    async fn webhooks(&self) -> StoreResult<Vec<WebhookInfo>>;

    /// Registers a webhook (rules in `server::webhooks`). When it is the
    /// first one, events are derived from now on (history is not owed to
    /// anyone).
    async fn create_webhook(
        &self,
        url: &str,
        events: &[WebhookEvent],
        secret: &str,
        now: i64,
    ) -> StoreResult<WebhookInfo>;

    /// Removes a webhook and its deliveries; whether it existed.
    async fn delete_webhook(&self, id: i64) -> StoreResult<bool>;

    /// Replaces a webhook's signing key; whether it existed.
    async fn rotate_webhook_secret(&self, id: i64, secret: &str) -> StoreResult<bool>;

    /// Turns what was stored since the last call (new conversations,
    /// messages people wrote, closes, ratings) into deliveries for the
    /// webhooks that want them, at most about `budget` events, in one
    /// transaction; returns how many events were derived. Pending
    /// deliveries beyond `max_pending` per webhook are not added.
    async fn derive_webhook_events(
        &self,
        now: i64,
        budget: usize,
        max_pending: i64,
    ) -> StoreResult<usize>;

    /// Deliveries due at `now`, for at most `groups` (webhook, conversation)
    /// pairs: each pair's oldest pending ones in order, stopping before the
    /// first that is not due (each conversation's events go out in order).
    async fn due_deliveries(&self, now: i64, groups: usize) -> StoreResult<Vec<Vec<DueDelivery>>>;

    /// Records tries (in one transaction). A failed try pushes its
    /// conversation's later deliveries behind its retry.
    async fn record_outcomes(&self, outcomes: &[Outcome], now: i64) -> StoreResult<()>;

    /// Gives up deliveries pending since before `give_up_before` (marked
    /// failed) and removes finished ones older than `forget_before`.
    async fn prune_deliveries(&self, give_up_before: i64, forget_before: i64) -> StoreResult<()>;

    /// The newest deliveries, newest first.
    async fn recent_deliveries(&self, limit: i64) -> StoreResult<Vec<WebhookDelivery>>;
}
