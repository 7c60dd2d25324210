//! Identity secrets, verified visitors and their tokens, visitors' labels.

use async_trait::async_trait;

use super::Sqlite;
use crate::server::storage::{
    now_ms, Identities, IdentitySecrets, StoreResult, VisitorId, VisitorProfile, MAX_VISITOR_TOKENS,
};

/// Retired secrets kept to tell a token signed with one (older ones are
/// simply wrong signatures).
const RETIRED_KEPT: i64 = 10;

#[async_trait]
impl Identities for Sqlite {
    async fn identity_secrets(&self, fresh: &str) -> StoreResult<IdentitySecrets> {
        let read = || {
            sqlx::query_as::<_, (String, bool)>(
                "SELECT secret, retired_at IS NULL FROM identity_secrets
                 ORDER BY retired_at IS NULL DESC, id DESC LIMIT ?",
            )
            .bind(RETIRED_KEPT + 1)
            .fetch_all(&self.pool)
        };
        let mut rows = read().await?;
        if !rows.first().is_some_and(|(_, current)| *current) {
            // First need: `fresh` becomes current unless another request
            // made one meanwhile (the partial unique index keeps one).
            sqlx::query(
                "INSERT INTO identity_secrets (secret, created_at) VALUES (?, ?)
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
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("UPDATE identity_secrets SET retired_at = ? WHERE retired_at IS NULL")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO identity_secrets (secret, created_at) VALUES (?, ?)")
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
        sqlx::query_scalar(
            "INSERT INTO visitors (id, token_hash, created_at, external_id, name, email, verified)
             VALUES (?, ?, ?, ?, ?, ?, 1)
             ON CONFLICT (external_id) WHERE external_id IS NOT NULL
             DO UPDATE SET name = excluded.name, email = excluded.email, verified = 1
             RETURNING id",
        )
        .bind(self.next_visitor_id())
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
             WHERE t.token_hash = ? AND v.external_id = ?",
        )
        .bind(token_hash)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(Into::into)
    }

    async fn add_visitor_token(&self, visitor: VisitorId, token_hash: &[u8]) -> StoreResult<()> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query(
            "INSERT INTO visitor_tokens (token_hash, visitor_id, created_at) VALUES (?, ?, ?)",
        )
        .bind(token_hash)
        .bind(visitor)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM visitor_tokens WHERE visitor_id = ?1 AND token_hash NOT IN (
                 SELECT token_hash FROM visitor_tokens WHERE visitor_id = ?1
                 ORDER BY created_at DESC, rowid DESC LIMIT ?2)",
        )
        .bind(visitor)
        .bind(MAX_VISITOR_TOKENS)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn visitor_profile(&self, visitor: VisitorId) -> StoreResult<VisitorProfile> {
        let row = sqlx::query_as("SELECT name, email, verified FROM visitors WHERE id = ?")
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
        // `?2`/`?4` say whether to set the field; `?3`/`?5` its new value.
        let done = sqlx::query(
            "UPDATE visitors SET
                 name = CASE WHEN ?2 THEN ?3 ELSE name END,
                 email = CASE WHEN ?4 THEN ?5 ELSE email END
             WHERE id = ?1 AND verified = 0",
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

#[cfg(test)]
mod tests {
    use super::super::tests::temp;
    use super::*;
    use crate::server::storage::Conversations;

    #[tokio::test]
    async fn the_first_secret_stays_until_rotated_and_then_is_retired() {
        let (_dir, db) = temp().await;
        let first = db.identity_secrets("one").await.expect("reads");
        assert_eq!(first.current, "one");
        assert!(first.retired.is_empty());
        let again = db.identity_secrets("two").await.expect("reads");
        assert_eq!(
            again.current, "one",
            "a fresh secret only when none is current"
        );
        db.rotate_identity_secret("three").await.expect("rotates");
        db.rotate_identity_secret("four").await.expect("rotates");
        let after = db.identity_secrets("five").await.expect("reads");
        assert_eq!(after.current, "four");
        assert_eq!(after.retired, vec!["three".to_owned(), "one".to_owned()]);
    }

    #[tokio::test]
    async fn a_user_is_one_visitor_with_a_token_per_device() {
        let (_dir, db) = temp().await;
        let v = db
            .identified_visitor("u-42", Some("Li"), None, b"unused-1")
            .await
            .expect("creates");
        let same = db
            .identified_visitor("u-42", Some("Li Lei"), Some("li@example.com"), b"unused-2")
            .await
            .expect("finds");
        assert_eq!(v, same);
        let profile = db.visitor_profile(v).await.expect("reads");
        assert_eq!(profile.name.as_deref(), Some("Li Lei"));
        assert!(profile.verified);
        db.add_visitor_token(v, b"phone").await.expect("adds");
        db.add_visitor_token(v, b"laptop").await.expect("adds");
        assert_eq!(
            db.verified_by_token(b"phone", "u-43").await.expect("reads"),
            None
        );
        assert_eq!(
            db.verified_by_token(b"phone", "u-42").await.expect("reads"),
            Some(v)
        );
        assert_eq!(
            db.verified_by_token(b"laptop", "u-42")
                .await
                .expect("reads"),
            Some(v)
        );
        // Neither the unused hash nor the device tokens find an anonymous visitor.
        assert_eq!(db.visitor_by_token(b"unused-1").await.expect("reads"), None);
        assert_eq!(db.visitor_by_token(b"phone").await.expect("reads"), None);
        // A verified label is not the visitor's to change.
        assert!(!db
            .set_visitor_profile(v, Some(Some("Mallory")), None)
            .await
            .expect("runs"));
        for n in 0..MAX_VISITOR_TOKENS {
            db.add_visitor_token(v, format!("t{n}").as_bytes())
                .await
                .expect("adds");
        }
        assert_eq!(
            db.verified_by_token(b"phone", "u-42").await.expect("reads"),
            None
        );
        assert_eq!(
            db.verified_by_token(b"t0", "u-42").await.expect("reads"),
            Some(v)
        );
    }

    #[tokio::test]
    async fn an_anonymous_visitor_labels_themselves() {
        let (_dir, db) = temp().await;
        let v = db.create_visitor(b"anon").await.expect("creates");
        assert!(db
            .set_visitor_profile(v, Some(Some("Ann")), Some(Some("a@b.co")))
            .await
            .expect("runs"));
        assert!(db
            .set_visitor_profile(v, None, Some(None))
            .await
            .expect("runs"));
        let profile = db.visitor_profile(v).await.expect("reads");
        assert_eq!(
            profile,
            VisitorProfile {
                name: Some("Ann".into()),
                email: None,
                verified: false
            }
        );
        // Conversations carry it, so the hub labels them after a restart too.
        let id = db.create_conversation(v).await.expect("creates");
        let row = db.conversation(id).await.expect("reads").expect("exists");
        assert_eq!(row.visitor, profile);
    }
}
