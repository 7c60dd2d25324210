//! The queue of webhook deliveries: what is due (each conversation's in
//! order), how tries went, giving up and forgetting.

use sqlx::SqlitePool;

use super::super::checkpoint::Gate;
use crate::protocol::webhooks::{DeliveryStatus, WebhookDelivery};
use crate::server::storage::{DueDelivery, Outcome};

/// Each (webhook, conversation) pair's pending deliveries read at once, at most.
const PER_GROUP: i64 = 20;

type DueRow = (i64, String, String, String, i64, i64, i64, String, String);

/// See [`crate::server::storage::Webhooks::due_deliveries`].
pub(super) async fn due(
    pool: &SqlitePool,
    now: i64,
    groups: usize,
) -> sqlx::Result<Vec<Vec<DueDelivery>>> {
    let pairs: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT DISTINCT webhook_id, conversation_id FROM webhook_deliveries
         WHERE status = 'pending' AND next_attempt_at <= ? LIMIT ?",
    )
    .bind(now)
    .bind(groups as i64)
    .fetch_all(pool)
    .await?;
    let mut out = Vec::with_capacity(pairs.len());
    for (webhook, conversation) in pairs {
        let rows: Vec<DueRow> = sqlx::query_as(
            "SELECT d.id, d.event_id, d.event_type, d.payload, d.attempts, d.created_at,
                    d.next_attempt_at, w.url, w.secret
             FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
             WHERE d.webhook_id = ? AND d.conversation_id = ? AND d.status = 'pending'
             ORDER BY d.id LIMIT ?",
        )
        .bind(webhook)
        .bind(conversation)
        .bind(PER_GROUP)
        .fetch_all(pool)
        .await?;
        let group: Vec<DueDelivery> = rows
            .into_iter()
            .take_while(|r| r.6 <= now)
            .map(
                |(id, event_id, event_type, payload, attempts, created_at, _, url, secret)| {
                    DueDelivery {
                        id,
                        event_id,
                        event_type,
                        payload,
                        attempts,
                        created_at,
                        url,
                        secret,
                    }
                },
            )
            .collect();
        if !group.is_empty() {
            out.push(group);
        }
    }
    Ok(out)
}

/// See [`crate::server::storage::Webhooks::record_outcomes`].
pub(super) async fn record(
    pool: &SqlitePool,
    gate: &Gate,
    outcomes: &[Outcome],
    now: i64,
) -> sqlx::Result<()> {
    if outcomes.is_empty() {
        return Ok(());
    }
    let _writer_waits = gate.lock().await;
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    for o in outcomes {
        let status = match (&o.error, o.retry_at) {
            (None, _) => DeliveryStatus::Delivered,
            (Some(_), Some(_)) => DeliveryStatus::Pending,
            (Some(_), None) => DeliveryStatus::Failed,
        };
        sqlx::query(
            "UPDATE webhook_deliveries SET status = ?, attempts = ?,
                    last_error = COALESCE(?, last_error), last_status = COALESCE(?, last_status),
                    next_attempt_at = COALESCE(?, next_attempt_at),
                    delivered_at = CASE WHEN ? THEN ? ELSE delivered_at END
             WHERE id = ?",
        )
        .bind(status.as_str())
        .bind(o.attempts)
        .bind(&o.error)
        .bind(o.http_status.map(i64::from))
        .bind(o.retry_at)
        .bind(status == DeliveryStatus::Delivered)
        .bind(now)
        .bind(o.id)
        .execute(&mut *tx)
        .await?;
        if let Some(retry_at) = o.retry_at.filter(|_| o.error.is_some()) {
            // The conversation's later events wait behind this one.
            sqlx::query(
                "UPDATE webhook_deliveries SET next_attempt_at = ?
                 WHERE status = 'pending' AND next_attempt_at < ? AND id > ?
                   AND (webhook_id, conversation_id) =
                       (SELECT webhook_id, conversation_id FROM webhook_deliveries WHERE id = ?)",
            )
            .bind(retry_at)
            .bind(retry_at)
            .bind(o.id)
            .bind(o.id)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await
}

/// See [`crate::server::storage::Webhooks::prune_deliveries`].
pub(super) async fn prune(
    pool: &SqlitePool,
    gate: &Gate,
    give_up_before: i64,
    forget_before: i64,
) -> sqlx::Result<()> {
    let _writer_waits = gate.lock().await;
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query(
        "UPDATE webhook_deliveries SET status = 'failed', last_error = COALESCE(last_error, 'expired')
         WHERE created_at < ? AND status = 'pending'",
    )
    .bind(give_up_before)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM webhook_deliveries WHERE created_at < ? AND status != 'pending'")
        .bind(forget_before)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

type RecentRow = (
    i64,
    i64,
    String,
    String,
    String,
    i64,
    Option<String>,
    Option<i64>,
    i64,
    Option<i64>,
);

/// See [`crate::server::storage::Webhooks::recent_deliveries`].
pub(super) async fn recent(pool: &SqlitePool, limit: i64) -> sqlx::Result<Vec<WebhookDelivery>> {
    let rows: Vec<RecentRow> = sqlx::query_as(
        "SELECT id, webhook_id, event_id, event_type, status, attempts, last_error, last_status,
                created_at, delivered_at
         FROM webhook_deliveries ORDER BY id DESC LIMIT ?",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, webhook_id, event_id, event_type, status, attempts, error, http, at, done)| {
                WebhookDelivery {
                    id,
                    webhook_id,
                    event_id,
                    event_type,
                    status: DeliveryStatus::parse(&status),
                    attempts,
                    last_error: error,
                    last_status: http.and_then(|s| u16::try_from(s).ok()),
                    created_at: at,
                    delivered_at: done,
                }
            },
        )
        .collect())
}
