//! Server functions: the request/response half of kefu (availability,
//! history, sign-in, agent management). Each checks who is asking, then makes
//! one call into `server::*`. Live traffic goes over the WebSocket instead.
//!
//! Endpoints are fixed (`POST /api/<name>`, form-encoded arguments, JSON
//! answers) so that other clients and load generators can call them.

// A server function's arguments are its form's fields, one each (the
// settings form has eight); the macro's generated code cannot carry an
// item-level allow, so it is allowed here.
#![allow(clippy::too_many_arguments)]

use crate::error::AppError;
use crate::protocol::{AgentInfo, ConversationId};
use leptos::prelude::*;

pub use crate::protocol::settings::SiteSettings;
pub use crate::protocol::{ConsoleView, HistoryPage, VisitorThread, WidgetBoot, HISTORY_PAGE};

// The visitor's bundle calls the widget's one server function without
// server_fn's client (see `browser`); every other build has the stubs.
#[cfg(feature = "visitor-bundle")]
mod browser;
#[cfg(feature = "visitor-bundle")]
pub use browser::visitor_history;

// The console's desk: canned replies, closed conversations and search.
mod desk;
pub use desk::*;

// The console's webhooks panel (admins).
mod webhooks;
pub use webhooks::*;

/// Whether any agent is online now (drawn on the widget's launcher).
#[cfg(not(feature = "visitor-bundle"))]
#[server(endpoint = "agent_availability")]
pub async fn agent_availability() -> Result<bool, AppError> {
    Ok(crate::server::state().hub.agents_online())
}

/// What the widget shows before its socket opens, computed while the
/// server renders the widget (which carries it in the page: see
/// `widget::boot`); `embed_origin` is the host page's origin when embedded.
#[cfg(feature = "ssr")]
pub fn widget_boot_now(embed_origin: Option<&str>) -> WidgetBoot {
    crate::server::edge::settings::widget_boot(embed_origin)
}

/// What the widget shows before its socket opens (availability, look and
/// words), for other clients; `embed_origin` is the host page's origin
/// when embedded.
#[cfg(not(feature = "visitor-bundle"))]
#[server(endpoint = "widget_boot")]
pub async fn load_widget(embed_origin: Option<String>) -> Result<WidgetBoot, AppError> {
    Ok(crate::server::edge::settings::widget_boot(
        embed_origin.as_deref(),
    ))
}

/// The newest conversation of the visitor holding `token`, with its newest
/// page of messages, or the page of messages with seq below `before`. A
/// verified visitor's token reads only beside a valid `identity` of that
/// user (the one said in `hello`).
#[cfg(not(feature = "visitor-bundle"))]
#[server(endpoint = "visitor_history")]
pub async fn visitor_history(
    token: String,
    before: Option<i64>,
    #[server(default)] identity: Option<String>,
) -> Result<Option<VisitorThread>, AppError> {
    crate::server::edge::api::visitor_history(&token, before, identity.as_deref()).await
}

/// The newest page of messages of a conversation the signed-in agent
/// serves or has served (admins: any), or the page of messages with seq
/// below `before`.
#[server(endpoint = "conversation_history")]
pub async fn conversation_history(
    conversation: ConversationId,
    before: Option<i64>,
) -> Result<HistoryPage, AppError> {
    let agent = crate::server::edge::api::signed_in().await?;
    crate::server::edge::api::conversation_history(&agent, conversation, before).await
}

/// What `/console` should show for this browser.
#[server(endpoint = "console_session")]
pub async fn console_session() -> Result<ConsoleView, AppError> {
    crate::server::edge::api::console_session().await
}

/// Creates the first admin (only while no account exists, and only with
/// the one-time `setup_code` kefu printed in its log) and signs them in.
#[server(endpoint = "setup_admin")]
pub async fn setup_admin(
    name: String,
    password: String,
    #[server(default)] setup_code: String,
) -> Result<AgentInfo, AppError> {
    crate::server::edge::accounts::setup_admin(&name, password, &setup_code).await
}

