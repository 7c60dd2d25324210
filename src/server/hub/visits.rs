//! A visitor's page views, live: each is stored (only the latest is
//! kept), then goes to the agent serving the visitor's open conversation,
//! never to any visitor.

use super::{encode, Conn, Hub};
use crate::protocol::{ErrorCode, PageSeen, ServerMsg};
use crate::server::storage::{PageViewRow, VisitorId};

impl Hub {
    /// The visitor is on this page now (already checked): stored in place
    /// of the one before, then shown to the agent serving their open
    /// conversation. A storage failure is told to the visitor's socket.
    pub async fn page_view(&self, visitor: VisitorId, view: PageViewRow, conn: &Conn) {
        // Held in memory, not shown (no conversation yet), until the
        // visitor is stored.
        let Some(view) = self.page_unless_stored(visitor, view) else {
            return;
        };
        match self.storage().record_page_view(visitor, &view).await {
            Ok(()) => self.show_page(visitor, view.page),
            Err(e) => {
                tracing::warn!(error = %e, "storing a page view failed");
                conn.send(&ServerMsg::error(ErrorCode::Storage, None)).await;
            }
        }
    }

    /// Tells the agent serving `visitor`'s open conversation, if any, on
    /// every socket of theirs.
    fn show_page(&self, visitor: VisitorId, page: PageSeen) {
        let st = self.state();
        let Some(&conversation) = st.by_visitor.get(&visitor) else {
            return;
        };
        let Some(agent) = st.convs.get(&conversation).and_then(|c| c.agent) else {
            return;
        };
        st.to_agent(
            agent,
            &encode(&ServerMsg::PageViewed { conversation, page }),
        );
    }
}
