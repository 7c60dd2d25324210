//! Admins deleting a visitor from the console (server function): refused
//! while the visitor is connected or has an open conversation, since their
//! live sockets would otherwise go on writing to a visitor who is gone.

use crate::error::{AppError, Invalid};
use crate::protocol::AgentInfo;
use crate::server::state;
use crate::server::storage::{Deleted, VisitorId};

/// See [`crate::api::delete_visitor`].
pub async fn delete_visitor(admin: &AgentInfo, visitor: i64) -> Result<(), AppError> {
    if !admin.is_admin {
        return Err(AppError::Forbidden);
    }
    let state = state();
    let visitor = VisitorId(visitor);
    if state.hub.visitor_busy(visitor).await {
        return Err(AppError::Invalid(Invalid::VisitorActive));
    }
    match state.storage.delete_visitor(visitor).await? {
        Deleted::Gone => {
            tracing::info!(visitor = visitor.0, admin = %admin.name, "visitor deleted");
            Ok(())
        }
        Deleted::NotFound => Err(AppError::NotFound),
        Deleted::Open(_) => Err(AppError::Invalid(Invalid::VisitorActive)),
    }
}
