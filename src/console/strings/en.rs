//! The console in English.

use super::ConsoleStrings;
use crate::chat::{ChatStrings, Notice};
use crate::protocol::{ErrorCode, SystemEvent};

/// Words for each error code, from a socket or a server function.
fn error_en(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::Unauthorized => "Your session ended. Please sign in again.",
        ErrorCode::Forbidden => "You may not do that: it is an admin's, or not yours.",
        ErrorCode::NotFound => "Not found.",
        ErrorCode::WrongCredentials => "Wrong name or password.",
        ErrorCode::AlreadySetUp => "Setup is already done. Please sign in.",
        ErrorCode::TooManyAttempts => "Too many failed attempts. Try again later.",
        ErrorCode::NameEmpty => "Please enter a name.",
        ErrorCode::NameTooLong => "Names are limited to 40 characters.",
        ErrorCode::NameControl => "Names cannot contain control or invisible characters.",
        ErrorCode::PasswordLength => "Passwords are 8 to 256 characters.",
        ErrorCode::Capacity => "Capacity is a number from 1 to 100.",
        ErrorCode::NameTaken => "An agent with that name already exists.",
        ErrorCode::SelfLockout => "You cannot disable or remove your own account.",
        ErrorCode::BadForm => "Please fill in every field correctly.",
        ErrorCode::BadColor => "The colour must be a hex colour such as #2563eb.",
        ErrorCode::BadOrigin => {
            "Each site must be scheme://host or scheme://host:port, such as https://shop.example (at most 50)."
        }
        ErrorCode::SettingTooLong => {
            "The title is limited to 60 characters, the greeting and offline text to 500."
        }
        ErrorCode::BadHours => {
            "Each working day needs an opening time before its closing time (at most 24:00)."
        }
        ErrorCode::BadTimeZone => {
            "The time zone must be a name such as Asia/Shanghai, Europe/London or UTC."
        }
        ErrorCode::OriginNotAllowed => "This site is not on the allowed sites list.",
        ErrorCode::WrongPassword => "The current password is wrong.",
        ErrorCode::WrongSetupCode => "Wrong setup code. It is printed in kefu's log at start.",
        ErrorCode::CannedShortcut => {
            "A shortcut is 1 to 32 letters, digits, - or _ (no spaces)."
        }
        ErrorCode::CannedText => {
            "A reply's text is 1 to 2,000 characters of plain text."
        }
        ErrorCode::ShortcutTaken => "A reply with that shortcut exists already.",
        ErrorCode::TooManyCanned => "That is the most canned replies one list can hold (200).",
        ErrorCode::SearchTooLong => "Search for at most 200 characters.",
        ErrorCode::VisitorActive => {
            "This visitor is connected or has an open conversation: close it and try again once they left."
        }
        ErrorCode::WebhookUrl => {
            "A webhook URL starts with http:// or https://, has a host, no user or password, and is at most 2,000 characters."
        }
        ErrorCode::WebhookSelf => "A webhook may not point at kefu itself.",
        ErrorCode::WebhookPrivate => {
            "This kefu refuses webhooks to private, loopback and link-local addresses."
        }
        ErrorCode::WebhookEvents => "Choose at least one event.",
        ErrorCode::TooManyWebhooks => "That is the most webhooks kefu keeps (20).",
        ErrorCode::RatingScore => "A rating is 1 to 5.",
        ErrorCode::RatingCommentTooLong => "Rating comments are limited to 1,000 characters.",
        ErrorCode::AlreadyRated => "This conversation was rated already.",
        ErrorCode::ConversationOpen => "The conversation is still open.",
        ErrorCode::ReportRange => {
            "Choose a first and a last day (YYYY-MM-DD), the first not after the last, at most 366 days apart."
        }
        ErrorCode::Internal => "Something went wrong on the server. Please try again.",
        ErrorCode::Unreachable => "The server could not be reached. Please try again.",
        ErrorCode::EmptyText => "Please type a message.",
        ErrorCode::TextTooLong => "Messages are limited to 4,000 characters.",
        ErrorCode::ConversationClosed => "This conversation is closed.",
        ErrorCode::SlowDown => "Too many messages at once. Please wait a moment.",
        ErrorCode::Storage => "The server could not save that. Please try again.",
        ErrorCode::WrongRole => "That is not available to you.",
        ErrorCode::IdentityInvalid => {
            "The signed identity was refused: malformed, or a wrong signature."
        }
        ErrorCode::IdentityExpired => "The signed identity has expired.",
        ErrorCode::IdentityRetired => "The signed identity was made with a rotated-out secret.",
        ErrorCode::ProfileNameTooLong => "Visitor names are limited to 80 characters.",
        ErrorCode::ProfileNameControl => {
            "Visitor names cannot contain control or invisible characters."
        }
        ErrorCode::ProfileEmailInvalid => "That is not a valid email address.",
        ErrorCode::PageViewInvalid => "A page address or title was too long to show.",
        ErrorCode::AgentUnknown => "That agent does not exist.",
        ErrorCode::AgentDisabled => "That agent is disabled.",
        ErrorCode::AgentOffline => "That agent is offline.",
        ErrorCode::AgentAway => "That agent is away.",
        ErrorCode::AgentAtCapacity => "That agent has no free capacity.",
        ErrorCode::BadFrame
        | ErrorCode::FrameTooLarge
        | ErrorCode::HelloFirst
        | ErrorCode::BadMessageId
        | ErrorCode::Unknown => "Something went wrong. Please reload the page.",
    }
}

