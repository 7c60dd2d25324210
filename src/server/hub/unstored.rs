//! Visitors not stored yet: nothing is stored for nobody.
//!
//! A socket that says `hello` without a token it can use gets a fresh
//! token and an id reserved in storage, but no row: the visitor, their
//! browser and the pages they view are held here, in memory, until they
//! first do something worth keeping (open a conversation, which a first
//! message does, or fill the pre-chat form). Then the row is stored, keyed
//! by the token's hash, so that the token recognises them from then on.
//! Other tabs that present that token meanwhile find the same visitor here.
//! When their last socket closes before that, they are forgotten: a script
//! that reconnects in a loop leaves the database as it was.
//!
//! A verified identity is worth keeping by itself: such visitors are
//! stored at `hello` (`edge/visitors.rs`), as before.

use std::collections::HashMap;

use super::Hub;
use crate::server::storage::{ClientFacts, PageViewRow, StoreResult, VisitorId};

/// One visitor not stored yet.
struct Unstored {
    token_hash: Vec<u8>,
    client: Option<ClientFacts>,
    page: Option<PageViewRow>,
}

/// Visitors not stored yet, by id and by their token's hash.
#[derive(Default)]
pub(super) struct Unstoreds {
    by_id: HashMap<VisitorId, Unstored>,
    by_hash: HashMap<Vec<u8>, VisitorId>,
}

impl Unstoreds {
    fn remove(&mut self, visitor: VisitorId) -> Option<Unstored> {
        let gone = self.by_id.remove(&visitor)?;
        self.by_hash.remove(&gone.token_hash);
        Some(gone)
    }
}

impl Hub {
    fn unstored(&self) -> std::sync::MutexGuard<'_, Unstoreds> {
        self.0.unstored.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The visitor not stored yet whose token has this hash, if one is connected.
    pub fn unstored_by_token(&self, token_hash: &[u8]) -> Option<VisitorId> {
        self.unstored().by_hash.get(token_hash).copied()
    }

    /// Holds `visitor` (an id reserved in storage, not stored) with their
    /// token's hash, before their socket is registered.
    pub fn hold_unstored(&self, visitor: VisitorId, token_hash: Vec<u8>) {
        let mut u = self.unstored();
        u.by_hash.insert(token_hash.clone(), visitor);
        u.by_id.insert(
            visitor,
            Unstored {
                token_hash,
                client: None,
                page: None,
            },
        );
    }

    /// Keeps what a visitor's browser said of itself until they are
    /// stored; for a stored visitor, hands it back to be stored now.
    pub fn client_facts(&self, visitor: VisitorId, facts: ClientFacts) -> Option<ClientFacts> {
        match self.unstored().by_id.get_mut(&visitor) {
            Some(u) => {
                u.client = Some(facts);
                None
            }
            None => Some(facts),
        }
    }

    /// Keeps a visitor's latest page until they are stored; for a stored
    /// visitor, hands it back to be stored now.
    pub(super) fn page_unless_stored(
        &self,
        visitor: VisitorId,
        view: PageViewRow,
    ) -> Option<PageViewRow> {
        match self.unstored().by_id.get_mut(&visitor) {
            Some(u) => {
                u.page = Some(view);
                None
            }
            None => Some(view),
        }
    }

    /// Stores `visitor` if they are not stored yet (with their browser and
    /// latest page): they just did something worth keeping.
    pub(super) async fn keep(&self, visitor: VisitorId) -> StoreResult<()> {
        let held = self
            .unstored()
            .by_id
            .get(&visitor)
            .map(|u| (u.token_hash.clone(), u.client.clone(), u.page.clone()));
        let Some((hash, client, page)) = held else {
            return Ok(());
        };
        self.storage()
            .keep_visitor(visitor, &hash, client.as_ref(), page.as_ref())
            .await?;
        self.unstored().remove(visitor);
        Ok(())
    }

    /// Forgets a visitor not stored yet (their last socket closed).
    pub(super) fn forget_unstored(&self, visitor: VisitorId) {
        self.unstored().remove(visitor);
    }

    /// Whether `visitor` has a socket open (on any node) or an open conversation. Waits
    /// for any lifecycle change under way (a close finishing).
    pub async fn visitor_busy(&self, visitor: VisitorId) -> bool {
        let _guard = self.0.lifecycle.lock().await;
        let st = self.state();
        st.visitor_connected(visitor) || st.by_visitor.contains_key(&visitor)
    }

    /// Of these visitors, those with a socket open (on any node).
    pub fn connected_visitors(&self, visitors: &[VisitorId]) -> Vec<VisitorId> {
        let st = self.state();
        visitors
            .iter()
            .copied()
            .filter(|v| st.visitor_connected(*v))
            .collect()
    }
}
