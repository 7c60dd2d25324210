//! Webhook events derived from the durable tables, in one transaction per
//! call, on any number of nodes at once (the design is in [`super`]):
//!
//! 1. `conversation.created`: conversations not yet `webhook_created`,
//!    created from `since` on;
//! 2. `message.created`: each open conversation's messages past its
//!    `webhook_seq`, once its creation is settled (derived, or not owed);
//! 3. `conversation.closed`: closed conversations not yet `webhook_closed`,
//!    closed from `since` on, their last messages first;
//! 4. `rating.given`: ratings not yet `webhook_given`, given from `since`
//!    on, once the conversation's close is settled.
//!
//! Every pass claims its conversations with `FOR UPDATE SKIP LOCKED`, emits,
//! and sets the flag in the same transaction.

use serde_json::json;
use sqlx::{PgPool, Postgres as Db, Transaction};

use super::emit::{emit, messages, Hooks};
use crate::protocol::webhooks::WebhookEvent;
use crate::server::storage::rows::parse_events;

/// Derives up to about `budget` events (see [`crate::server::storage::Webhooks::derive_webhook_events`]).
pub(super) async fn derive(
    pool: &PgPool,
    now: i64,
    budget: usize,
    max_pending: i64,
) -> sqlx::Result<usize> {
    let budget = i64::try_from(budget).unwrap_or(i64::MAX);
    let mut tx = pool.begin().await?;
    // KEY SHARE: a webhook deleted meanwhile waits for this commit (and its
    // deliveries go with it), or is not seen; rotating a secret never waits.
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, events FROM webhooks WHERE enabled = TRUE ORDER BY id FOR KEY SHARE",
    )
    .fetch_all(&mut *tx)
    .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let pending: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT webhook_id, COUNT(*) FROM webhook_deliveries WHERE status = 'pending'
         GROUP BY webhook_id",
    )
    .fetch_all(&mut *tx)
    .await?;
    let since: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(position), 0) FROM webhook_cursors WHERE name = 'since'",
    )
    .fetch_one(&mut *tx)
    .await?;
    let mut hooks = Hooks {
        wants: rows
            .into_iter()
            .map(|(id, events)| (id, parse_events(&events)))
            .collect(),
        pending: pending.into_iter().collect(),
        max_pending,
        refused: 0,
        now,
        since,
    };
    let mut n = created(&mut tx, &mut hooks, budget).await?;
    if n < budget {
        n += open(&mut tx, &mut hooks, budget - n).await?;
    }
    n += closed(&mut tx, &mut hooks, (budget - n).max(1)).await?;
    n += rated(&mut tx, &mut hooks, (budget - n).max(1)).await?;
    tx.commit().await?;
    if hooks.refused > 0 {
        tracing::warn!(
            dropped = hooks.refused,
            max_pending,
            "webhook deliveries not queued: a receiver has too many pending already"
        );
    }
    Ok(usize::try_from(n).unwrap_or(0))
}

/// `conversation.created`, at most `limit`; returns how many.
async fn created(tx: &mut Transaction<'_, Db>, hooks: &mut Hooks, limit: i64) -> sqlx::Result<i64> {
    let new: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT id, visitor_id, created_at FROM conversations
         WHERE NOT webhook_created AND created_at >= $1
         ORDER BY created_at, id LIMIT $2
         FOR UPDATE SKIP LOCKED",
    )
    .bind(hooks.since)
    .bind(limit)
    .fetch_all(&mut **tx)
    .await?;
    let mut ids = Vec::with_capacity(new.len());
    for (id, visitor, at) in new {
        let data = json!({"conversation_id": id, "visitor_id": visitor, "created_at": at});
        let event_id = format!("conversation.created:{id}");
        emit(
            tx,
            hooks,
            WebhookEvent::ConversationCreated,
            &event_id,
            id,
            at,
            data,
        )
        .await?;
        ids.push(id);
    }
    if !ids.is_empty() {
        sqlx::query("UPDATE conversations SET webhook_created = TRUE WHERE id = ANY($1)")
            .bind(&ids)
            .execute(&mut **tx)
            .await?;
    }
    Ok(ids.len() as i64)
}

