//! What labels a visitor for agents: their own `profile` frame (stored,
//! then shown), or the name and email of a signed identity.

use super::{Conn, Hub};
use crate::protocol::{ErrorCode, ServerMsg};
use crate::server::storage::{VisitorId, VisitorProfile};

impl Hub {
    /// The visitor's label is now `profile`: the open conversation, if any,
    /// shows it to both sides.
    pub async fn relabel(&self, visitor: VisitorId, profile: VisitorProfile) {
        let _guard = self.0.lifecycle.lock().await;
        self.show_label(visitor, profile);
    }

    /// [`Hub::relabel`] with the lifecycle lock held.
    fn show_label(&self, visitor: VisitorId, profile: VisitorProfile) {
        let mut st = self.state();
        let Some(&id) = st.by_visitor.get(&visitor) else {
            return;
        };
        let Some(conv) = st.convs.get_mut(&id) else {
            return;
        };
        if conv.profile != profile {
            conv.profile = profile;
            st.announce(id);
        }
    }

    /// Stores the name and email a visitor gave (already checked; `None`:
    /// unchanged, `Some(None)`: cleared), then shows them. A verified
    /// visitor's label is the website's: refused with `forbidden`.
    pub async fn set_profile(
        &self,
        visitor: VisitorId,
        name: Option<Option<String>>,
        email: Option<Option<String>>,
        conn: &Conn,
    ) {
        let storage = self.storage();
        // The pre-chat form is worth keeping: the visitor is stored first.
        let kept = self.keep(visitor).await;
        let stored = match kept {
            Ok(()) => {
                storage
                    .set_visitor_profile(
                        visitor,
                        name.as_ref().map(Option::as_deref),
                        email.as_ref().map(Option::as_deref),
                    )
                    .await
            }
            Err(e) => Err(e),
        };
        let refusal = match stored {
            Ok(true) => return self.show_stored_label(visitor).await,
            Ok(false) => ErrorCode::Forbidden,
            Err(e) => {
                tracing::error!(error = %e, "storing a visitor's label failed");
                ErrorCode::Storage
            }
        };
        conn.send(&ServerMsg::error(refusal, None)).await;
    }

    /// Shows the label storage holds for `visitor`. Read under the lock, so
    /// that of two tabs' profiles the one stored last is shown last.
    async fn show_stored_label(&self, visitor: VisitorId) {
        let _guard = self.0.lifecycle.lock().await;
        match self.storage().visitor_profile(visitor).await {
            Ok(profile) => self.show_label(visitor, profile),
            // Stored all the same: shown from the next conversation on.
            Err(e) => tracing::warn!(error = %e, "reading a visitor's label failed"),
        }
    }
}
