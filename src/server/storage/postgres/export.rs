//! Everything stored about one visitor, read for `kefu visitor export`, in
//! one read-only snapshot (other nodes keep writing meanwhile).

use sqlx::PgPool;

use crate::server::storage::{
    ExportContext, ExportConversation, ExportMessage, ExportNote, ExportRating, StoreResult,
    VisitorExport, VisitorId,
};

/// The visitor's row (without token hashes), context and conversations.
pub(super) async fn export(
    pool: &PgPool,
    visitor: VisitorId,
) -> StoreResult<Option<VisitorExport>> {
    // Every query below sees the database as it was at the first one.
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    type Row = (
        i64,
        i64,
        Option<String>,
        Option<String>,
        Option<String>,
        bool,
    );
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, created_at, external_id, name, email, verified FROM visitors WHERE id = $1",
    )
    .bind(visitor)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((id, created_at, external_id, name, email, verified)) = row else {
        return Ok(None);
    };
    let device_tokens: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM visitor_tokens WHERE visitor_id = $1")
            .bind(visitor)
            .fetch_one(&mut *tx)
            .await?;
    let context: Option<ExportContext> = sqlx::query_as(
        "SELECT page_url, page_title, page_at, referrer, time_zone, utc_offset, browser, os,
                language
         FROM visitor_context WHERE visitor_id = $1",
    )
    .bind(visitor)
    .fetch_optional(&mut *tx)
    .await?;
    let rows: Vec<(i64, String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT id, status, created_at, closed_at FROM conversations
         WHERE visitor_id = $1 ORDER BY id",
    )
    .bind(visitor)
    .fetch_all(&mut *tx)
    .await?;
    let mut conversations = Vec::with_capacity(rows.len());
    for (cid, status, opened, closed_at) in rows {
        let agents = sqlx::query_scalar(
            "SELECT a.name FROM conversation_agents ca JOIN agents a ON a.id = ca.agent_id
             WHERE ca.conversation_id = $1 ORDER BY a.name COLLATE \"C\"",
        )
        .bind(cid)
        .fetch_all(&mut *tx)
        .await?;
        let messages: Vec<ExportMessage> = sqlx::query_as(
            "SELECT seq, author, author_name, body, event, sent_at FROM messages
             WHERE conversation_id = $1 ORDER BY seq",
        )
        .bind(cid)
        .fetch_all(&mut *tx)
        .await?;
        let notes: Vec<ExportNote> = sqlx::query_as(
            "SELECT after_seq, author_name, body, sent_at FROM notes
             WHERE conversation_id = $1 ORDER BY after_seq, id",
        )
        .bind(cid)
        .fetch_all(&mut *tx)
        .await?;
        let rating: Option<ExportRating> = sqlx::query_as(
            "SELECT score, comment, created_at FROM ratings WHERE conversation_id = $1",
        )
        .bind(cid)
        .fetch_optional(&mut *tx)
        .await?;
        conversations.push(ExportConversation {
            id: cid,
            status,
            created_at: opened,
            closed_at,
            agents,
            messages,
            notes,
            rating,
        });
    }
    tx.commit().await?;
    Ok(Some(VisitorExport {
        id,
        created_at,
        external_id,
        name,
        email,
        verified,
        device_tokens,
        context,
        conversations,
    }))
}
