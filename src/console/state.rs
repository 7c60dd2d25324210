//! The console's reactive state: one handle per open conversation, the
//! selected tab, and how each server message changes them.

use leptos::prelude::*;

use crate::chat::{Fetch, Notice, Outbox, Thread};
use crate::protocol::{
    AgentInfo, Author, ClientMsg, ConversationId, ConversationStatus, ConversationSummary,
    ErrorCode, Party, Resume, ServerMsg,
};

/// One conversation tab.
#[derive(Clone, Copy)]
pub struct ConvHandle {
    /// Which conversation.
    pub id: ConversationId,
    /// Its header data.
    pub summary: RwSignal<ConversationSummary>,
    /// Its lines.
    pub thread: RwSignal<Thread>,
    /// The agent has read up to here.
    pub read_seq: RwSignal<i64>,
}

impl ConvHandle {
    /// Visitor messages the agent has not read.
    pub fn unread(&self) -> usize {
        let read = self.read_seq.get();
        self.thread.with(|t| t.count_after(Author::Visitor, read))
    }
}

/// Everything the console shows once signed in.
#[derive(Clone, Copy)]
pub struct ConsoleState {
    /// The signed-in agent.
    pub me: StoredValue<AgentInfo>,
    /// Open conversations, oldest first.
    pub convs: RwSignal<Vec<ConvHandle>>,
    /// The tab in front.
    pub selected: RwSignal<Option<ConversationId>>,
    /// A refusal to show that belongs to no message.
    pub error: RwSignal<Option<String>>,
    /// To the socket.
    pub outbox: Outbox,
}

impl ConsoleState {
    /// Empty state for `me`.
    pub fn new(me: AgentInfo) -> Self {
        Self {
            me: StoredValue::new(me),
            convs: RwSignal::new(Vec::new()),
            selected: RwSignal::new(None),
            error: RwSignal::new(None),
            outbox: Outbox::new(),
        }
    }

    /// The handle of conversation `id`.
    pub fn find(&self, id: ConversationId) -> Option<ConvHandle> {
        self.convs
            .with_untracked(|cs| cs.iter().find(|c| c.id == id).copied())
    }

    /// The `hello` for a (re)connect, with what we already hold.
    pub fn hello(&self) -> ClientMsg {
        let resume = self.convs.with_untracked(|cs| {
            cs.iter()
                .map(|c| Resume {
                    conversation: c.id,
                    after: c.thread.with_untracked(Thread::resume_after),
                })
                .collect()
        });
        ClientMsg::Hello {
            version: crate::protocol::PROTOCOL_VERSION,
            token: None,
            resume,
        }
    }

    /// Brings a tab to the front and marks it read.
    pub fn select(&self, id: ConversationId) {
        self.selected.set(Some(id));
        self.mark_read(id);
    }

    /// Tells the server (and so every tab of ours) that `id` is read.
    pub fn mark_read(&self, id: ConversationId) {
        if let Some(c) = self.find(id) {
            let last = c.thread.with_untracked(Thread::last_seq);
            if last > c.read_seq.get_untracked() {
                c.read_seq.set(last);
                self.outbox.send(ClientMsg::Read {
                    conversation: id,
                    seq: last,
                });
            }
        }
    }

    /// Queues a reply in conversation `id`.
    pub fn send_text(&self, id: ConversationId, text: String) {
        let Some(c) = self.find(id) else { return };
        let msg_id = crate::chat::link::new_message_id();
        let now = crate::chat::link::now_ms();
        c.thread
            .update(|t| t.push_pending(&msg_id, Author::Agent, &text, now));
        self.outbox.send(ClientMsg::Send {
            id: msg_id,
            conversation: Some(id),
            text,
            resend: false,
        });
    }

    /// Asks the server to close conversation `id`.
    pub fn close(&self, id: ConversationId) {
        self.outbox.send(ClientMsg::Close { conversation: id });
    }

