//! Every word the visitor widget shows: one typed table per language
//! (`en.rs`, `zh_cn.rs`), so a missing translation does not compile.

mod en;
mod zh_cn;

use crate::chat::ChatStrings;
use crate::i18n::Lang;
use crate::protocol::ErrorCode;

pub use en::EN;
pub use zh_cn::ZH_CN;

/// The widget's texts.
#[derive(Debug, Clone, Copy)]
pub struct WidgetStrings {
    /// Shared chat pieces.
    pub chat: ChatStrings,
    /// Launcher's accessible label.
    pub open_chat: &'static str,
    /// Launcher tooltip when someone is online.
    pub online: &'static str,
    /// Launcher tooltip when nobody is.
    pub offline: &'static str,
    /// Panel title.
    pub title: &'static str,
    /// Close button of the panel.
    pub minimize: &'static str,
    /// The sound switch (a toggle button, pressed while muted).
    pub mute: &'static str,
    /// Status while connecting.
    pub connecting: &'static str,
    /// Banner while the connection is down.
    pub reconnecting: &'static str,
    /// Status when no agent is online and nothing is open.
    pub no_agent: &'static str,
    /// The leave-a-message invitation.
    pub leave_message: &'static str,
    /// Status outside business hours.
    pub after_hours: &'static str,
    /// When the team is back (a weekday and time in the visitor's zone).
    pub back_at: fn(&str) -> String,
    /// After a message was left while nobody was online.
    pub message_left: &'static str,
    /// Waiting for the first agent.
    pub waiting: &'static str,
    /// Status when the serving agent is offline.
    pub agent_away: &'static str,
    /// Status after the conversation was closed.
    pub closed: &'static str,
    /// Status while an agent serves: "{agent} is serving you".
    pub serving: fn(&str) -> String,
    /// Queue position: "You are number {n} in the queue".
    pub queue_position: fn(u32) -> String,
    /// Above the pre-chat form.
    pub prechat_intro: &'static str,
    /// Pre-chat form: name field.
    pub your_name: &'static str,
    /// Pre-chat form: email field.
    pub your_email: &'static str,
    /// After a field's label when it may be left empty.
    pub optional: &'static str,
    /// Pre-chat form's button.
    pub start_chat: &'static str,
    /// Embedded on a site that may not embed the chat.
    pub not_allowed: &'static str,
    /// Over the rating form, after the close.
    pub rate_prompt: &'static str,
    /// The rating's comment field.
    pub rate_comment: &'static str,
    /// The rating form's button.
    pub rate_send: &'static str,
    /// Once rated.
    pub rated: &'static str,
}

impl WidgetStrings {
    /// The table for `lang`.
    pub fn of(lang: Lang) -> WidgetStrings {
        match lang {
            Lang::En => EN,
            Lang::ZhCn => ZH_CN,
        }
    }
}

/// What a visitor is told about a refusal: the few they can meet have
/// words of their own; every other code reads as a failure to try again.
/// Every code is sorted here once, so a new one cannot be forgotten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// `empty_text`.
    EmptyText,
    /// `text_too_long`.
    TextTooLong,
    /// `conversation_closed`.
    Closed,
    /// `slow_down`.
    SlowDown,
    /// `storage`.
    Storage,
    /// `unreachable`.
    Unreachable,
    /// `identity_invalid`, `identity_retired`: chatting as a guest.
    IdentityRefused,
    /// `identity_expired`: chatting as a guest until the page is reloaded.
    IdentityExpired,
    /// `profile_name_too_long`.
    ProfileNameTooLong,
    /// `profile_name_control`.
    ProfileNameControl,
    /// `profile_email_invalid`.
    ProfileEmail,
    /// `rating_score`, `rating_comment_too_long`.
    RatingInvalid,
    /// `already_rated`.
    AlreadyRated,
    /// `conversation_open` (a rating before the close).
    ConversationOpen,
    /// Anything else.
    Other,
}

impl From<ErrorCode> for Refusal {
    fn from(code: ErrorCode) -> Self {
        match code {
            ErrorCode::EmptyText => Refusal::EmptyText,
            ErrorCode::TextTooLong => Refusal::TextTooLong,
            ErrorCode::ConversationClosed => Refusal::Closed,
            ErrorCode::SlowDown => Refusal::SlowDown,
            ErrorCode::Storage => Refusal::Storage,
            ErrorCode::Unreachable => Refusal::Unreachable,
            ErrorCode::IdentityInvalid | ErrorCode::IdentityRetired => Refusal::IdentityRefused,
            ErrorCode::IdentityExpired => Refusal::IdentityExpired,
            ErrorCode::ProfileNameTooLong => Refusal::ProfileNameTooLong,
            ErrorCode::ProfileNameControl => Refusal::ProfileNameControl,
            ErrorCode::ProfileEmailInvalid => Refusal::ProfileEmail,
            ErrorCode::RatingScore | ErrorCode::RatingCommentTooLong => Refusal::RatingInvalid,
            ErrorCode::AlreadyRated => Refusal::AlreadyRated,
            ErrorCode::ConversationOpen => Refusal::ConversationOpen,
            ErrorCode::BadFrame
            | ErrorCode::FrameTooLarge
            | ErrorCode::HelloFirst
            | ErrorCode::BadMessageId
            | ErrorCode::Forbidden
            | ErrorCode::WrongRole
            | ErrorCode::Unauthorized
            | ErrorCode::NotFound
            | ErrorCode::WrongCredentials
            | ErrorCode::AlreadySetUp
            | ErrorCode::TooManyAttempts
            | ErrorCode::NameEmpty
            | ErrorCode::NameTooLong
            | ErrorCode::NameControl
            | ErrorCode::PasswordLength
            | ErrorCode::Capacity
            | ErrorCode::NameTaken
            | ErrorCode::SelfLockout
            | ErrorCode::BadForm
            | ErrorCode::BadColor
            | ErrorCode::BadOrigin
            | ErrorCode::SettingTooLong
            | ErrorCode::BadHours
            | ErrorCode::BadTimeZone
            | ErrorCode::OriginNotAllowed
            | ErrorCode::WrongPassword
            | ErrorCode::WrongSetupCode
            | ErrorCode::PageViewInvalid
            | ErrorCode::CannedShortcut
            | ErrorCode::CannedText
            | ErrorCode::ShortcutTaken
            | ErrorCode::TooManyCanned
            | ErrorCode::SearchTooLong
            | ErrorCode::VisitorActive
            | ErrorCode::WebhookUrl
            | ErrorCode::WebhookSelf
            | ErrorCode::WebhookPrivate
            | ErrorCode::WebhookEvents
            | ErrorCode::TooManyWebhooks
            | ErrorCode::ReportRange
            | ErrorCode::AgentUnknown
            | ErrorCode::AgentDisabled
            | ErrorCode::AgentOffline
            | ErrorCode::AgentAway
            | ErrorCode::AgentAtCapacity
            | ErrorCode::Internal
            | ErrorCode::Unknown => Refusal::Other,
        }
    }
}
