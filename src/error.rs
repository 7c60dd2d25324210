//! Errors that server functions return: serializable, and safe to show to
//! users (internal details are logged on the server, never sent).

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// Why an account form was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Invalid {
    /// The name is blank.
    NameEmpty,
    /// The name is over [`crate::accounts::MAX_NAME_CHARS`].
    NameTooLong,
    /// The name has control or invisible characters.
    NameControl,
    /// The password is under [`crate::accounts::MIN_PASSWORD_CHARS`] (or absurdly long).
    PasswordLength,
    /// Capacity outside [`crate::accounts::MAX_CAPACITY`].
    Capacity,
    /// Another agent has that name.
    NameTaken,
    /// Admins cannot disable or remove themselves.
    SelfLockout,
    /// The form could not be read.
    Form,
}

/// The error type of every server function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Not signed in, or the session ended.
    #[error("sign in first")]
    Unauthorized,
    /// Signed in, but not allowed (e.g. not an admin).
    #[error("not allowed")]
    Forbidden,
    /// No such thing, or not yours.
    #[error("not found")]
    NotFound,
    /// Name and password do not match an enabled account.
    #[error("wrong name or password")]
    WrongCredentials,
    /// The first admin exists already.
    #[error("setup is already done")]
    AlreadySetUp,
    /// Too many failed sign-ins: wait this long.
    #[error("too many attempts; retry in {retry_after_secs} s")]
    TooManyAttempts {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// A form field was refused.
    #[error("invalid input: {0:?}")]
    Invalid(Invalid),
    /// The server failed; details are in its log.
    #[error("something went wrong on the server")]
    Internal,
    /// The request did not reach the server, or its answer could not be read.
    #[error("could not reach the server: {0}")]
    Transport(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => {
                AppError::Invalid(Invalid::Form)
            }
            other => AppError::Transport(other.to_string()),
        }
    }
}