    /// Sends again, in order, the messages not acknowledged within `min_age`
    /// ms (0: all of them, after a reconnect).
    pub fn resend_pending(&self, min_age: f64) {
        let now = crate::chat::link::now_ms();
        for c in self.convs.get_untracked() {
            let due = c
                .thread
                .try_update(|t| t.take_due(now, min_age))
                .unwrap_or_default();
            for (id, text) in due {
                self.outbox.send(ClientMsg::Send {
                    id,
                    conversation: Some(c.id),
                    text,
                    // Maybe stored already, its ack lost: the server looks it up.
                    resend: true,
                });
            }
        }
    }

    /// Merges fetched history into a conversation; returns the page that
    /// fills the next gap in what it holds, if any.
    pub fn merge_history(
        &self,
        id: ConversationId,
        page: crate::api::HistoryPage,
    ) -> Option<Fetch> {
        let c = self.find(id)?;
        let gap = c
            .thread
            .try_update(|t| {
                t.merge_page(page.messages, page.more);
                Fetch::gap(t)
            })
            .flatten();
        if self.selected.get_untracked() == Some(id) && crate::chat::link::page_visible() {
            self.mark_read(id);
        }
        gap
    }

    /// Applies one server message. Returns a history page to fetch: the
    /// newest of a conversation new to this page and not empty, or one that
    /// fills a gap a message left (see [`Thread::gap`]).
    pub fn apply(&self, msg: ServerMsg) -> Option<Fetch> {
        match msg {
            ServerMsg::Welcome { conversations, .. } => {
                if let Some(current) = conversations {
                    let stale: Vec<ConversationId> = self.convs.with_untracked(|cs| {
                        cs.iter()
                            .map(|c| c.id)
                            .filter(|id| !current.contains(id))
                            .collect()
                    });
                    for id in stale {
                        self.remove(id);
                    }
                }
                self.resend_pending(0.0);
            }
            ServerMsg::Conversation { conversation } => return self.upsert(conversation),
            ServerMsg::Message { message } => {
                let id = message.conversation;
                let from_visitor = message.author == Author::Visitor;
                if let Some(c) = self.find(id) {
                    let gap = c
                        .thread
                        .try_update(|t| {
                            t.merge(message);
                            Fetch::gap(t)
                        })
                        .flatten();
                    if from_visitor
                        && self.selected.get_untracked() == Some(id)
                        && crate::chat::link::page_visible()
                    {
                        self.mark_read(id);
                    }
                    return gap;
                }
            }
            ServerMsg::Ack {
                id,
                conversation,
                seq,
            } => {
                if let Some(c) = self.find(conversation) {
                    c.thread.update(|t| t.ack(&id, seq));
                }
            }
            ServerMsg::Presence {
                conversation,
                party: Party::Visitor,
                online,
            } => {
                if let Some(c) = self.find(conversation) {
                    c.thread.update(|t| {
                        t.notice(if online {
                            Notice::VisitorBack
                        } else {
                            Notice::VisitorLeft
                        })
                    });
                }
            }
            ServerMsg::ReadUpTo { conversation, seq } => {
                if let Some(c) = self.find(conversation) {
                    c.read_seq.update(|r| *r = (*r).max(seq));
                }
            }
            // Not stored this time: it stays pending and is retried.
            ServerMsg::Error {
                code: ErrorCode::Storage | ErrorCode::SlowDown,
                id: Some(_),
                ..
            } => {}
            ServerMsg::Error { message, id, .. } => {
                let placed = id.is_some_and(|id| {
                    self.convs.get_untracked().iter().any(|c| {
                        c.thread
                            .try_update(|t| t.fail(&id, message.clone()))
                            .unwrap_or(false)
                    })
                });
                if !placed {
                    self.error.set(Some(message));
                }
            }
            ServerMsg::Presence { .. }
            | ServerMsg::Availability { .. }
            | ServerMsg::Pong
            | ServerMsg::Unknown => {}
        }
        None
    }

