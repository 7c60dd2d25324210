//! What can go wrong in storage, in one type for every backend.

use std::sync::Arc;

/// A storage operation failed. Callers log it and tell the user
/// [`crate::protocol::ErrorCode::Storage`] (or `Internal`): the details never
/// leave the server.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// An agent with that name exists already (names are case-insensitive),
    /// or the owner has a canned reply with that shortcut.
    #[error("that name is taken")]
    NameTaken,
    /// The message writer has stopped (it panicked): nothing can be stored.
    #[error("the message writer has stopped")]
    WriterStopped,
    /// The database refused or failed; shared by every message of a failed batch.
    #[error("database: {0}")]
    Database(Arc<sqlx::Error>),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(Arc::new(e))
    }
}

impl StoreError {
    /// A unique index refusing a row reads as [`StoreError::NameTaken`]
    /// (an agent's name, a canned reply's shortcut), on every backend.
    pub fn taken(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::NameTaken,
            e => e.into(),
        }
    }
}

/// The result of a storage operation.
pub type StoreResult<T> = Result<T, StoreError>;
