//! The server's error type, and how errors become what users are told: a
//! [`crate::protocol::ErrorCode`] (through [`AppError`] for server
//! functions, through `ServerMsg::error` on sockets). The details are
//! logged here, never sent.

use crate::error::{AppError, Invalid};
use crate::server::storage::StoreError;

/// Something failed inside the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Storage failed or refused.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Anything else (hashing, headers): a bug or the machine.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<ServerError> for AppError {
    fn from(e: ServerError) -> Self {
        match e {
            ServerError::Store(StoreError::NameTaken) => AppError::Invalid(Invalid::NameTaken),
            e => {
                tracing::error!(error = %e, "a server function failed");
                AppError::Internal
            }
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        ServerError::from(e).into()
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        ServerError::from(e).into()
    }
}
