//! Webhooks in SQLite: the registered URLs here, the events derived from
//! the durable tables in [`derive`], the delivery queue in [`queue`].

mod derive;
mod queue;

use async_trait::async_trait;

use super::Sqlite;
use crate::protocol::webhooks::{WebhookDelivery, WebhookEvent, WebhookInfo};
use crate::server::storage::rows::{webhook_info, WebhookRow};
use crate::server::storage::{DueDelivery, Outcome, StoreResult, Webhooks};

#[async_trait]
impl Webhooks for Sqlite {
    async fn webhooks(&self) -> StoreResult<Vec<WebhookInfo>> {
        let rows: Vec<WebhookRow> = sqlx::query_as(
            "SELECT id, url, events, secret, created_at FROM webhooks WHERE enabled = 1 ORDER BY id",
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
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhooks WHERE enabled = 1")
            .fetch_one(&mut *tx)
            .await?;
        if existing == 0 {
            // The first webhook: events are owed from now on. The closes
            // and ratings cursors are read from a minute back, so they
            // start a minute ahead.
            sqlx::query(
                "UPDATE webhook_cursors SET position =
                 (SELECT COALESCE(MAX(id), 0) FROM conversations) WHERE name = 'created'",
            )
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE webhook_cursors SET position = ? WHERE name IN ('closed', 'rated')",
            )
            .bind(now + derive::LOOKBACK_MS)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE conversations SET webhook_seq = last_seq
                 WHERE status != 'closed' AND webhook_seq < last_seq",
            )
            .execute(&mut *tx)
            .await?;
        }
        let row: WebhookRow = sqlx::query_as(
            "INSERT INTO webhooks (url, events, secret, created_at) VALUES (?, ?, ?, ?)
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
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("DELETE FROM webhook_deliveries WHERE webhook_id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM webhooks WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    async fn rotate_webhook_secret(&self, id: i64, secret: &str) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE webhooks SET secret = ? WHERE id = ?")
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
        Ok(derive::derive(&self.pool, &self.gate, now, budget, max_pending).await?)
    }

    async fn due_deliveries(&self, now: i64, groups: usize) -> StoreResult<Vec<Vec<DueDelivery>>> {
        Ok(queue::due(&self.pool, now, groups).await?)
    }

    async fn record_outcomes(&self, outcomes: &[Outcome], now: i64) -> StoreResult<()> {
        Ok(queue::record(&self.pool, &self.gate, outcomes, now).await?)
    }

    async fn prune_deliveries(&self, give_up_before: i64, forget_before: i64) -> StoreResult<()> {
        Ok(queue::prune(&self.pool, &self.gate, give_up_before, forget_before).await?)
    }

    async fn recent_deliveries(&self, limit: i64) -> StoreResult<Vec<WebhookDelivery>> {
        Ok(queue::recent(&self.pool, limit).await?)
    }
}
