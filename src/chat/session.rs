//! One client session for both UIs: `hello` with what is held, sending and
//! resending (pending until acknowledged), acks and refusals, the socket's
//! (re)connects, and history paging. The widget and the console implement
//! [`Threads`] to say what differs: which threads they hold (one against
//! many) and what they do with the other frames.

use std::future::Future;

use leptos::prelude::*;

use super::{Fetch, Outbox, Thread};
use crate::protocol::{
    Author, ClientMsg, ConversationId, ErrorCode, HistoryPage, Resume, ServerMsg, PROTOCOL_VERSION,
};

/// A thread as the session sees it: its lines, and the conversation a
/// `send` from it names (none for the widget: the server knows the
/// visitor's conversation).
#[derive(Clone, Copy)]
pub struct Held {
    /// Named in `send`.
    pub named: Option<ConversationId>,
    /// Its lines.
    pub thread: RwSignal<Thread>,
}

/// What a UI tells the session about itself.
pub trait Threads: Copy + 'static {
    /// The session this UI talks through.
    fn session(&self) -> Session;
    /// Every thread it holds.
    fn threads(&self) -> Vec<Held>;
    /// The token said in `hello` (the visitor's; none for agents, whose
    /// session cookie travels with the upgrade).
    fn token(&self) -> Option<String> {
        None
    }
    /// The identity token said in `hello`: signed by the website's backend
    /// for its signed-in user (docs/PROTOCOL.md §2); none for agents and
    /// anonymous visitors.
    fn identity(&self) -> Option<String> {
        None
    }
    /// Sends again what else of this UI's is unacknowledged and was last
    /// sent at least `min_age` ms before `now` (the console's notes; the
    /// widget has none).
    fn resend_notes(&self, now: f64, min_age: f64) {
        let _ = (now, min_age);
    }
    /// Acts on a frame the session does not handle itself (everything but
    /// acks and refusals); returns a history page to fetch, if any.
    fn apply(&self, msg: ServerMsg) -> Option<Fetch>;
}

/// The socket end of a UI: where frames go, and the last refusal that
/// belongs to no message (shown in the UI's own words).
#[derive(Clone, Copy)]
pub struct Session {
    /// To the socket.
    pub outbox: Outbox,
    /// A refusal to show that belongs to no message.
    pub error: RwSignal<Option<ErrorCode>>,
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

impl Session {
    /// A session with no socket yet.
    pub fn new() -> Self {
        Self {
            outbox: Outbox::new(),
            error: RwSignal::new(None),
        }
    }

