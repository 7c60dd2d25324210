//! The widget's reactive state and how each server message changes it.

use leptos::prelude::*;

use crate::chat::{Fetch, Notice, Outbox, Thread};
use crate::protocol::{
    Author, ClientMsg, ConversationStatus, ConversationSummary, ErrorCode, Party, Resume, ServerMsg,
};

/// Where the visitor's token is kept in localStorage. `launcher.js` reads
/// the same key (a test in `widget/mod.rs` keeps the two in step).
pub const TOKEN_KEY: &str = "kefu.visitor_token";

/// Everything the widget shows.
#[derive(Clone, Copy)]
pub struct WidgetState {
    /// Whether the panel is open.
    pub open: RwSignal<bool>,
    /// Agent messages that came while the panel was closed.
    pub unread: RwSignal<u32>,
    /// Whether any agent is online (None until known).
    pub agents_online: RwSignal<Option<bool>>,
    /// The visitor's current (or last) conversation.
    pub conversation: RwSignal<Option<ConversationSummary>>,
    /// Its lines.
    pub thread: RwSignal<Thread>,
    /// A refusal to show that belongs to no message.
    pub error: RwSignal<Option<String>>,
    /// To the socket.
    pub outbox: Outbox,
}

impl WidgetState {
    /// Empty state.
    pub fn new() -> Self {
        Self {
            open: RwSignal::new(false),
            unread: RwSignal::new(0),
            agents_online: RwSignal::new(None),
            conversation: RwSignal::new(None),
            thread: RwSignal::new(Thread::default()),
            error: RwSignal::new(None),
            outbox: Outbox::new(),
        }
    }

    /// Whether a conversation is open (queued or assigned).
    pub fn has_open_conversation(&self) -> bool {
        self.conversation.with(|c| {
            c.as_ref().is_some_and(|c| {
                matches!(
                    c.status,
                    ConversationStatus::Queued | ConversationStatus::Assigned
                )
            })
        })
    }

    /// The `hello` for a (re)connect: our token and what we already hold.
    pub fn hello(&self, token: Option<String>) -> ClientMsg {
        let resume = self.thread.with_untracked(|t| {
            t.conversation
                .map(|conversation| Resume {
                    conversation,
                    after: t.resume_after(),
                })
                .into_iter()
                .collect()
        });
        ClientMsg::Hello {
            version: crate::protocol::PROTOCOL_VERSION,
            token,
            resume,
        }
    }

    /// Opens the panel; asks for a conversation when none is open.
    pub fn open_panel(&self) {
        self.open.set(true);
        self.unread.set(0);
        if !self.has_open_conversation() && self.agents_online.get_untracked() == Some(true) {
            self.outbox.send(ClientMsg::Start);
        }
    }

    /// Queues a message typed by the visitor.
    pub fn send_text(&self, text: String) {
        let id = crate::chat::link::new_message_id();
        let now = crate::chat::link::now_ms();
        self.thread
            .update(|t| t.push_pending(&id, Author::Visitor, &text, now));
        self.outbox.send(ClientMsg::Send {
            id,
            conversation: None,
            text,
            resend: false,
        });
    }

    /// Sends again, in order, the messages not acknowledged within `min_age`
    /// ms (0: all of them, after a reconnect).
    pub fn resend_pending(&self, min_age: f64) {
        let now = crate::chat::link::now_ms();
        let due = self
            .thread
            .try_update(|t| t.take_due(now, min_age))
            .unwrap_or_default();
        for (id, text) in due {
            self.outbox.send(ClientMsg::Send {
                id,
                conversation: None,
                text,
                // Maybe stored already, its ack lost: the server looks it up.
                resend: true,
            });
        }
    }

