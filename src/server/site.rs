//! The settings admins make in the console ([`SiteSettings`]), kept in
//! memory for every request and socket that needs them, and replaced in
//! one step when an admin saves: applied without a restart.

use std::sync::{Arc, PoisonError, RwLock};

use crate::protocol::settings::SiteSettings;
use crate::server::storage::{Storage, StoreError};

/// The key the settings are stored under.
const KEY: &str = "site";

/// The site's settings, shared by every task (cheap to clone).
#[derive(Clone, Debug, Default)]
pub struct Site {
    current: Arc<RwLock<Arc<SiteSettings>>>,
}

impl Site {
    /// Reads the stored settings (the defaults if none were saved, or if
    /// what is stored no longer reads: logged, and replaced on next save).
    pub async fn load(storage: &Storage) -> Result<Self, StoreError> {
        let settings = match storage.setting(KEY).await? {
            Some(json) => serde_json::from_str(&json).unwrap_or_else(|e| {
                tracing::error!(error = %e, "stored settings do not read; using the defaults");
                SiteSettings::default()
            }),
            None => SiteSettings::default(),
        };
        Ok(Self {
            current: Arc::new(RwLock::new(Arc::new(settings))),
        })
    }

    /// Reads the stored settings again (another node saved them).
    pub async fn reload(&self, storage: &Storage) -> Result<(), StoreError> {
        let fresh = Self::load(storage).await?.get();
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = fresh;
        Ok(())
    }

    /// The settings now.
    pub fn get(&self) -> Arc<SiteSettings> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Stores `settings` (already checked) and serves them from now on.
    pub async fn save(&self, storage: &Storage, settings: SiteSettings) -> Result<(), StoreError> {
        let json = serde_json::to_string(&settings)
            .map_err(|e| StoreError::from(sqlx::Error::Encode(Box::new(e))))?;
        storage.set_setting(KEY, &json).await?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(settings);
        Ok(())
    }
}
