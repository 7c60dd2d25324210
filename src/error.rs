//! Errors that server functions return: typed for Rust callers, and on the
//! wire only a [`ErrorCode`] (plus how long to wait, for sign-in
//! throttling), which each UI turns into its own words. Internal details
//! are logged on the server, never sent.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::protocol::ErrorCode;

/// Why an account form was refused: each travels as the [`ErrorCode`] of
/// the same name ([`Invalid::Form`] as `bad_form`), documented there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// Travels as `name_empty`.
    NameEmpty,
    /// Travels as `name_too_long`.
    NameTooLong,
    /// Travels as `name_control`.
    NameControl,
    /// Travels as `password_length`.
    PasswordLength,
    /// Travels as `capacity`.
    Capacity,
    /// Travels as `name_taken`.
    NameTaken,
    /// Travels as `self_lockout`.
    SelfLockout,
    /// Travels as `bad_form`.
    Form,
    /// Travels as `bad_color`.
    Color,
    /// Travels as `bad_origin`.
    Origin,
    /// Travels as `setting_too_long`.
    SettingTooLong,
    /// Travels as `bad_hours`.
    Hours,
    /// Travels as `bad_time_zone`.
    TimeZone,
    /// Travels as `canned_shortcut`.
    CannedShortcut,
    /// Travels as `canned_text`.
    CannedText,
    /// Travels as `shortcut_taken`.
    ShortcutTaken,
    /// Travels as `too_many_canned`.
    TooManyCanned,
    /// Travels as `search_too_long`.
    SearchTooLong,
    /// Travels as `visitor_active`.
    VisitorActive,
    /// Travels as `webhook_url`.
    WebhookUrl,
    /// Travels as `webhook_self`.
    WebhookSelf,
    /// Travels as `webhook_private`.
    WebhookPrivate,
    /// Travels as `webhook_events`.
    WebhookEvents,
    /// Travels as `too_many_webhooks`.
    TooManyWebhooks,
    /// Travels as `report_range`.
    ReportRange,
}

/// The error type of every server function.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
    /// The current password given to change one's own is wrong.
    #[error("wrong current password")]
    WrongPassword,
    /// The first-start setup code is missing or wrong.
    #[error("wrong setup code")]
    WrongSetupCode,
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
    /// The request did not reach the server, or its answer could not be
    /// read (made by the browser; the detail is for its console only).
    #[error("could not reach the server: {0}")]
    Transport(String),
}

impl AppError {
    /// The code users are shown words for.
    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::Unauthorized => ErrorCode::Unauthorized,
            AppError::Forbidden => ErrorCode::Forbidden,
            AppError::NotFound => ErrorCode::NotFound,
            AppError::WrongCredentials => ErrorCode::WrongCredentials,
            AppError::AlreadySetUp => ErrorCode::AlreadySetUp,
            AppError::WrongPassword => ErrorCode::WrongPassword,
            AppError::WrongSetupCode => ErrorCode::WrongSetupCode,
            AppError::TooManyAttempts { .. } => ErrorCode::TooManyAttempts,
            AppError::Invalid(invalid) => match invalid {
                Invalid::NameEmpty => ErrorCode::NameEmpty,
                Invalid::NameTooLong => ErrorCode::NameTooLong,
                Invalid::NameControl => ErrorCode::NameControl,
                Invalid::PasswordLength => ErrorCode::PasswordLength,
                Invalid::Capacity => ErrorCode::Capacity,
                Invalid::NameTaken => ErrorCode::NameTaken,
                Invalid::SelfLockout => ErrorCode::SelfLockout,
                Invalid::Form => ErrorCode::BadForm,
                Invalid::Color => ErrorCode::BadColor,
                Invalid::Origin => ErrorCode::BadOrigin,
                Invalid::SettingTooLong => ErrorCode::SettingTooLong,
                Invalid::Hours => ErrorCode::BadHours,
                Invalid::TimeZone => ErrorCode::BadTimeZone,
                Invalid::CannedShortcut => ErrorCode::CannedShortcut,
                Invalid::CannedText => ErrorCode::CannedText,
                Invalid::ShortcutTaken => ErrorCode::ShortcutTaken,
                Invalid::TooManyCanned => ErrorCode::TooManyCanned,
                Invalid::SearchTooLong => ErrorCode::SearchTooLong,
                Invalid::VisitorActive => ErrorCode::VisitorActive,
                Invalid::WebhookUrl => ErrorCode::WebhookUrl,
                Invalid::WebhookSelf => ErrorCode::WebhookSelf,
                Invalid::WebhookPrivate => ErrorCode::WebhookPrivate,
                Invalid::WebhookEvents => ErrorCode::WebhookEvents,
                Invalid::TooManyWebhooks => ErrorCode::TooManyWebhooks,
                Invalid::ReportRange => ErrorCode::ReportRange,
            },
            AppError::Internal => ErrorCode::Internal,
            AppError::Transport(_) => ErrorCode::Unreachable,
        }
    }

    /// The error for a code read off the wire (codes that no server function
    /// returns, and unknown ones, read as [`AppError::Internal`]).
    fn from_code(code: ErrorCode, retry_after_secs: Option<u64>) -> Self {
        match code {
            ErrorCode::Unauthorized => AppError::Unauthorized,
            ErrorCode::Forbidden => AppError::Forbidden,
            ErrorCode::NotFound => AppError::NotFound,
            ErrorCode::WrongCredentials => AppError::WrongCredentials,
            ErrorCode::AlreadySetUp => AppError::AlreadySetUp,
            ErrorCode::WrongPassword => AppError::WrongPassword,
            ErrorCode::WrongSetupCode => AppError::WrongSetupCode,
            ErrorCode::TooManyAttempts => AppError::TooManyAttempts {
                retry_after_secs: retry_after_secs.unwrap_or(1),
            },
            ErrorCode::NameEmpty => AppError::Invalid(Invalid::NameEmpty),
            ErrorCode::NameTooLong => AppError::Invalid(Invalid::NameTooLong),
            ErrorCode::NameControl => AppError::Invalid(Invalid::NameControl),
            ErrorCode::PasswordLength => AppError::Invalid(Invalid::PasswordLength),
            ErrorCode::Capacity => AppError::Invalid(Invalid::Capacity),
            ErrorCode::NameTaken => AppError::Invalid(Invalid::NameTaken),
            ErrorCode::SelfLockout => AppError::Invalid(Invalid::SelfLockout),
            ErrorCode::BadForm => AppError::Invalid(Invalid::Form),
            ErrorCode::BadColor => AppError::Invalid(Invalid::Color),
            ErrorCode::BadOrigin => AppError::Invalid(Invalid::Origin),
            ErrorCode::SettingTooLong => AppError::Invalid(Invalid::SettingTooLong),
            ErrorCode::BadHours => AppError::Invalid(Invalid::Hours),
            ErrorCode::BadTimeZone => AppError::Invalid(Invalid::TimeZone),
            ErrorCode::CannedShortcut => AppError::Invalid(Invalid::CannedShortcut),
            ErrorCode::CannedText => AppError::Invalid(Invalid::CannedText),
            ErrorCode::ShortcutTaken => AppError::Invalid(Invalid::ShortcutTaken),
            ErrorCode::TooManyCanned => AppError::Invalid(Invalid::TooManyCanned),
            ErrorCode::SearchTooLong => AppError::Invalid(Invalid::SearchTooLong),
            ErrorCode::VisitorActive => AppError::Invalid(Invalid::VisitorActive),
            ErrorCode::WebhookUrl => AppError::Invalid(Invalid::WebhookUrl),
            ErrorCode::WebhookSelf => AppError::Invalid(Invalid::WebhookSelf),
            ErrorCode::WebhookPrivate => AppError::Invalid(Invalid::WebhookPrivate),
            ErrorCode::WebhookEvents => AppError::Invalid(Invalid::WebhookEvents),
            ErrorCode::TooManyWebhooks => AppError::Invalid(Invalid::TooManyWebhooks),
            ErrorCode::ReportRange => AppError::Invalid(Invalid::ReportRange),
            ErrorCode::Unreachable => AppError::Transport(String::new()),
            _ => AppError::Internal,
        }
    }
}