    /// Shows a refusal that belongs to no message (in the UI's own words).
    pub fn refused(&self, code: ErrorCode) {
        self.error.set(Some(code));
    }
}

/// The `hello` for a (re)connect: the token and, for each thread that knows
/// its conversation, what it already holds.
pub fn hello(ui: &impl Threads) -> ClientMsg {
    let resume = ui
        .threads()
        .iter()
        .filter_map(|held| {
            held.thread.with_untracked(|t| {
                t.conversation.map(|conversation| Resume {
                    conversation,
                    after: t.resume_after(),
                })
            })
        })
        .collect();
    ClientMsg::Hello {
        version: PROTOCOL_VERSION,
        token: ui.token(),
        resume,
        identity: ui.identity(),
    }
}

/// Queues a message typed by `author` into `held`: shown at once as
/// pending, sent now if the socket is up, and resent until acknowledged.
pub fn send_text(ui: &impl Threads, held: Held, author: Author, text: String) {
    let id = super::link::new_message_id();
    let now = super::link::now_ms();
    held.thread
        .update(|t| t.push_pending(&id, author, &text, now));
    ui.session().outbox.send(ClientMsg::Send {
        id,
        conversation: held.named,
        text,
        resend: false,
    });
}

/// Sends again, in order, the messages not acknowledged within `min_age`
/// ms (0: all of them, after a reconnect).
pub fn resend_pending(ui: &impl Threads, min_age: f64) {
    let now = super::link::now_ms();
    let outbox = ui.session().outbox;
    for held in ui.threads() {
        let due = held
            .thread
            .try_update(|t| t.take_due(now, min_age))
            .unwrap_or_default();
        for (id, text) in due {
            outbox.send(ClientMsg::Send {
                id,
                conversation: held.named,
                text,
                // Maybe stored already, its ack lost: the server looks it up.
                resend: true,
            });
        }
    }
    ui.resend_notes(now, min_age);
}

/// Applies one server message: acks and refusals here, the rest by the UI
/// (after resending what is pending, on `welcome`). Returns a history page
/// to fetch, if any.
pub fn receive(ui: &impl Threads, msg: ServerMsg) -> Option<Fetch> {
    match msg {
        ServerMsg::Ack { id, seq, .. } => {
            if let Some(held) = holding(ui, &id) {
                held.thread.update(|t| t.ack(&id, seq));
            }
            None
        }
        // Not stored this time: it stays pending and is retried.
        ServerMsg::Error {
            code: ErrorCode::Storage | ErrorCode::SlowDown,
            id: Some(_),
            ..
        } => None,
        ServerMsg::Error { code, id, .. } => {
            let placed = id.is_some_and(|id| {
                holding(ui, &id).is_some_and(|held| {
                    held.thread
                        .try_update(|t| t.fail(&id, code))
                        .unwrap_or(false)
                })
            });
            if !placed {
                ui.session().refused(code);
            }
            None
        }
        welcome @ ServerMsg::Welcome { .. } => {
            let fetch = ui.apply(welcome);
            resend_pending(ui, 0.0);
            fetch
        }
        other => ui.apply(other),
    }
}

/// The thread showing message `id`: only it is updated (and re-drawn)
/// for that message's ack or refusal, not every tab.
fn holding(ui: &impl Threads, id: &crate::protocol::MessageId) -> Option<Held> {
    ui.threads()
        .into_iter()
        .find(|held| held.thread.with_untracked(|t| t.holds(id)))
}

/// Loads the page `fetch` names into `thread` (if it still shows that
/// conversation), then the pages filling each gap left, for as long as
/// each page makes progress. `page` fetches the page below a seq (`None`:
/// the newest); `Ok(None)` means there is nothing to load.
pub async fn load_history<F, Fut, E>(
    thread: RwSignal<Thread>,
    fetch: Fetch,
    page: F,
) -> Result<(), E>
where
    F: Fn(Option<i64>) -> Fut,
    Fut: Future<Output = Result<Option<HistoryPage>, E>>,
{
    let mut before = fetch.before;
    loop {
        let Some(loaded) = page(before).await? else {
            return Ok(());
        };
        let gap = thread
            .try_update(|t| {
                if t.conversation == Some(fetch.conversation) {
                    t.merge_page(loaded.messages, loaded.more);
                }
                t.gap()
            })
            .flatten();
        match gap {
            Some(next) if Some(next) != before => before = Some(next),
            _ => return Ok(()),
        }
    }
}

/// Opens the socket at `path` for `ui` and keeps it open: `hello` at every
/// (re)connect, every frame through [`receive`], resends on a timer, and
/// each history page asked for handed to `fetch` (browser only).
#[cfg(feature = "hydrate")]
pub fn connect<U: Threads>(
    ui: U,
    path: &'static str,
    on_frame: impl Fn(&ServerMsg) + 'static,
    fetch: impl Fn(Fetch) + 'static,
) {
    use crate::client::socket;
    socket::start(
        ui.session().outbox,
        path,
        socket::Handlers {
            hello: move || hello(&ui),
            on_message: move |msg: ServerMsg| {
                on_frame(&msg);
                if let Some(page) = receive(&ui, msg) {
                    fetch(page);
                }
            },
            retry: move || resend_pending(&ui, f64::from(socket::RETRY_MS)),
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A UI whose page was handed a signed identity (as the widget will be,
    /// by the embed script).
    #[derive(Clone, Copy)]
    struct Signed(Session);

    impl Threads for Signed {
        fn session(&self) -> Session {
            self.0
        }
        fn threads(&self) -> Vec<Held> {
            Vec::new()
        }
        fn token(&self) -> Option<String> {
            Some("device-token".into())
        }
        fn identity(&self) -> Option<String> {
            Some("payload.signature".into())
        }
        fn apply(&self, _: ServerMsg) -> Option<crate::chat::Fetch> {
            None
        }
    }

    /// Every (re)connect's `hello` carries the identity beside the token.
    #[test]
    fn hello_says_the_identity_the_ui_holds() {
        let owner = Owner::new();
        owner.set();
        let ClientMsg::Hello {
            token, identity, ..
        } = hello(&Signed(Session::new()))
        else {
            panic!("hello");
        };
        assert_eq!(token.as_deref(), Some("device-token"));
        assert_eq!(identity.as_deref(), Some("payload.signature"));
    }
}
