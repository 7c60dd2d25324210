//! Turning one event into delivery rows: the webhooks that want it, the
//! exact JSON body, the per-webhook cap on pending deliveries, and the
//! `message.created` events of a run of seqs.

use std::collections::HashMap;

use serde_json::json;
use sqlx::{Postgres as Db, Transaction};

use crate::protocol::webhooks::WebhookEvent;

/// The webhooks that want events, their pending deliveries, and the
/// derivation's clock.
pub(super) struct Hooks {
    /// Each enabled webhook with the events it wants, by id.
    pub wants: Vec<(i64, Vec<WebhookEvent>)>,
    /// Pending deliveries per webhook (counted at the start, then kept up).
    pub pending: HashMap<i64, i64>,
    /// Pending deliveries a webhook may have; more are not queued.
    pub max_pending: i64,
    /// Deliveries not queued because of `max_pending`.
    pub refused: usize,
    /// When this derivation runs (unix ms): the rows' `created_at`.
    pub now: i64,
    /// Events stamped before this (unix ms) are not owed (`since`).
    pub since: i64,
}

/// `message.created` for what people wrote in `conversation` after seq
/// `after`, up to `upto`, from `since` on; returns how many seqs were read.
pub(super) async fn messages(
    tx: &mut Transaction<'_, Db>,
    hooks: &mut Hooks,
    conversation: i64,
    after: i64,
    upto: i64,
) -> sqlx::Result<i64> {
    if upto <= after {
        return Ok(0);
    }
    let rows: Vec<(i64, String, Option<String>, String, i64)> = sqlx::query_as(
        "SELECT seq, author, author_name, body, sent_at FROM messages
         WHERE conversation_id = $1 AND seq > $2 AND seq <= $3 AND author IN ('visitor', 'agent')
           AND sent_at >= $4
         ORDER BY seq",
    )
    .bind(conversation)
    .bind(after)
    .bind(upto)
    .bind(hooks.since)
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

/// Queues the event for every webhook that wants it; whether any row was
/// added. The event id is the same whoever derives it and whenever, so a
/// repeat is dropped by the unique (webhook, event id).
pub(super) async fn emit(
    tx: &mut Transaction<'_, Db>,
    hooks: &mut Hooks,
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
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (webhook_id, event_id) DO NOTHING",
        )
        .bind(*webhook)
        .bind(event_id)
        .bind(event.as_str())
        .bind(conversation)
        .bind(&*body)
        .bind(hooks.now)
        .bind(hooks.now)
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() > 0 {
            *pending += 1;
            added = true;
        }
    }
    Ok(added)
}