/// The wire form: `{"code": "...", "retry_after_secs": 3}`.
#[derive(Serialize, Deserialize)]
struct Wire {
    code: ErrorCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after_secs: Option<u64>,
}

impl Serialize for AppError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let retry_after_secs = match self {
            AppError::TooManyAttempts { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        };
        Wire {
            code: self.code(),
            retry_after_secs,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for AppError {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = Wire::deserialize(deserializer)?;
        Ok(AppError::from_code(wire.code, wire.retry_after_secs))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_travels_as_its_code_and_comes_back_the_same() {
        let all = [
            AppError::Unauthorized,
            AppError::Forbidden,
            AppError::NotFound,
            AppError::WrongCredentials,
            AppError::AlreadySetUp,
            AppError::WrongPassword,
            AppError::WrongSetupCode,
            AppError::TooManyAttempts {
                retry_after_secs: 7,
            },
            AppError::Invalid(Invalid::NameEmpty),
            AppError::Invalid(Invalid::NameTooLong),
            AppError::Invalid(Invalid::NameControl),
            AppError::Invalid(Invalid::PasswordLength),
            AppError::Invalid(Invalid::Capacity),
            AppError::Invalid(Invalid::NameTaken),
            AppError::Invalid(Invalid::SelfLockout),
            AppError::Invalid(Invalid::Form),
            AppError::Invalid(Invalid::Color),
            AppError::Invalid(Invalid::Origin),
            AppError::Invalid(Invalid::SettingTooLong),
            AppError::Invalid(Invalid::Hours),
            AppError::Invalid(Invalid::TimeZone),
            AppError::Invalid(Invalid::CannedShortcut),
            AppError::Invalid(Invalid::CannedText),
            AppError::Invalid(Invalid::ShortcutTaken),
            AppError::Invalid(Invalid::TooManyCanned),
            AppError::Invalid(Invalid::SearchTooLong),
            AppError::Invalid(Invalid::VisitorActive),
            AppError::Invalid(Invalid::WebhookUrl),
            AppError::Invalid(Invalid::WebhookSelf),
            AppError::Invalid(Invalid::WebhookPrivate),
            AppError::Invalid(Invalid::WebhookEvents),
            AppError::Invalid(Invalid::TooManyWebhooks),
            AppError::Internal,
        ];
        for error in all {
            let json = serde_json::to_value(&error).expect("serializes");
            assert_eq!(json["code"], error.code().name(), "{json}");
            let back: AppError = serde_json::from_value(json).expect("reads back");
            assert_eq!(back, error);
        }
        assert_eq!(
            serde_json::to_value(AppError::TooManyAttempts {
                retry_after_secs: 3
            })
            .expect("serializes"),
            serde_json::json!({"code": "too_many_attempts", "retry_after_secs": 3})
        );
    }
}
