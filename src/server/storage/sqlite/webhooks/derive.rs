//! Webhook events, derived from the durable tables after the fact: nothing
//! is added to the writer's transaction or the hub, and after a crash the
//! cursors say exactly where to go on (the search indexer's pattern).
//!
//! - `conversation.created`: conversations by id, past cursor `created`
//!   (ids are given in commit order: SQLite has one writer at a time);
//! - `message.created`: each open conversation's messages past its
//!   `webhook_seq` (the open ones only: a closed conversation's last
//!   messages go out just before its `conversation.closed`);
//! - `conversation.closed`: closed conversations not yet `webhook_closed`,
//!   read from the `closed_at` index from a minute before cursor `closed`
//!   (a close stamped earlier may commit later);
//! - `rating.given`: ratings from a minute before cursor `rated`; the
//!   deliveries' unique (webhook, event id) drops what was derived already.
//!
//! Each event gets one delivery row per webhook that wants it, with the
//! exact JSON body, in the order above per conversation.

use crate::server::storage::rows::parse_events;
use std::collections::HashMap;

use serde_json::json;
use sqlx::{Sqlite as Db, SqlitePool, Transaction};

use crate::protocol::webhooks::WebhookEvent;

/// How far back closes and ratings are looked for again, in ms.
pub(super) const LOOKBACK_MS: i64 = 60_000;

/// The webhooks that want events, and their pending deliveries.
struct Hooks {
    wants: Vec<(i64, Vec<WebhookEvent>)>,
    pending: HashMap<i64, i64>,
    max_pending: i64,
    refused: usize,
}

