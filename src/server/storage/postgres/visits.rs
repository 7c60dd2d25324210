//! Visitors' latest page views, browsers and past conversations.

use async_trait::async_trait;
use sqlx::Row;

use super::Postgres;
use crate::protocol::{PageSeen, PastConversation};
use crate::server::storage::{
    ClientFacts, PageViewRow, StoreResult, VisitorFacts, VisitorId, Visits,
};

#[async_trait]
impl Visits for Postgres {
    async fn record_page_view(&self, visitor: VisitorId, view: &PageViewRow) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO visitor_context
                 (visitor_id, page_url, page_title, page_at, referrer, time_zone, utc_offset)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (visitor_id) DO UPDATE SET
                 page_url = excluded.page_url, page_title = excluded.page_title,
                 page_at = excluded.page_at,
                 referrer = COALESCE(excluded.referrer, visitor_context.referrer),
                 time_zone = COALESCE(excluded.time_zone, visitor_context.time_zone),
                 utc_offset = COALESCE(excluded.utc_offset, visitor_context.utc_offset)",
        )
        .bind(visitor)
        .bind(&view.page.url)
        .bind(&view.page.title)
        .bind(view.page.at)
        .bind(&view.referrer)
        .bind(&view.time_zone)
        .bind(view.utc_offset.map(i64::from))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn record_client(&self, visitor: VisitorId, client: &ClientFacts) -> StoreResult<()> {
        // Most connections are the same browser again: a read spares the
        // write (and the dead row version it would leave).
        let stored: Option<(Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT browser, os, language FROM visitor_context WHERE visitor_id = $1",
        )
        .bind(visitor)
        .fetch_optional(&self.pool)
        .await?;
        let same = stored.is_some_and(|(browser, os, language)| {
            browser == client.browser && os == client.os && language == client.language
        });
        if same {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO visitor_context (visitor_id, browser, os, language) VALUES ($1, $2, $3, $4)
             ON CONFLICT (visitor_id) DO UPDATE SET
                 browser = excluded.browser, os = excluded.os, language = excluded.language",
        )
        .bind(visitor)
        .bind(&client.browser)
        .bind(&client.os)
        .bind(&client.language)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn visitor_facts(&self, visitor: VisitorId) -> StoreResult<Option<VisitorFacts>> {
        let row = sqlx::query(
            "SELECT v.created_at, c.page_url, c.page_title, c.page_at, c.referrer, c.time_zone,
                    c.utc_offset, c.browser, c.os, c.language
             FROM visitors v LEFT JOIN visitor_context c ON c.visitor_id = v.id
             WHERE v.id = $1",
        )
        .bind(visitor)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let url: Option<String> = row.try_get("page_url")?;
        let page = url.map(|url| -> StoreResult<PageViewRow> {
            // BIGINT here; it was stored from an i32, so it fits.
            let utc_offset: Option<i64> = row.try_get("utc_offset")?;
            Ok(PageViewRow {
                page: PageSeen {
                    url,
                    title: row
                        .try_get::<Option<String>, _>("page_title")?
                        .unwrap_or_default(),
                    at: row.try_get::<Option<i64>, _>("page_at")?.unwrap_or(0),
                },
                referrer: row.try_get("referrer")?,
                time_zone: row.try_get("time_zone")?,
                utc_offset: utc_offset.and_then(|m| i32::try_from(m).ok()),
            })
        });
        Ok(Some(VisitorFacts {
            first_seen: row.try_get("created_at")?,
            page: page.transpose()?,
            client: ClientFacts {
                browser: row.try_get("browser")?,
                os: row.try_get("os")?,
                language: row.try_get("language")?,
            },
        }))
    }

    async fn visitor_conversations(
        &self,
        visitor: VisitorId,
        limit: i64,
    ) -> StoreResult<Vec<PastConversation>> {
        let rows = sqlx::query(
            "SELECT id, created_at, closed_at, last_seq FROM conversations
             WHERE visitor_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(visitor)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PastConversation {
                    id: r.try_get("id")?,
                    started_at: r.try_get("created_at")?,
                    closed_at: r.try_get("closed_at")?,
                    messages: r.try_get("last_seq")?,
                })
            })
            .collect()
    }
}
