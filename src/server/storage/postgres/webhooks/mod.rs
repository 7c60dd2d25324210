//! Webhooks in PostgreSQL: the registered URLs here, the events derived
//! from the durable tables in [`derive`] (one event's rows in [`emit`]), the
//! delivery queue in [`queue`]. Same events, bodies, ids and order per
//! conversation as SQLite, with any number of nodes deriving and sending
//! at once.
//!
//! Deriving. SQLite reads cursors (conversation ids, `closed_at` and rating
//! times) while its writer waits, and ids commit in order there. Here
//! several nodes commit at once and a sequence value can commit after a
//! larger one, so a cursor could step over a row that commits late. Instead
//! each thing owed carries its own flag, set in the transaction that
//! derives it: `conversations.webhook_created`, `webhook_seq` (as on
//! SQLite), `webhook_closed`, and `ratings.webhook_given` (migration
//! 20261207000002). A row not yet committed is simply found next round.
//! - Owed from `since` (a row of `webhook_cursors`, set when a first webhook
//!   is registered): events stamped earlier (`created_at`, `sent_at`,
//!   `closed_at`, the rating's `created_at`) are history, owed to no one.
//!   So registering touches no conversation (SQLite moves every open one's
//!   `webhook_seq`). The edge differs a little: an event stamped just
//!   before `since` but committed after it is not owed (SQLite owes it).
//! - Every pass claims the conversation rows it derives for with
//!   `FOR UPDATE SKIP LOCKED` (a rating's row too), and re-reads them as
//!   committed (PostgreSQL rechecks a locked row's conditions): two nodes
//!   deriving at once take different conversations, none is skipped for
//!   good, none is derived twice. A repeat would still be dropped: event
//!   ids name the event (`message.created:<conversation>:<seq>`, …) and the
//!   deliveries are unique per (webhook, event id).
//! - Order: a conversation's events are derived by one transaction at a
//!   time (its row lock), created before messages (a conversation's
//!   messages wait until its creation is settled), messages before its
//!   close, the close before its rating; delivery ids come from a sequence
//!   within that lock, so per (webhook, conversation) they follow the
//!   events and commit in id order, which is what the queue sends by.
//! - The message writer locks conversation rows as well: a derivation never
//!   waits for it (it skips), the writer may wait for one derivation's
//!   commit of the conversations it claimed (SQLite's writer waits for the
//!   whole derivation).
//! - `max_pending` is counted per transaction: nodes deriving at once may
//!   together queue a little more.
//!
//! Sending ([`queue::due`]): one statement takes the (webhook, conversation)
//! groups whose oldest pending delivery is due, locks those oldest rows
//! `SKIP LOCKED` (a group another node is claiming is left to it), and
//! claims each group's due run, oldest first, by moving its
//! `next_attempt_at` past the time sending it may take (a minute per
//! delivery, and one more). A claimed group's oldest delivery is no longer
//! due, so no other node sends any of the group until the claim is
//! recorded: delivered ones are done, a failure sets its retry and hands
//! the rest of the claim back behind it (or at once, when given up). A node
//! that dies while sending leaves its claim to expire; the group is then
//! sent again, with the same event ids (at least once, as on SQLite after
//! a crash).

mod derive;
mod emit;
mod queue;

use async_trait::async_trait;

use super::Postgres;
use crate::protocol::webhooks::{WebhookDelivery, WebhookEvent, WebhookInfo};
use crate::server::storage::rows::{webhook_info, WebhookRow};
use crate::server::storage::{DueDelivery, Outcome, StoreResult, Webhooks};

#[async_trait]
impl Webhooks for Postgres {
    async fn webhooks(&self) -> StoreResult<Vec<WebhookInfo>> {
        let rows: Vec<WebhookRow> = sqlx::query_as(
            "SELECT id, url, events, secret, created_at FROM webhooks WHERE enabled = TRUE
             ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(webhook_info).collect())
    }

    async fn create_webhook(
        &self,
        url: &str,
        events: &[WebhookEvent],
        secret: &str,
        now: i64,
    ) -> StoreResult<WebhookInfo> {
        let events: Vec<&str> = events.iter().map(|e| e.as_str()).collect();
        let mut tx = self.pool.begin().await?;
        let existing: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM webhooks WHERE enabled = TRUE")
                .fetch_one(&mut *tx)
                .await?;
        if existing == 0 {
            // The first webhook: events are owed from now on.
            sqlx::query(
                "INSERT INTO webhook_cursors (name, position) VALUES ('since', $1)
                 ON CONFLICT (name) DO UPDATE SET position = excluded.position",
            )
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        let row: WebhookRow = sqlx::query_as(
            "INSERT INTO webhooks (url, events, secret, created_at) VALUES ($1, $2, $3, $4)
             RETURNING id, url, events, secret, created_at",
        )
        .bind(url)
        .bind(events.join(","))
        .bind(secret)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(webhook_info(row))
    }

    async fn delete_webhook(&self, id: i64) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM webhook_deliveries WHERE webhook_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        // Deliveries a derivation adds meanwhile go with it (ON DELETE CASCADE).
        let done = sqlx::query("DELETE FROM webhooks WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    async fn rotate_webhook_secret(&self, id: i64, secret: &str) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE webhooks SET secret = $1 WHERE id = $2")
            .bind(secret)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn derive_webhook_events(
        &self,
        now: i64,
        budget: usize,
        max_pending: i64,
    ) -> StoreResult<usize> {
        Ok(derive::derive(&self.pool, now, budget, max_pending).await?)
    }

    async fn due_deliveries(&self, now: i64, groups: usize) -> StoreResult<Vec<Vec<DueDelivery>>> {
        Ok(queue::due(&self.pool, now, groups).await?)
    }

    async fn record_outcomes(&self, outcomes: &[Outcome], now: i64) -> StoreResult<()> {
        Ok(queue::record(&self.pool, outcomes, now).await?)
    }

    async fn prune_deliveries(&self, give_up_before: i64, forget_before: i64) -> StoreResult<()> {
        Ok(queue::prune(&self.pool, give_up_before, forget_before).await?)
    }

    async fn recent_deliveries(&self, limit: i64) -> StoreResult<Vec<WebhookDelivery>> {
        Ok(queue::recent(&self.pool, limit).await?)
    }
}