    /// Applies one server message. Returns a history page to fetch: the
    /// newest of a conversation we switched to that already has messages,
    /// or one that fills a gap the message left (see [`Thread::gap`]).
    pub fn apply(&self, msg: ServerMsg) -> Option<Fetch> {
        match msg {
            ServerMsg::Welcome { agents_online, .. } => {
                self.agents_online.set(Some(agents_online));
                self.resend_pending(0.0);
                if self.open.get_untracked() && !self.has_open_conversation() && agents_online {
                    self.outbox.send(ClientMsg::Start);
                }
            }
            ServerMsg::Availability { agents_online } => {
                self.agents_online.set(Some(agents_online));
                if agents_online && self.open.get_untracked() && !self.has_open_conversation() {
                    self.outbox.send(ClientMsg::Start);
                }
            }
            ServerMsg::Conversation { conversation } => {
                let id = conversation.id;
                let known = self.thread.with_untracked(|t| t.conversation == Some(id));
                let fetch = !known && conversation.last_seq > 0;
                if !known {
                    self.thread.update(|t| t.switch_to(id));
                }
                self.conversation.set(Some(conversation));
                return fetch.then_some(Fetch {
                    conversation: id,
                    before: None,
                });
            }
            ServerMsg::Message { message } => {
                let current = self.thread.with_untracked(|t| t.conversation);
                if current.is_some() && current != Some(message.conversation) {
                    return None;
                }
                let from_agent = message.author == Author::Agent;
                let (added, gap) = self
                    .thread
                    .try_update(|t| {
                        if t.conversation.is_none() {
                            t.switch_to(message.conversation);
                        }
                        (t.merge(message), Fetch::gap(t))
                    })
                    .unwrap_or((false, None));
                if added && from_agent && !self.open.get_untracked() {
                    self.unread.update(|n| *n += 1);
                }
                return gap;
            }
            ServerMsg::Ack { id, seq, .. } => self.thread.update(|t| t.ack(&id, seq)),
            ServerMsg::Presence {
                party: Party::Agent,
                online,
                ..
            } => self.thread.update(|t| {
                t.notice(if online {
                    Notice::AgentBack
                } else {
                    Notice::AgentOffline
                })
            }),
            // Not stored this time: it stays pending and is retried.
            ServerMsg::Error {
                code: ErrorCode::Storage | ErrorCode::SlowDown,
                id: Some(_),
                ..
            } => {}
            ServerMsg::Error { message, id, .. } => {
                let placed = id.is_some_and(|id| {
                    self.thread
                        .try_update(|t| t.fail(&id, message.clone()))
                        .unwrap_or(false)
                });
                if !placed {
                    self.error.set(Some(message));
                }
            }
            ServerMsg::Presence { .. }
            | ServerMsg::ReadUpTo { .. }
            | ServerMsg::Pong
            | ServerMsg::Unknown => {}
        }
        None
    }
}

impl Default for WidgetState {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::LinkStatus;

    /// Every `send` the state queued, as (text, resend).
    fn sends(rx: &mut futures::channel::mpsc::UnboundedReceiver<ClientMsg>) -> Vec<(String, bool)> {
        std::iter::from_fn(|| rx.try_recv().ok())
            .filter_map(|m| match m {
                ClientMsg::Send { text, resend, .. } => Some((text, resend)),
                _ => None,
            })
            .collect()
    }

    fn message(seq: i64) -> ServerMsg {
        ServerMsg::Message {
            message: crate::protocol::ChatMessage {
                id: crate::protocol::MessageId(format!("m{seq}")),
                conversation: crate::protocol::ConversationId(3),
                seq,
                author: Author::Agent,
                author_name: Some("Ann".into()),
                text: format!("reply {seq}"),
                event: None,
                sent_at: 0,
            },
        }
    }

    /// A message that arrives past a gap asks for the page that fills it,
    /// and a reconnect meanwhile resumes below the gap, not past it.
    #[test]
    fn a_gap_is_fetched_and_never_resumed_past() {
        let owner = Owner::new();
        owner.set();
        let state = WidgetState::new();
        assert_eq!(state.apply(message(1)), None);
        assert_eq!(state.apply(message(2)), None);
        let gap = state.apply(message(4));
        assert_eq!(
            gap,
            Some(Fetch {
                conversation: crate::protocol::ConversationId(3),
                before: Some(4)
            })
        );
        let ClientMsg::Hello { resume, .. } = state.hello(None) else {
            panic!("hello");
        };
        assert_eq!(resume.len(), 1);
        assert_eq!(resume[0].after, 2, "resumes below the gap");
        assert_eq!(state.apply(message(3)), None);
        let ClientMsg::Hello { resume, .. } = state.hello(None) else {
            panic!("hello");
        };
        assert_eq!(resume[0].after, 4);
    }

    /// The server looks up only sends marked as resends: the first send of
    /// a message must be unmarked (or it costs a look-up) and every later
    /// one marked (or it would be stored twice).
    #[test]
    fn a_first_send_is_unmarked_and_every_resend_is_marked() {
        let owner = Owner::new();
        owner.set();
        let state = WidgetState::new();
        let (tx, mut rx) = futures::channel::mpsc::unbounded();
        state.outbox.attach(tx);
        state.outbox.status.set(LinkStatus::Online);

        state.send_text("hello".into());
        state.resend_pending(0.0);
        state.resend_pending(0.0);
        assert_eq!(
            sends(&mut rx),
            [
                ("hello".into(), false),
                ("hello".into(), true),
                ("hello".into(), true)
            ]
        );
    }
}
