//! Server functions of the console's desk: canned replies (each agent's
//! own, admins' shared ones), closed conversations and search.

use leptos::prelude::*;

use crate::error::AppError;
use crate::protocol::archive::{ClosedPage, SearchHit};
use crate::protocol::canned::CannedReply;

/// The signed-in agent's canned replies and the shared ones, by shortcut.
#[server(endpoint = "list_canned")]
pub async fn list_canned() -> Result<Vec<CannedReply>, AppError> {
    let agent = crate::server::edge::api::signed_in().await?;
    crate::server::edge::canned::list_canned(&agent).await
}

/// Adds a canned reply (no `id`) or changes one: the agent's own, or with
/// `shared` ("on") a shared one (admins only). Refused with
/// `canned_shortcut`, `canned_text`, `shortcut_taken` or `too_many_canned`.
#[server(endpoint = "save_canned")]
pub async fn save_canned(
    #[server(default)] id: Option<i64>,
    shortcut: String,
    text: String,
    #[server(default)] shared: Option<String>,
) -> Result<CannedReply, AppError> {
    let agent = crate::server::edge::api::signed_in().await?;
    crate::server::edge::canned::save_canned(&agent, id, &shortcut, &text, shared.is_some()).await
}

/// Removes one of the agent's canned replies (with `shared`: a shared one,
/// admins only).
#[server(endpoint = "delete_canned")]
pub async fn delete_canned(
    id: i64,
    #[server(default)] shared: Option<String>,
) -> Result<(), AppError> {
    let agent = crate::server::edge::api::signed_in().await?;
    crate::server::edge::canned::delete_canned(&agent, id, shared.is_some()).await
}

/// Closed conversations the agent has served (admins: all), newest closed
/// first; the next page starts after the last one's `closed_at` and `id`.
#[server(endpoint = "closed_conversations")]
pub async fn closed_conversations(
    #[server(default)] before_closed_at: Option<i64>,
    #[server(default)] before_id: Option<i64>,
) -> Result<ClosedPage, AppError> {
    let agent = crate::server::edge::api::signed_in().await?;
    crate::server::edge::archive::closed_conversations(&agent, before_closed_at, before_id).await
}

/// Admins: deletes a visitor (the number of "Visitor N") and everything
/// stored about them, from every table and from search. Refused with
/// `visitor_active` while they are connected or have an open conversation.
#[server(endpoint = "delete_visitor")]
pub async fn delete_visitor(visitor: i64) -> Result<(), AppError> {
    let agent = crate::server::edge::api::signed_in().await?;
    crate::server::edge::privacy::delete_visitor(&agent, visitor).await
}

/// Conversations the agent may see whose visitor's name or email holds
/// `query`, then messages people wrote holding all its words (taken
/// literally), newest first, with the words around each match.
#[server(endpoint = "search_conversations")]
pub async fn search_conversations(query: String) -> Result<Vec<SearchHit>, AppError> {
    let agent = crate::server::edge::api::signed_in().await?;
    crate::server::edge::archive::search(&agent, &query).await
}
