//! The widget in English.

use super::{Refusal, WidgetStrings};
use crate::chat::{ChatStrings, Notice};
use crate::protocol::{ErrorCode, SystemEvent};

/// Words for each refusal a visitor can meet (see [`Refusal`]).
fn error_en(code: ErrorCode) -> &'static str {
    match Refusal::from(code) {
        Refusal::EmptyText => "Please type a message.",
        Refusal::TextTooLong => "Messages are limited to 4,000 characters.",
        Refusal::Closed => "This conversation is closed.",
        Refusal::SlowDown => "You are sending too fast. Please wait a moment.",
        Refusal::Storage => "Your message could not be saved yet; it will be retried.",
        Refusal::Unreachable => "The server could not be reached. Please try again.",
        Refusal::IdentityRefused => {
            "We could not confirm your account, so you are chatting as a guest."
        }
        Refusal::IdentityExpired => {
            "Your sign-in has expired, so you are chatting as a guest. Reload the page to continue as yourself."
        }
        Refusal::ProfileNameTooLong => "Names are limited to 80 characters.",
        Refusal::ProfileNameControl => "Names cannot contain control or invisible characters.",
        Refusal::ProfileEmail => "Please enter a valid email address.",
        Refusal::RatingInvalid => {
            "Please choose a score from 1 to 5; comments are limited to 1,000 characters."
        }
        Refusal::AlreadyRated => "You have rated this conversation already.",
        Refusal::ConversationOpen => "You can rate the conversation once it is closed.",
        Refusal::Other => "Something went wrong; please try again.",
    }
}

fn event_en(event: &SystemEvent) -> String {
    match event {
        SystemEvent::Assigned { agent } => format!("{agent} will serve you"),
        SystemEvent::Closed { agent } => format!("{agent} closed the conversation"),
        SystemEvent::Transferred { agent } => format!("You are now chatting with {agent}"),
        SystemEvent::Requeued { agent } | SystemEvent::Returned { agent } => {
            format!("{agent} is no longer available; another agent will be with you shortly")
        }
        SystemEvent::Unknown => String::new(),
    }
}

fn notice_en(notice: Notice) -> &'static str {
    match notice {
        Notice::AgentOffline => "The agent went offline",
        Notice::AgentBack => "The agent is back",
        Notice::VisitorLeft | Notice::VisitorBack => "",
    }
}

/// English.
pub const EN: WidgetStrings = WidgetStrings {
    chat: ChatStrings {
        placeholder: "Type your message…",
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
        // Visitors never see a note.
        note: "",
        event: event_en,
        notice: notice_en,
        error: error_en,
        locale: "en",
    },
    open_chat: "Chat with us",
    online: "We are online",
    offline: "We are offline — leave a message",
    title: "Support",
    minimize: "Minimize",
    mute: "Mute sounds",
    connecting: "Connecting…",
    reconnecting: "Reconnecting…",
    no_agent: "No agent is online right now.",
    leave_message: "Leave a message and we will answer as soon as an agent is back.",
    after_hours: "We are closed right now.",
    back_at: |when| format!("We are back {when}."),
    message_left: "Thanks — your message is saved. An agent will answer here.",
    waiting: "Waiting for an agent…",
    agent_away: "The agent is offline for a moment…",
    closed: "This conversation is closed. Write to start a new one.",
    serving: |agent| format!("{agent} is serving you"),
    queue_position: |n| format!("All agents are busy. You are number {n} in the queue."),
    prechat_intro: "Before we start, please tell us who you are.",
    your_name: "Your name",
    your_email: "Your email",
    optional: "(optional)",
    start_chat: "Start chat",
    not_allowed: "This site may not show the chat.",
    rate_prompt: "How was this conversation? (1 = bad, 5 = very good)",
    rate_comment: "Anything to add? (optional)",
    rate_send: "Send rating",
    rated: "Thank you for your rating!",
};