/// Changes the signed-in agent's own password (`current` must be right);
/// their other sessions end, this one stays.
#[server(endpoint = "change_password")]
pub async fn change_password(current: String, new: String) -> Result<(), AppError> {
    let agent = crate::server::edge::api::signed_in().await?;
    crate::server::edge::accounts::change_password(&agent, current, new).await
}

/// The signed-in agent's status: `online`, or `away` (they keep serving
/// their conversations but get no new ones). Stored for them.
#[server(endpoint = "set_status")]
pub async fn set_status(status: String) -> Result<(), AppError> {
    let agent = crate::server::edge::api::signed_in().await?;
    crate::server::edge::accounts::set_status(&agent, &status).await
}

/// Admins: sets a new password for an agent; all their sessions end and
/// their sockets close at once.
#[server(endpoint = "reset_password")]
pub async fn reset_password(
    id: crate::protocol::AgentId,
    password: String,
) -> Result<AgentInfo, AppError> {
    let admin = crate::server::edge::api::signed_in().await?;
    crate::server::edge::accounts::reset_password(&admin, id, password).await
}

/// Signs an agent in: sets the HttpOnly session cookie.
#[server(endpoint = "sign_in")]
pub async fn sign_in(name: String, password: String) -> Result<AgentInfo, AppError> {
    crate::server::edge::api::sign_in(&name, password).await
}

/// The signed-in agent's console language (`zh-CN` or `en`): stored for
/// them, and set as this browser's `/console` language cookie.
#[server(endpoint = "set_language")]
pub async fn set_language(lang: String) -> Result<(), AppError> {
    let agent = crate::server::edge::api::signed_in().await?;
    crate::server::edge::api::set_language(&agent, &lang).await
}

/// Whether the signed-in agent hears a sound and gets a browser
/// notification for new conversations and messages (stored for them).
#[server(endpoint = "set_notify")]
pub async fn set_notify(on: bool) -> Result<(), AppError> {
    let agent = crate::server::edge::api::signed_in().await?;
    crate::server::edge::visits::set_notify(&agent, on).await
}

/// Who the visitor of a conversation the signed-in agent serves (or any,
/// for admins) is: their page, browser, time, label and earlier conversations.
#[server(endpoint = "visitor_context")]
pub async fn visitor_context(
    conversation: ConversationId,
) -> Result<crate::protocol::VisitorContext, AppError> {
    let agent = crate::server::edge::api::signed_in().await?;
    crate::server::edge::visits::visitor_context(&agent, conversation).await
}

/// An earlier conversation of the visitor of `conversation` (which the
/// signed-in agent serves, or any for admins), to read: its messages.
#[server(endpoint = "earlier_conversation")]
pub async fn earlier_conversation(
    conversation: ConversationId,
    earlier: ConversationId,
) -> Result<HistoryPage, AppError> {
    let agent = crate::server::edge::api::signed_in().await?;
    crate::server::edge::visits::earlier_conversation(&agent, conversation, earlier).await
}

/// Ends this browser's session.
#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    crate::server::edge::api::sign_out().await
}

/// Admins: every agent account, with whether each has a console open and
/// how many conversations they serve.
#[server(endpoint = "list_agents")]
pub async fn list_agents() -> Result<Vec<AgentInfo>, AppError> {
    let agent = crate::server::edge::api::signed_in().await?;
    crate::server::edge::api::list_agents(&agent).await
}

/// Whom the signed-in agent may hand a conversation to: every enabled
/// agent but themselves, by name, with whether each has a console open,
/// is away, and how many conversations they serve (the transfer itself
/// is a socket frame, checked again then).
#[server(endpoint = "transfer_targets")]
pub async fn transfer_targets() -> Result<Vec<AgentInfo>, AppError> {
    let agent = crate::server::edge::api::signed_in().await?;
    crate::server::edge::transfer::transfer_targets(&agent).await
}

/// Admins: every open conversation (queued ones first), which they may
/// hand to any agent or back to the queue with a `transfer` frame.
#[server(endpoint = "open_conversations")]
pub async fn open_conversations() -> Result<Vec<crate::protocol::ConversationSummary>, AppError> {
    let admin = crate::server::edge::api::signed_in().await?;
    crate::server::edge::transfer::open_conversations(&admin)
}