/// `message.created` in open conversations, at most about `budget` seqs
/// read; returns how many.
async fn open(tx: &mut Transaction<'_, Db>, hooks: &mut Hooks, budget: i64) -> sqlx::Result<i64> {
    // Each has a seq at least to read: no more conversations than the budget.
    let open: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT id, webhook_seq, last_seq FROM conversations
         WHERE status != 'closed' AND webhook_seq < last_seq
           AND (webhook_created OR created_at < $1)
         ORDER BY id LIMIT $2
         FOR UPDATE SKIP LOCKED",
    )
    .bind(hooks.since)
    .bind(budget)
    .fetch_all(&mut **tx)
    .await?;
    let mut n = 0;
    for (id, from, last) in open {
        if n >= budget {
            break;
        }
        let upto = last.min(from.saturating_add(budget - n));
        n += messages(tx, hooks, id, from, upto).await?;
        sqlx::query("UPDATE conversations SET webhook_seq = $1 WHERE id = $2")
            .bind(upto)
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(n)
}

/// `conversation.closed`, each after its last `message.created`, at most
/// `limit` closes; returns how many events.
async fn closed(tx: &mut Transaction<'_, Db>, hooks: &mut Hooks, limit: i64) -> sqlx::Result<i64> {
    let ended: Vec<(i64, Option<i64>, i64, i64, i64)> = sqlx::query_as(
        "SELECT id, agent_id, closed_at, webhook_seq, last_seq FROM conversations
         WHERE status = 'closed' AND NOT webhook_closed AND closed_at >= $1
           AND (webhook_created OR created_at < $1)
         ORDER BY closed_at, id LIMIT $2
         FOR UPDATE SKIP LOCKED",
    )
    .bind(hooks.since)
    .bind(limit)
    .fetch_all(&mut **tx)
    .await?;
    let mut n = 0;
    for (id, agent, at, from, last) in ended {
        n += messages(tx, hooks, id, from, last).await?;
        let data = json!({"conversation_id": id, "agent_id": agent, "closed_at": at});
        let event_id = format!("conversation.closed:{id}");
        emit(
            tx,
            hooks,
            WebhookEvent::ConversationClosed,
            &event_id,
            id,
            at,
            data,
        )
        .await?;
        sqlx::query(
            "UPDATE conversations SET webhook_seq = last_seq, webhook_closed = TRUE WHERE id = $1",
        )
        .bind(id)
        .execute(&mut **tx)
        .await?;
        n += 1;
    }
    Ok(n)
}

/// `rating.given`, at most `limit`; returns how many were queued.
async fn rated(tx: &mut Transaction<'_, Db>, hooks: &mut Hooks, limit: i64) -> sqlx::Result<i64> {
    // The conversation is locked too, as in every pass: its events are
    // derived by one transaction at a time, so their rows' ids follow their
    // order. The rating is locked so that the flag is read as committed.
    let ratings: Vec<(i64, i64, String, i64)> = sqlx::query_as(
        "SELECT r.conversation_id, r.score, r.comment, r.created_at
         FROM ratings r JOIN conversations c ON c.id = r.conversation_id
         WHERE NOT r.webhook_given AND r.created_at >= $1
           AND (c.webhook_closed OR c.closed_at < $1)
         ORDER BY r.created_at, r.conversation_id LIMIT $2
         FOR UPDATE OF r, c SKIP LOCKED",
    )
    .bind(hooks.since)
    .bind(limit)
    .fetch_all(&mut **tx)
    .await?;
    let mut n = 0;
    let mut ids = Vec::with_capacity(ratings.len());
    for (id, score, comment, at) in ratings {
        let data =
            json!({"conversation_id": id, "score": score, "comment": comment, "created_at": at});
        let event_id = format!("rating.given:{id}");
        if emit(
            tx,
            hooks,
            WebhookEvent::RatingGiven,
            &event_id,
            id,
            at,
            data,
        )
        .await?
        {
            n += 1;
        }
        ids.push(id);
    }
    if !ids.is_empty() {
        sqlx::query("UPDATE ratings SET webhook_given = TRUE WHERE conversation_id = ANY($1)")
            .bind(&ids)
            .execute(&mut **tx)
            .await?;
    }
    Ok(n)
}
