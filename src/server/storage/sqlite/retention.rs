//! Visitors stored on their first act worth keeping, the retention sweep,
//! and deleting a visitor: every table that holds a visitor's or a
//! conversation's data, and the search index, in one place.
//!
//! Deletions run in short transactions taken while the message writer waits
//! between two batches (the checkpoint [`Gate`](super::checkpoint::Gate)),
//! like the indexer's chunks: they never hold the writer for long, and the
//! indexer (which takes the same gate) never indexes half of a conversation
//! being deleted. Only closed conversations are deleted: the writer gives
//! seqs to open ones only, and a conversation's closing notice is committed
//! before its close returns (`Hub::post_system`), so nothing for it can be
//! waiting in the writer's queue.

use std::sync::atomic::Ordering;

use async_trait::async_trait;
use sqlx::{Connection, SqliteConnection};

use super::Sqlite;
use crate::protocol::ConversationId;
use crate::server::storage::{
    now_ms, ClientFacts, Deleted, PageViewRow, Retention, StoreResult, VisitorId,
};

/// Removes conversations with everything that hangs on them, search
/// entries first (the contentless index forgets a row only when told its
/// exact text, which is still in `messages`). Every table with a
/// `conversation_id` column is named here.
pub(super) async fn delete_conversations(
    tx: &mut SqliteConnection,
    ids: &[ConversationId],
) -> sqlx::Result<()> {
    // Never give a deleted conversation's id again (see `create_conversation`).
    sqlx::query(
        "INSERT INTO id_floors (name, value)
         SELECT 'conversations', MAX(id) FROM conversations WHERE true HAVING MAX(id) IS NOT NULL
         ON CONFLICT (name) DO UPDATE SET value = MAX(id_floors.value, excluded.value)",
    )
    .execute(&mut *tx)
    .await?;
    for &id in ids {
        sqlx::query(
            "INSERT INTO message_text (message_text, rowid, body)
             SELECT 'delete', m.conversation_id * 4294967296 + m.seq, m.body
             FROM messages m JOIN conversations c ON c.id = m.conversation_id
             WHERE m.conversation_id = ? AND m.seq <= c.indexed_seq
               AND m.author IN ('visitor', 'agent')",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        for table in [
            "messages",
            "notes",
            "ratings",
            "conversation_agents",
            "webhook_deliveries",
        ] {
            sqlx::query(&format!("DELETE FROM {table} WHERE conversation_id = ?"))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM conversations WHERE id = ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// Removes visitors who have no conversation left: their context, device
/// tokens and row. Every table with a `visitor_id` column but
/// `conversations` is named here.
async fn delete_visitor_rows(tx: &mut SqliteConnection, ids: &[VisitorId]) -> sqlx::Result<u64> {
    let mut gone = 0;
    for &id in ids {
        for table in ["visitor_context", "visitor_tokens"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE visitor_id = ?"))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        gone += sqlx::query(
            "DELETE FROM visitors WHERE id = ?1
             AND NOT EXISTS (SELECT 1 FROM conversations WHERE visitor_id = ?1)",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    }
    Ok(gone)
}

impl Sqlite {
    /// The next visitor id (see [`Retention::reserve_visitor_id`]).
    pub(super) fn next_visitor_id(&self) -> VisitorId {
        VisitorId(self.next_visitor.fetch_add(1, Ordering::Relaxed) + 1)
    }
}

#[async_trait]
impl Retention for Sqlite {
    async fn reserve_visitor_id(&self) -> StoreResult<VisitorId> {
        Ok(self.next_visitor_id())
    }

    async fn keep_visitor(
        &self,
        id: VisitorId,
        token_hash: &[u8],
        client: Option<&ClientFacts>,
        page: Option<&PageViewRow>,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let added = sqlx::query(
            "INSERT INTO visitors (id, token_hash, created_at) VALUES (?, ?, ?)
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
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(id)
            .bind(page.map(|p| &p.page.url))
            .bind(page.map(|p| &p.page.title))
            .bind(page.map(|p| p.page.at))
            .bind(page.and_then(|p| p.referrer.as_ref()))
            .bind(page.and_then(|p| p.time_zone.as_ref()))
            .bind(page.and_then(|p| p.utc_offset))
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
        let _writer_waits = self.gate.lock().await;
        let mut conn = self.pool.acquire().await?;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
        let ids: Vec<ConversationId> = sqlx::query_scalar(
            "SELECT id FROM conversations
             WHERE status = 'closed' AND closed_at < ? ORDER BY closed_at, id LIMIT ?",
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
             WHERE v.created_at < ?
               AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.visitor_id = v.id)
             ORDER BY v.id LIMIT ?",
        )
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(Into::into)
    }

    async fn forget_visitors(&self, ids: &[VisitorId]) -> StoreResult<u64> {
        let _writer_waits = self.gate.lock().await;
        let mut conn = self.pool.acquire().await?;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
        let gone = delete_visitor_rows(&mut tx, ids).await?;
        tx.commit().await?;
        Ok(gone)
    }

    async fn sweep_sessions(&self, now: i64, idle_since: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at < ? OR last_seen_at < ?")
            .bind(now)
            .bind(idle_since)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn export_visitor(
        &self,
        visitor: VisitorId,
    ) -> StoreResult<Option<crate::server::storage::VisitorExport>> {
        super::export::export(&self.pool, visitor).await
    }

    async fn delete_visitor(&self, visitor: VisitorId) -> StoreResult<Deleted> {
        let _writer_waits = self.gate.lock().await;
        let mut conn = self.pool.acquire().await?;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM visitors WHERE id = ?)")
                .bind(visitor)
                .fetch_one(&mut *tx)
                .await?;
        if !exists {
            return Ok(Deleted::NotFound);
        }
        let open: Option<ConversationId> = sqlx::query_scalar(
            "SELECT id FROM conversations WHERE visitor_id = ? AND status != 'closed' LIMIT 1",
        )
        .bind(visitor)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(open) = open {
            return Ok(Deleted::Open(open));
        }
        let ids: Vec<ConversationId> =
            sqlx::query_scalar("SELECT id FROM conversations WHERE visitor_id = ?")
                .bind(visitor)
                .fetch_all(&mut *tx)
                .await?;
        delete_conversations(&mut tx, &ids).await?;
        delete_visitor_rows(&mut tx, &[visitor]).await?;
        tx.commit().await?;
        Ok(Deleted::Gone)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::temp;
    use super::*;
    use crate::protocol::PageSeen;
    use crate::server::storage::{Conversations, Identities, Visits};

    #[tokio::test]
    async fn a_reserved_id_is_never_taken_by_another_visitor() {
        let (_dir, db) = temp().await;
        let reserved = db.reserve_visitor_id().await.expect("reserves");
        let anonymous = db.create_visitor(b"a").await.expect("creates");
        let verified = db
            .identified_visitor("u-1", None, None, b"unused")
            .await
            .expect("creates");
        assert!(anonymous != reserved && verified != reserved);
        assert_eq!(db.visitor_by_token(b"r").await.expect("reads"), None);
        let page = PageViewRow {
            page: PageSeen {
                url: "https://shop.example.com/".into(),
                title: "Shop".into(),
                at: 5,
            },
            referrer: None,
            time_zone: Some("Asia/Shanghai".into()),
            utc_offset: Some(480),
        };
        let client = ClientFacts {
            browser: Some("Firefox 140".into()),
            ..ClientFacts::default()
        };
        db.keep_visitor(reserved, b"r", Some(&client), Some(&page))
            .await
            .expect("stores");
        // Twice is once.
        db.keep_visitor(reserved, b"r", None, None)
            .await
            .expect("stores");
        assert_eq!(
            db.visitor_by_token(b"r").await.expect("reads"),
            Some(reserved)
        );
        let facts = db
            .visitor_facts(reserved)
            .await
            .expect("reads")
            .expect("stored");
        assert_eq!(facts.page, Some(page));
        assert_eq!(facts.client, client);
        // A database opened again continues after the highest id.
        let next = db.reserve_visitor_id().await.expect("reserves");
        assert!(next.0 > reserved.0.max(anonymous.0).max(verified.0));
    }

    #[tokio::test]
    async fn a_deleted_conversations_id_is_never_given_again() {
        let (_dir, db) = temp().await;
        let visitor = db.create_visitor(b"a").await.expect("creates");
        let first = db.create_conversation(visitor).await.expect("opens");
        let newest = db.create_conversation(visitor).await.expect("opens");
        sqlx::query("UPDATE conversations SET status = 'closed', closed_at = 1")
            .execute(&db.pool)
            .await
            .expect("closes");
        assert_eq!(
            db.delete_visitor(visitor).await.expect("deletes"),
            Deleted::Gone
        );
        let other = db.create_visitor(b"b").await.expect("creates");
        let next = db.create_conversation(other).await.expect("opens");
        assert!(
            next.0 > newest.0 && newest.0 > first.0,
            "{next:?} after {newest:?}"
        );
    }
}