/// Admins: adds an agent. `admin` is a checkbox ("on" when ticked).
#[server(endpoint = "add_agent")]
pub async fn add_agent(
    name: String,
    password: String,
    capacity: u32,
    #[server(default)] admin: Option<String>,
) -> Result<AgentInfo, AppError> {
    let agent = crate::server::edge::api::signed_in().await?;
    crate::server::edge::api::add_agent(&agent, &name, password, capacity, admin.is_some()).await
}

/// Admins: changes an agent's capacity and whether they may sign in.
/// Disabling ends their sessions and closes their sockets at once.
#[server(endpoint = "update_agent")]
pub async fn update_agent(
    id: crate::protocol::AgentId,
    capacity: u32,
    #[server(default)] disabled: Option<String>,
) -> Result<AgentInfo, AppError> {
    let admin = crate::server::edge::api::signed_in().await?;
    crate::server::edge::api::update_agent(&admin, id, capacity, disabled.is_some()).await
}

/// Admins: the secret websites sign visitors' identities with (made at
/// first need).
#[server(endpoint = "identity_secret")]
pub async fn identity_secret() -> Result<String, AppError> {
    let admin = crate::server::edge::api::signed_in().await?;
    crate::server::edge::api::identity_secret(&admin).await
}

/// Admins: retires the identity secret and returns its successor; tokens
/// signed with the old one are refused from now on.
#[server(endpoint = "rotate_identity_secret")]
pub async fn rotate_identity_secret() -> Result<String, AppError> {
    let admin = crate::server::edge::api::signed_in().await?;
    crate::server::edge::api::rotate_identity_secret(&admin).await
}

/// Admins: removes an agent; their open conversations go back to the queue.
#[server(endpoint = "remove_agent")]
pub async fn remove_agent(id: crate::protocol::AgentId) -> Result<(), AppError> {
    let admin = crate::server::edge::api::signed_in().await?;
    crate::server::edge::api::remove_agent(&admin, id).await
}

/// Admins: the widget's look and words and the allowed sites.
#[server(endpoint = "site_settings")]
pub async fn get_site_settings() -> Result<SiteSettings, AppError> {
    let admin = crate::server::edge::api::signed_in().await?;
    crate::server::edge::settings::site_settings(&admin)
}

/// Admins: saves the widget's look and words, the allowed sites (one
/// per line) and whether agents see visitors' drafts (`draft_preview`:
/// the ticked box's `on`, absent when unticked); nothing is saved if any
/// value is refused. The widget uses them from its next open.
#[server(endpoint = "save_site_settings")]
pub async fn save_site_settings(
    color: String,
    title: String,
    greeting: String,
    position: String,
    offline_text: String,
    prechat_name: String,
    prechat_email: String,
    allowed_origins: String,
    #[server(default)] draft_preview: Option<String>,
) -> Result<SiteSettings, AppError> {
    let admin = crate::server::edge::api::signed_in().await?;
    let form = crate::server::edge::settings::SettingsForm {
        color,
        title,
        greeting,
        position,
        offline_text,
        prechat_name,
        prechat_email,
        allowed_origins,
        draft_preview,
    };
    crate::server::edge::settings::save_site_settings(&admin, form).await
}

/// Admins: the report of the conversations started from `from` to `to`
/// (`YYYY-MM-DD`, UTC, both included; empty: the last 30 days).
#[server(endpoint = "load_report")]
pub async fn load_report(
    #[server(default)] from: String,
    #[server(default)] to: String,
) -> Result<crate::protocol::report::Report, AppError> {
    let admin = crate::server::edge::api::signed_in().await?;
    crate::server::edge::reports::report(&admin, &from, &to).await
}

/// Admins: saves the team's business hours (sent as JSON: seven days'
/// windows); refused with `bad_hours` or `bad_time_zone`, nothing saved.
/// Applied to the widget at once.
#[server(endpoint = "save_business_hours", input = leptos::server_fn::codec::Json)]
pub async fn save_business_hours(
    hours: crate::protocol::hours::BusinessHours,
) -> Result<crate::protocol::hours::BusinessHours, AppError> {
    let admin = crate::server::edge::api::signed_in().await?;
    crate::server::edge::settings::save_business_hours(&admin, hours).await
}
