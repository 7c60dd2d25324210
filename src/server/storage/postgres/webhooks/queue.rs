//! The queue of webhook deliveries: what is due (each conversation's in
//! order, claimed so that no other node sends it too), how tries went,
//! giving up and forgetting.

use std::collections::BTreeMap;

use sqlx::PgPool;

use crate::protocol::webhooks::{DeliveryStatus, WebhookDelivery};
use crate::server::storage::{DueDelivery, Outcome};

/// Each (webhook, conversation) pair's pending deliveries read at once, at most.
const PER_GROUP: i64 = 20;

/// How long one delivery may take to send, at most (the longest
/// `--webhook-timeout-secs`, 60, in ms): a claim lasts this long per
/// delivery claimed, and once more.
const SEND_MS: i64 = 60_000;

type DueRow = (
    i64,
    i64,
    i64,
    String,
    String,
    String,
    i64,
    i64,
    String,
    String,
);

/// See [`crate::server::storage::Webhooks::due_deliveries`]. One statement
/// finds the groups whose oldest pending delivery is due, locks those
/// (skipping any another node holds), and claims each group's due run by
/// moving its `next_attempt_at` past the time sending it may take.
pub(super) async fn due(
    pool: &PgPool,
    now: i64,
    groups: usize,
) -> sqlx::Result<Vec<Vec<DueDelivery>>> {
    let rows: Vec<DueRow> = sqlx::query_as(
        "WITH heads AS (
             SELECT d.id, d.webhook_id, d.conversation_id
             FROM webhook_deliveries d
             WHERE d.status = 'pending' AND d.next_attempt_at <= $1
               AND NOT EXISTS (
                   SELECT 1 FROM webhook_deliveries e
                   WHERE e.webhook_id = d.webhook_id AND e.conversation_id = d.conversation_id
                     AND e.status = 'pending' AND e.id < d.id)
             ORDER BY d.next_attempt_at, d.id
             LIMIT $2
             FOR UPDATE OF d SKIP LOCKED
         ),
         queued AS (
             SELECT q.id, q.webhook_id, q.conversation_id,
                    bool_and(q.next_attempt_at <= $1) OVER (
                        PARTITION BY q.webhook_id, q.conversation_id ORDER BY q.id) AS due
             FROM heads h
             CROSS JOIN LATERAL (
                 SELECT e.id, e.webhook_id, e.conversation_id, e.next_attempt_at
                 FROM webhook_deliveries e
                 WHERE e.webhook_id = h.webhook_id AND e.conversation_id = h.conversation_id
                   AND e.status = 'pending'
                 ORDER BY e.id
                 LIMIT $3
             ) q
         ),
         claimed AS (
             SELECT id, COUNT(*) OVER (PARTITION BY webhook_id, conversation_id) AS n
             FROM queued WHERE due
         )
         UPDATE webhook_deliveries d SET next_attempt_at = $1 + (c.n + 1) * $4
         FROM claimed c, webhooks w
         WHERE d.id = c.id AND w.id = d.webhook_id AND d.status NOT IN ('delivered', 'failed')
         RETURNING d.id, d.webhook_id, d.conversation_id, d.event_id, d.event_type, d.payload,
                   d.attempts, d.created_at, w.url, w.secret",
    )
    .bind(now)
    .bind(i64::try_from(groups).unwrap_or(i64::MAX))
    .bind(PER_GROUP)
    .bind(SEND_MS)
    .fetch_all(pool)
    .await?;
    // `NOT IN ('delivered', 'failed')` is `= 'pending'` (rechecked on a row
    // changed meanwhile) without leading the planner to read every pending
    // row through their partial index. RETURNING has no order: each
    // group's rows are put back in id order.
    let mut by_group: BTreeMap<(i64, i64), Vec<DueDelivery>> = BTreeMap::new();
    for row in rows {
        let (
            id,
            webhook,
            conversation,
            event_id,
            event_type,
            payload,
            attempts,
            created_at,
            url,
            secret,
        ) = row;
        by_group
            .entry((webhook, conversation))
            .or_default()
            .push(DueDelivery {
                id,
                event_id,
                event_type,
                payload,
                attempts,
                created_at,
                url,
                secret,
            });
    }
    Ok(by_group
        .into_values()
        .map(|mut group| {
            group.sort_by_key(|d| d.id);
            group
        })
        .collect())
}

/// See [`crate::server::storage::Webhooks::record_outcomes`]. A failed try
/// also hands back the rest of its group's claim: they wait for its retry,
/// or, when it is given up, are due at once.
pub(super) async fn record(pool: &PgPool, outcomes: &[Outcome], now: i64) -> sqlx::Result<()> {
    if outcomes.is_empty() {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    for o in outcomes {
        let status = match (&o.error, o.retry_at) {
            (None, _) => DeliveryStatus::Delivered,
            (Some(_), Some(_)) => DeliveryStatus::Pending,
            (Some(_), None) => DeliveryStatus::Failed,
        };
        sqlx::query(
            "UPDATE webhook_deliveries SET status = $1, attempts = $2,
                    last_error = COALESCE($3, last_error), last_status = COALESCE($4, last_status),
                    next_attempt_at = COALESCE($5, next_attempt_at),
                    delivered_at = CASE WHEN $6 THEN $7 ELSE delivered_at END
             WHERE id = $8",
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
        if o.error.is_none() {
            continue;
        }
        // The conversation's later deliveries: unsent ones of this claim
        // (their next_attempt_at is the claim's end), newer ones, ones
        // behind an earlier retry. With a retry they all wait for it (no
        // later one is owed sooner: the group went out only once it was
        // due); given up, the claim's end is pulled back to now.
        let later = match o.retry_at {
            Some(_) => "next_attempt_at = $1",
            None => "next_attempt_at = LEAST(next_attempt_at, $1)",
        };
        let sql = format!(
            "UPDATE webhook_deliveries SET {later}
             WHERE status = 'pending' AND id > $2
               AND (webhook_id, conversation_id) =
                   (SELECT webhook_id, conversation_id FROM webhook_deliveries WHERE id = $2)"
        );
        sqlx::query(&sql)
            .bind(o.retry_at.unwrap_or(now))
            .bind(o.id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

/// See [`crate::server::storage::Webhooks::prune_deliveries`].
pub(super) async fn prune(
    pool: &PgPool,
    give_up_before: i64,
    forget_before: i64,
) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "UPDATE webhook_deliveries SET status = 'failed', last_error = COALESCE(last_error, 'expired')
         WHERE created_at < $1 AND status = 'pending'",
    )
    .bind(give_up_before)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM webhook_deliveries WHERE created_at < $1 AND status != 'pending'")
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
pub(super) async fn recent(pool: &PgPool, limit: i64) -> sqlx::Result<Vec<WebhookDelivery>> {
    let rows: Vec<RecentRow> = sqlx::query_as(
        "SELECT id, webhook_id, event_id, event_type, status, attempts, last_error, last_status,
                created_at, delivered_at
         FROM webhook_deliveries ORDER BY id DESC LIMIT $1",
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
