//! Identity secrets, verified visitors and their tokens, visitors' labels.

use async_trait::async_trait;

use super::Postgres;
use crate::server::storage::{
    now_ms, Identities, IdentitySecrets, StoreResult, VisitorId, VisitorProfile, MAX_VISITOR_TOKENS,
};

/// Retired secrets kept to tell a token signed with one (older ones are
/// simply wrong signatures).
const RETIRED_KEPT: i64 = 10;

#[async_trait]
impl Identities for Postgres {
    async fn identity_secrets(&self, fresh: &str) -> StoreResult<IdentitySecrets> {
        let read = || {
            sqlx::query_as::<_, (String, bool)>(
                "SELECT secret, retired_at IS NULL FROM identity_secrets
                 ORDER BY retired_at IS NULL DESC, id DESC LIMIT $1",
            )
            .bind(RETIRED_KEPT + 1)
            .fetch_all(&self.pool)
        };
        let mut rows = read().await?;
        if !rows.first().is_some_and(|(_, current)| *current) {
            // First need: `fresh` becomes current unless another request
            // (on any node) made one meanwhile (the partial unique index
            // keeps one: the later insert waits for the earlier and does nothing).
            sqlx::query(
                "INSERT INTO identity_secrets (secret, created_at) VALUES ($1, $2)
                 ON CONFLICT DO NOTHING",
            )
            .bind(fresh)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
            rows = read().await?;
        }
        let mut rows = rows.into_iter();
        let current = match rows.next() {
            Some((secret, true)) => secret,
            _ => return Err(sqlx::Error::RowNotFound.into()),
        };
        Ok(IdentitySecrets {
            current,
            retired: rows.map(|(secret, _)| secret).collect(),
        })
    }

    async fn rotate_identity_secret(&self, fresh: &str) -> StoreResult<()> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        // Two rotations at once (two nodes): without the lock the second
        // would not see the first's new secret, leave it current and fail
        // on the unique index; with it, the second waits and retires it.
        sqlx::query("LOCK TABLE identity_secrets IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE identity_secrets SET retired_at = $1 WHERE retired_at IS NULL")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO identity_secrets (secret, created_at) VALUES ($1, $2)")
            .bind(fresh)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn identified_visitor(
        &self,
        user_id: &str,
        name: Option<&str>,
        email: Option<&str>,
        unused_token_hash: &[u8],
    ) -> StoreResult<VisitorId> {
        // The id comes from the visitors' sequence (on conflict, one number
        // of it goes unused, which is harmless).
        sqlx::query_scalar(
            "INSERT INTO visitors (token_hash, created_at, external_id, name, email, verified)
             VALUES ($1, $2, $3, $4, $5, TRUE)
             ON CONFLICT (external_id)
             DO UPDATE SET name = excluded.name, email = excluded.email, verified = TRUE
             RETURNING id",
        )
        .bind(unused_token_hash)
        .bind(now_ms())
        .bind(user_id)
        .bind(name)
        .bind(email)
        .fetch_one(&self.pool)
        .await
        .map_err(Into::into)
    }

    async fn verified_by_token(
        &self,
        token_hash: &[u8],
        user_id: &str,
    ) -> StoreResult<Option<VisitorId>> {
        sqlx::query_scalar(
            "SELECT t.visitor_id FROM visitor_tokens t JOIN visitors v ON v.id = t.visitor_id
             WHERE t.token_hash = $1 AND v.external_id = $2",
        )
        .bind(token_hash)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(Into::into)
    }

    async fn add_visitor_token(&self, visitor: VisitorId, token_hash: &[u8]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        // One device at a time per visitor (the row lock, to the commit),
        // so that the trim below sees every token added before: never more
        // than the newest MAX_VISITOR_TOKENS stay, whichever node adds them.
        // NO KEY: conversations of this visitor can still be created meanwhile.
        sqlx::query("SELECT 1 FROM visitors WHERE id = $1 FOR NO KEY UPDATE")
            .bind(visitor)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO visitor_tokens (token_hash, visitor_id, created_at) VALUES ($1, $2, $3)",
        )
        .bind(token_hash)
        .bind(visitor)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        // `id` (migration 20261207000002) orders tokens given in the same
        // millisecond, as the rowid does on SQLite.
        sqlx::query(
            "DELETE FROM visitor_tokens WHERE visitor_id = $1 AND token_hash NOT IN (
                 SELECT token_hash FROM visitor_tokens WHERE visitor_id = $1
                 ORDER BY created_at DESC, id DESC LIMIT $2)",
        )
        .bind(visitor)
        .bind(MAX_VISITOR_TOKENS)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn visitor_profile(&self, visitor: VisitorId) -> StoreResult<VisitorProfile> {
        let row = sqlx::query_as("SELECT name, email, verified FROM visitors WHERE id = $1")
            .bind(visitor)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.unwrap_or_default())
    }

    async fn set_visitor_profile(
        &self,
        visitor: VisitorId,
        name: Option<Option<&str>>,
        email: Option<Option<&str>>,
    ) -> StoreResult<bool> {
        // `$2`/`$4` say whether to set the field; `$3`/`$5` its new value.
        let done = sqlx::query(
            "UPDATE visitors SET
                 name = CASE WHEN $2 THEN $3 ELSE name END,
                 email = CASE WHEN $4 THEN $5 ELSE email END
             WHERE id = $1 AND verified = FALSE",
        )
        .bind(visitor)
        .bind(name.is_some())
        .bind(name.flatten())
        .bind(email.is_some())
        .bind(email.flatten())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
