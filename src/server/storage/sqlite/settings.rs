//! Admins' settings: one JSON document per key.

use async_trait::async_trait;

use super::Sqlite;
use crate::server::storage::{now_ms, Settings, StoreResult};

#[async_trait]
impl Settings for Sqlite {
    async fn setting(&self, key: &str) -> StoreResult<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn set_setting(&self, key: &str, value: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(value)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::temp;
    use super::*;

    #[tokio::test]
    async fn a_setting_reads_back_and_is_replaced_by_the_next_save() {
        let (_dir, db) = temp().await;
        assert_eq!(db.setting("site").await.expect("reads"), None);
        db.set_setting("site", "{\"a\":1}").await.expect("saves");
        db.set_setting("site", "{\"a\":2}")
            .await
            .expect("saves again");
        assert_eq!(
            db.setting("site").await.expect("reads").as_deref(),
            Some("{\"a\":2}")
        );
        assert_eq!(db.setting("other").await.expect("reads"), None);
    }
}
