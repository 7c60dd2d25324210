//! The UI's side of the socket: its status, and an outbox the UI writes to.
//! The socket driver itself (browser only) lives in `crate::client`.

use futures::channel::mpsc::UnboundedSender;
use leptos::prelude::*;

use crate::protocol::ClientMsg;

/// Whether the socket is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkStatus {
    /// First connection under way (also during server rendering).
    Connecting,
    /// Hello answered; messages flow.
    Online,
    /// The connection dropped; retrying with backoff.
    Reconnecting,
}

/// Where the UI puts frames for the server.
#[derive(Clone, Copy)]
pub struct Outbox {
    // Thread-safe storage on purpose: the server renders this too, and a
    // page's rendering may end on another worker thread than it began on;
    // thread-bound (`LocalStorage`) values panic when dropped there, cutting
    // the page off mid-response.
    tx: StoredValue<Option<UnboundedSender<ClientMsg>>>,
    /// The socket's status.
    pub status: RwSignal<LinkStatus>,
}

impl Default for Outbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Outbox {
    /// An outbox with no socket yet.
    pub fn new() -> Self {
        Self {
            tx: StoredValue::new(None),
            status: RwSignal::new(LinkStatus::Connecting),
        }
    }

    /// Attaches the socket driver's queue.
    pub fn attach(&self, tx: UnboundedSender<ClientMsg>) {
        self.tx.set_value(Some(tx));
    }

    /// Sends now if the socket is up; otherwise drops the frame. Messages are
    /// not lost that way: they stay pending in their thread and are sent again
    /// after every (re)connect.
    pub fn send(&self, msg: ClientMsg) {
        if self.status.get_untracked() != LinkStatus::Online {
            return;
        }
        self.tx.with_value(|tx| {
            if let Some(tx) = tx {
                let _ = tx.unbounded_send(msg);
            }
        });
    }
}

/// A fresh message id (a UUID v4 in the browser).
pub fn new_message_id() -> crate::protocol::MessageId {
    #[cfg(feature = "hydrate")]
    {
        crate::protocol::MessageId(crate::client::random_uuid())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        crate::protocol::MessageId(String::new())
    }
}

/// Milliseconds since the epoch (0 while rendering on the server).
pub fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0.0
    }
}

/// Whether the page is visible (always true while rendering on the server).
pub fn page_visible() -> bool {
    #[cfg(feature = "hydrate")]
    {
        crate::client::page_visible()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        true
    }
}