fn event_en(event: &SystemEvent) -> String {
    match event {
        SystemEvent::Assigned { agent } => format!("Assigned to {agent}"),
        SystemEvent::Closed { agent } => format!("{agent} closed the conversation"),
        SystemEvent::Requeued { agent } => {
            format!("{agent} was away too long; the conversation went back to the queue")
        }
        SystemEvent::Transferred { agent } => format!("Transferred to {agent}"),
        SystemEvent::Returned { agent } => {
            format!("{agent} handed the conversation back to the queue")
        }
        SystemEvent::Unknown => String::new(),
    }
}

fn notice_en(notice: Notice) -> &'static str {
    match notice {
        Notice::VisitorLeft => "Visitor left",
        Notice::VisitorBack => "Visitor is back",
        Notice::AgentOffline | Notice::AgentBack => "",
    }
}

/// English.
pub const EN: ConsoleStrings = ConsoleStrings {
    chat: ChatStrings {
        placeholder: "Reply…  (Enter sends, Shift+Enter for a new line)",
        send: "Send",
        pending: "Sending…",
        sent: "Sent",
        seen: "Seen",
        typing: |name| match name {
            Some(name) => format!("{name} is typing…"),
            None => "typing…".to_owned(),
        },
        new_messages: "New messages ↓",
        earlier: "Earlier messages",
        too_long: "Messages are limited to 4,000 characters.",
        note: "Private note",
        event: event_en,
        notice: notice_en,
        error: error_en,
        locale: "en",
    },
    settings: super::settings::EN,
    hours: super::hours::EN,
    accounts: super::accounts::EN,
    visits: super::visits::EN,
    desk: super::desk::EN,
    webhooks: super::webhooks::EN,
    transfer: super::transfer::EN,
    privacy: super::privacy::EN,
    reports: super::reports::EN,
    title: "kefu",
    setup_title: "Welcome to kefu",
    setup_hint: "Create the first admin account. You can add more agents afterwards.",
    create_admin: "Create admin",
    sign_in_title: "Agent sign-in",
    name: "Name",
    password: "Password",
    capacity: "Capacity",
    admin: "Admin",
    sign_in: "Sign in",
    sign_out: "Sign out",
    loading: "Loading…",
    reconnecting: "Reconnecting…",
    no_conversations: "No conversations yet. New visitors will appear here.",
    pick_conversation: "Pick a conversation on the left.",
    close: "Close conversation",
    visitor_online: "online",
    visitor_offline: "left",
    agents: "Agents",
    add_agent: "Add agent",
    disabled: "Disabled",
    save: "Save",
    remove: "Remove",
    agent_added: |name| format!("{name} was added."),
    load: |n, cap| format!("{n} of {cap} conversations"),
    visitor: |n| format!("Visitor {n}"),
    you_said: |text| format!("You: {text}"),
    language: "Language",
    too_many_attempts: |secs| format!("Too many failed attempts. Try again in {secs} seconds."),
    verified: "Verified",
    verified_hint: "Signed by your website: this is its signed-in user.",
    unverified: "Unverified",
    unverified_hint: "Told by the visitor; not checked.",
    identity_title: "Identity verification",
    identity_hint: "Your website's backend signs each signed-in user's identity with this secret (HMAC-SHA256), so that they find their conversation on any device. Keep it on your server: never put it in a web page.",
    rotate_secret: "Rotate secret",
    secret_rotated: "A new secret was made. Identities signed with the old one are refused from now on: give your website the new one.",
};