    fn upsert(&self, summary: ConversationSummary) -> Option<Fetch> {
        let id = summary.id;
        if summary.status == ConversationStatus::Closed {
            self.remove(id);
            return None;
        }
        if let Some(c) = self.find(id) {
            c.read_seq.update(|r| *r = (*r).max(summary.agent_read_seq));
            c.summary.set(summary);
            return None;
        }
        let fetch = summary.last_seq > 0;
        let handle = ConvHandle {
            id,
            read_seq: RwSignal::new(summary.agent_read_seq),
            summary: RwSignal::new(summary),
            thread: RwSignal::new(Thread::new(Some(id))),
        };
        self.convs.update(|cs| cs.push(handle));
        if self.selected.get_untracked().is_none() {
            self.selected.set(Some(id));
        }
        fetch.then_some(Fetch {
            conversation: id,
            before: None,
        })
    }

    fn remove(&self, id: ConversationId) {
        self.convs.update(|cs| cs.retain(|c| c.id != id));
        if self.selected.get_untracked() == Some(id) {
            let next = self.convs.with_untracked(|cs| cs.first().map(|c| c.id));
            self.selected.set(next);
        }
    }

    /// Unread visitor messages over all tabs.
    pub fn total_unread(&self) -> usize {
        self.convs
            .with(|cs| cs.iter().map(ConvHandle::unread).sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::LinkStatus;
    use crate::protocol::{AgentId, ConversationStatus, ConversationSummary};

    /// A console signed in as Ann, with conversation `id` open in a tab.
    fn console_with_tab(id: ConversationId) -> ConsoleState {
        let state = ConsoleState::new(AgentInfo {
            id: AgentId(1),
            name: "Ann".into(),
            is_admin: false,
            capacity: 5,
            disabled: false,
        });
        state.apply(ServerMsg::Conversation {
            conversation: ConversationSummary {
                id,
                status: ConversationStatus::Assigned,
                visitor_label: "Visitor 1".into(),
                agent_name: Some("Ann".into()),
                visitor_online: true,
                agent_online: true,
                last_seq: 0,
                agent_read_seq: 0,
                queue_position: None,
            },
        });
        state
    }

    /// See the widget's test of the same name: a tab resumes below a gap
    /// and asks for the page that fills it.
    #[test]
    fn a_gap_is_fetched_and_never_resumed_past() {
        let owner = Owner::new();
        owner.set();
        let id = ConversationId(7);
        let state = console_with_tab(id);
        let message = |seq: i64| ServerMsg::Message {
            message: crate::protocol::ChatMessage {
                id: crate::protocol::MessageId(format!("m{seq}")),
                conversation: id,
                seq,
                author: Author::Visitor,
                author_name: None,
                text: format!("question {seq}"),
                event: None,
                sent_at: 0,
            },
        };
        let after = |state: &ConsoleState| match state.hello() {
            ClientMsg::Hello { resume, .. } => resume
                .iter()
                .find(|r| r.conversation == id)
                .map(|r| r.after),
            _ => None,
        };
        assert_eq!(state.apply(message(1)), None);
        assert_eq!(
            state.apply(message(3)),
            Some(Fetch {
                conversation: id,
                before: Some(3)
            })
        );
        assert_eq!(after(&state), Some(1));
        let filled = state.merge_history(
            id,
            crate::api::HistoryPage {
                messages: vec![match message(2) {
                    ServerMsg::Message { message } => message,
                    _ => unreachable!(),
                }],
                more: true,
            },
        );
        assert_eq!(filled, None, "no gap is left");
        assert_eq!(after(&state), Some(3));
    }

    /// See the widget's test of the same name: the console marks its
    /// resends the same way.
    #[test]
    fn a_first_send_is_unmarked_and_every_resend_is_marked() {
        let owner = Owner::new();
        owner.set();
        let id = ConversationId(7);
        let state = console_with_tab(id);
        let (tx, mut rx) = futures::channel::mpsc::unbounded();
        state.outbox.attach(tx);
        state.outbox.status.set(LinkStatus::Online);

        state.send_text(id, "hi".into());
        state.resend_pending(0.0);
        let sends: Vec<(Option<ConversationId>, bool)> = std::iter::from_fn(|| rx.try_recv().ok())
            .filter_map(|m| match m {
                ClientMsg::Send {
                    conversation,
                    resend,
                    ..
                } => Some((conversation, resend)),
                _ => None,
            })
            .collect();
        assert_eq!(sends, [(Some(id), false), (Some(id), true)]);
    }
}
