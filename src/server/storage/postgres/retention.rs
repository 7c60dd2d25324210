//! Visitors stored on their first act worth keeping, the retention sweep,
//! and deleting a visitor: every table that holds a visitor's or a
//! conversation's data, in one place.
//!
//! Several nodes may sweep and delete at once, while others open
//! conversations and store messages; row locks keep them apart, with no
//! gate: a sweep takes the closed conversations no one else holds (`SKIP
//! LOCKED`); a visitor's row is locked before they are deleted, so that a
//! conversation being opened for them (whose foreign key check holds that
//! row) is waited for and seen, and one opened later waits and fails. Only
//! closed conversations are deleted: the writer gives seqs to open ones
//! only, and a conversation's closing notice is committed before its close
//! returns (`Hub::post_system`). There is no search index to update: the
//! trigram index follows `messages` by itself.

use async_trait::async_trait;
use sqlx::PgConnection;

use super::Postgres;
use crate::protocol::ConversationId;
use crate::server::storage::{
    now_ms, ClientFacts, Deleted, PageViewRow, Retention, StoreResult, VisitorExport, VisitorId,
};

/// Removes conversations (locked by the caller) with everything that hangs
/// on them. Every table with a `conversation_id` column is named here.
async fn delete_conversations(tx: &mut PgConnection, ids: &[i64]) -> sqlx::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    for table in [
        "messages",
        "notes",
        "ratings",
        "conversation_agents",
        "webhook_deliveries",
    ] {
        sqlx::query(&format!(
            "DELETE FROM {table} WHERE conversation_id = ANY($1)"
        ))
        .bind(ids)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query("DELETE FROM conversations WHERE id = ANY($1)")
        .bind(ids)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Removes those of these visitors who have no conversation: their
/// context, device tokens and row; answers how many. Every table with a
/// `visitor_id` column but `conversations` is named here.
async fn delete_visitor_rows(tx: &mut PgConnection, ids: &[i64]) -> sqlx::Result<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    // Locked first (in id order, so that two nodes cannot deadlock): a
    // conversation being opened for one of them is waited for, and the
    // next statement (a newer snapshot) sees it.
    sqlx::query("SELECT id FROM visitors WHERE id = ANY($1) ORDER BY id FOR UPDATE")
        .bind(ids)
        .execute(&mut *tx)
        .await?;
    let idle: Vec<i64> = sqlx::query_scalar(
        "SELECT v.id FROM visitors v WHERE v.id = ANY($1)
         AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.visitor_id = v.id)",
    )
    .bind(ids)
    .fetch_all(&mut *tx)
    .await?;
    for table in ["visitor_context", "visitor_tokens"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE visitor_id = ANY($1)"))
            .bind(&idle)
            .execute(&mut *tx)
            .await?;
    }
    let gone = sqlx::query("DELETE FROM visitors WHERE id = ANY($1)")
        .bind(&idle)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    Ok(gone)
}

#[async_trait]
impl Retention for Postgres {
    async fn reserve_visitor_id(&self) -> StoreResult<VisitorId> {
        // The sequence `create_visitor` and `identified_visitor` take their
        // ids from: distinct on every node, never given again.
        sqlx::query_scalar("SELECT nextval(pg_get_serial_sequence('visitors', 'id'))")
            .fetch_one(&self.pool)
            .await
            .map_err(Into::into)
    }

    async fn keep_visitor(
        &self,
        id: VisitorId,
        token_hash: &[u8],
        client: Option<&ClientFacts>,
        page: Option<&PageViewRow>,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        let added = sqlx::query(
            "INSERT INTO visitors (id, token_hash, created_at) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(token_hash)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if added == 0 {
            return Ok(());
        }
        if client.is_some() || page.is_some() {
            let client = client.cloned().unwrap_or_default();
            sqlx::query(
                "INSERT INTO visitor_context (visitor_id, page_url, page_title, page_at, referrer,
                     time_zone, utc_offset, browser, os, language)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(id)
            .bind(page.map(|p| &p.page.url))
            .bind(page.map(|p| &p.page.title))
            .bind(page.map(|p| p.page.at))
            .bind(page.and_then(|p| p.referrer.as_ref()))
            .bind(page.and_then(|p| p.time_zone.as_ref()))
            .bind(page.and_then(|p| p.utc_offset).map(i64::from))
            .bind(&client.browser)
            .bind(&client.os)
            .bind(&client.language)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn sweep_closed(&self, before: i64, limit: i64) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await?;
        // Another node sweeping (or deleting a visitor) now keeps the
        // conversations it holds; this one takes the next ones.
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM conversations
             WHERE status = 'closed' AND closed_at < $1 ORDER BY closed_at, id LIMIT $2
             FOR UPDATE SKIP LOCKED",
        )
        .bind(before)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        delete_conversations(&mut tx, &ids).await?;
        tx.commit().await?;
        Ok(ids.len() as u64)
    }

    async fn idle_visitors(&self, before: i64, limit: i64) -> StoreResult<Vec<VisitorId>> {
        sqlx::query_scalar(
            "SELECT v.id FROM visitors v
             WHERE v.created_at < $1
               AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.visitor_id = v.id)
             ORDER BY v.id LIMIT $2",
        )
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(Into::into)
    }

    async fn forget_visitors(&self, ids: &[VisitorId]) -> StoreResult<u64> {
        let ids: Vec<i64> = ids.iter().map(|v| v.0).collect();
        let mut tx = self.pool.begin().await?;
        let gone = delete_visitor_rows(&mut tx, &ids).await?;
        tx.commit().await?;
        Ok(gone)
    }

    async fn sweep_sessions(&self, now: i64, idle_since: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at < $1 OR last_seen_at < $2")
            .bind(now)
            .bind(idle_since)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn export_visitor(&self, visitor: VisitorId) -> StoreResult<Option<VisitorExport>> {
        super::export::export(&self.pool, visitor).await
    }

    async fn delete_visitor(&self, visitor: VisitorId) -> StoreResult<Deleted> {
        let mut tx = self.pool.begin().await?;
        // Locked: see the module's comment.
        let found: Option<i64> =
            sqlx::query_scalar("SELECT id FROM visitors WHERE id = $1 FOR UPDATE")
                .bind(visitor)
                .fetch_optional(&mut *tx)
                .await?;
        if found.is_none() {
            return Ok(Deleted::NotFound);
        }
        let open: Option<ConversationId> = sqlx::query_scalar(
            "SELECT id FROM conversations WHERE visitor_id = $1 AND status != 'closed'
             ORDER BY id LIMIT 1",
        )
        .bind(visitor)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(open) = open {
            return Ok(Deleted::Open(open));
        }
        // Waits for a sweep holding some of them; those it deleted are gone.
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM conversations WHERE visitor_id = $1 ORDER BY id FOR UPDATE",
        )
        .bind(visitor)
        .fetch_all(&mut *tx)
        .await?;
        delete_conversations(&mut tx, &ids).await?;
        delete_visitor_rows(&mut tx, &[visitor.0]).await?;
        tx.commit().await?;
        Ok(Deleted::Gone)
    }
}
