//! Server functions of the console's webhooks panel (admins only).

use leptos::prelude::*;

use crate::error::AppError;
use crate::protocol::webhooks::{WebhookDelivery, WebhookInfo};

/// Admins: the registered webhooks, with their signing keys.
#[server(endpoint = "webhooks")]
pub async fn webhooks() -> Result<Vec<WebhookInfo>, AppError> {
    let admin = crate::server::edge::api::signed_in().await?;
    crate::server::edge::webhooks::list(&admin).await
}

/// Admins: registers `url` for the events whose fields are present ("on").
/// Refused with `webhook_url`, `webhook_self`, `webhook_private`,
/// `webhook_events` or `too_many_webhooks`.
#[server(endpoint = "save_webhook")]
pub async fn save_webhook(
    url: String,
    #[server(default)] conversation_created: Option<String>,
    #[server(default)] message_created: Option<String>,
    #[server(default)] conversation_closed: Option<String>,
    #[server(default)] rating_given: Option<String>,
) -> Result<WebhookInfo, AppError> {
    use crate::protocol::webhooks::WebhookEvent as E;
    let admin = crate::server::edge::api::signed_in().await?;
    let events = [
        (conversation_created, E::ConversationCreated),
        (message_created, E::MessageCreated),
        (conversation_closed, E::ConversationClosed),
        (rating_given, E::RatingGiven),
    ]
    .into_iter()
    .filter_map(|(on, e)| on.map(|_| e))
    .collect();
    crate::server::edge::webhooks::save(&admin, &url, events).await
}

/// Admins: removes a webhook and its deliveries.
#[server(endpoint = "delete_webhook")]
pub async fn delete_webhook(id: i64) -> Result<(), AppError> {
    let admin = crate::server::edge::api::signed_in().await?;
    crate::server::edge::webhooks::delete(&admin, id).await
}

/// Admins: a new signing key for a webhook; returns it.
#[server(endpoint = "rotate_webhook_secret")]
pub async fn rotate_webhook_secret(id: i64) -> Result<String, AppError> {
    let admin = crate::server::edge::api::signed_in().await?;
    crate::server::edge::webhooks::rotate(&admin, id).await
}

/// Admins: the 50 newest deliveries, newest first, with their status.
#[server(endpoint = "webhook_deliveries")]
pub async fn webhook_deliveries() -> Result<Vec<WebhookDelivery>, AppError> {
    let admin = crate::server::edge::api::signed_in().await?;
    crate::server::edge::webhooks::deliveries(&admin).await
}