/// Derives up to about `budget` events (see [`crate::server::storage::Webhooks::derive_webhook_events`]).
pub(super) async fn derive(
    pool: &SqlitePool,
    gate: &super::super::checkpoint::Gate,
    now: i64,
    budget: usize,
    max_pending: i64,
) -> sqlx::Result<usize> {
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, events FROM webhooks WHERE enabled = 1 ORDER BY id")
            .fetch_all(pool)
            .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let pending: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT webhook_id, COUNT(*) FROM webhook_deliveries WHERE status = 'pending' GROUP BY webhook_id",
    )
    .fetch_all(pool)
    .await?;
    let mut hooks = Hooks {
        wants: rows
            .into_iter()
            .map(|(id, events)| (id, parse_events(&events)))
            .collect(),
        pending: pending.into_iter().collect(),
        max_pending,
        refused: 0,
    };
    let budget = budget as i64;
    // Written between two of the writer's batches, never in its place.
    let _writer_waits = gate.lock().await;
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let cursor = |name: &'static str| {
        sqlx::query_scalar::<_, i64>("SELECT position FROM webhook_cursors WHERE name = ?")
            .bind(name)
    };
    let created = cursor("created").fetch_one(&mut *tx).await?;
    let closed = cursor("closed").fetch_one(&mut *tx).await?;
    let rated = cursor("rated").fetch_one(&mut *tx).await?;
    let mut n = 0i64;

    let new: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT id, visitor_id, created_at FROM conversations WHERE id > ? ORDER BY id LIMIT ?",
    )
    .bind(created)
    .bind(budget)
    .fetch_all(&mut *tx)
    .await?;
    let mut created_upto = created;
    for (id, visitor, at) in new {
        let data = json!({"conversation_id": id, "visitor_id": visitor, "created_at": at});
        let event_id = format!("conversation.created:{id}");
        emit(
            &mut tx,
            &mut hooks,
            now,
            WebhookEvent::ConversationCreated,
            &event_id,
            id,
            at,
            data,
        )
        .await?;
        created_upto = id;
        n += 1;
    }

    let open: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT id, webhook_seq, last_seq FROM conversations
         WHERE status != 'closed' AND webhook_seq < last_seq AND id <= ?",
    )
    .bind(created_upto)
    .fetch_all(&mut *tx)
    .await?;
    for (id, from, last) in open {
        if n >= budget {
            break;
        }
        let upto = last.min(from + (budget - n));
        n += messages(&mut tx, &mut hooks, now, id, from, upto).await?;
        sqlx::query("UPDATE conversations SET webhook_seq = ? WHERE id = ?")
            .bind(upto)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }

    let ended: Vec<(i64, Option<i64>, i64, i64, i64)> = sqlx::query_as(
        "SELECT id, agent_id, closed_at, webhook_seq, last_seq FROM conversations
         WHERE status = 'closed' AND closed_at >= ? AND webhook_closed = 0 AND id <= ?
         ORDER BY closed_at, id LIMIT ?",
    )
    .bind(closed - LOOKBACK_MS)
    .bind(created_upto)
    .bind((budget - n).max(1))
    .fetch_all(&mut *tx)
    .await?;
    let mut closed_upto = closed;
    for (id, agent, at, from, last) in ended {
        n += messages(&mut tx, &mut hooks, now, id, from, last).await?;
        let data = json!({"conversation_id": id, "agent_id": agent, "closed_at": at});
        let event_id = format!("conversation.closed:{id}");
        emit(
            &mut tx,
            &mut hooks,
            now,
            WebhookEvent::ConversationClosed,
            &event_id,
            id,
            at,
            data,
        )
        .await?;
        sqlx::query(
            "UPDATE conversations SET webhook_seq = last_seq, webhook_closed = 1 WHERE id = ?",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        closed_upto = closed_upto.max(at);
        n += 1;
    }

    let ratings: Vec<(i64, i64, String, i64)> = sqlx::query_as(
        "SELECT conversation_id, score, comment, created_at FROM ratings
         WHERE created_at >= ? AND conversation_id <= ? ORDER BY created_at, conversation_id LIMIT ?",
    )
    .bind(rated - LOOKBACK_MS)
    .bind(created_upto)
    .bind(budget.max(1))
    .fetch_all(&mut *tx)
    .await?;
    let mut rated_upto = rated;
    for (id, score, comment, at) in ratings {
        let data =
            json!({"conversation_id": id, "score": score, "comment": comment, "created_at": at});
        let event_id = format!("rating.given:{id}");
        if emit(
            &mut tx,
            &mut hooks,
            now,
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
        rated_upto = rated_upto.max(at);
    }

    for (name, position, was) in [
        ("created", created_upto, created),
        ("closed", closed_upto, closed),
        ("rated", rated_upto, rated),
    ] {
        // Nothing new: the transaction stays read-only (no commit to disk).
        if position == was {
            continue;
        }
        sqlx::query("UPDATE webhook_cursors SET position = ? WHERE name = ?")
            .bind(position)
            .bind(name)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    if hooks.refused > 0 {
        tracing::warn!(
            dropped = hooks.refused,
            max_pending,
            "webhook deliveries not queued: a receiver has too many pending already"
        );
    }
    Ok(n as usize)
}

/// `message.created` for what people wrote in `conversation` after seq
/// `after`, up to `upto`; returns how many messages were read.
async fn messages(
    tx: &mut Transaction<'_, Db>,
    hooks: &mut Hooks,
    now: i64,
    conversation: i64,
    after: i64,
    upto: i64,
) -> sqlx::Result<i64> {
    if upto <= after {
        return Ok(0);
    }
    let rows: Vec<(i64, String, Option<String>, String, i64)> = sqlx::query_as(
        "SELECT seq, author, author_name, body, sent_at FROM messages
         WHERE conversation_id = ? AND seq > ? AND seq <= ? AND author IN ('visitor', 'agent')
         ORDER BY seq",
    )
    .bind(conversation)
    .bind(after)
    .bind(upto)
    .fetch_all(&mut **tx)
    .await?;
    for (seq, author, name, body, at) in rows {
        let data = json!({
            "conversation_id": conversation,
            "seq": seq,
            "author": author,
            "author_name": name,
            "body": body,
            "sent_at": at,
        });
        let event_id = format!("message.created:{conversation}:{seq}");
        emit(
            tx,
            hooks,
            now,
            WebhookEvent::MessageCreated,
            &event_id,
            conversation,
            at,
            data,
        )
        .await?;
    }
    Ok(upto - after)
}

/// Queues the event for every webhook that wants it; whether any row was added.
#[allow(clippy::too_many_arguments)]
async fn emit(
    tx: &mut Transaction<'_, Db>,
    hooks: &mut Hooks,
    now: i64,
    event: WebhookEvent,
    event_id: &str,
    conversation: i64,
    at: i64,
    data: serde_json::Value,
) -> sqlx::Result<bool> {
    let mut body = None;
    let mut added = false;
    for (webhook, wants) in &hooks.wants {
        if !wants.contains(&event) {
            continue;
        }
        let pending = hooks.pending.entry(*webhook).or_default();
        if *pending >= hooks.max_pending {
            hooks.refused += 1;
            continue;
        }
        let body = body.get_or_insert_with(|| {
            json!({"id": event_id, "type": event.as_str(), "created_at": at, "data": data})
                .to_string()
        });
        let done = sqlx::query(
            "INSERT INTO webhook_deliveries
             (webhook_id, event_id, event_type, conversation_id, payload, next_attempt_at, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (webhook_id, event_id) DO NOTHING",
        )
        .bind(webhook)
        .bind(event_id)
        .bind(event.as_str())
        .bind(conversation)
        .bind(&*body)
        .bind(now)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() > 0 {
            *pending += 1;
            added = true;
        }
    }
    Ok(added)
}
