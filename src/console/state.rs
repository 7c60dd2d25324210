//! The console's reactive state: one handle per open conversation, the
//! selected tab, and how each server message that the shared session
//! leaves to it changes them.

use leptos::prelude::*;

use crate::chat::session::{self, Held, Session, Threads};
use crate::chat::{Fetch, Notice, TheirTyping, Thread, Typer};
use crate::protocol::{
    AgentId, AgentInfo, Author, ClientMsg, ConversationId, ConversationStatus, ConversationSummary,
    PageSeen, Party, ServerMsg,
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
    /// The visitor has seen the conversation up to here.
    pub visitor_seen: RwSignal<i64>,
    /// The visitor typing, and their draft when the site shows drafts.
    pub typing: TheirTyping,
    /// This agent's typing frames in this conversation.
    pub typer: Typer,
}

impl ConvHandle {
    /// Visitor messages the agent has not read.
    pub fn unread(&self) -> usize {
        let read = self.read_seq.get();
        self.thread.with(|t| t.count_after(Author::Visitor, read))
    }

    fn held(&self) -> Held {
        Held {
            named: Some(self.id),
            thread: self.thread,
        }
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
    /// The socket, and a refusal that belongs to no message.
    pub session: Session,
    /// The agent chose to be notified (see `super::notify`).
    pub notify: RwSignal<bool>,
    /// The conversations the agent served when this page's socket last
    /// connected: their tabs are not new conversations to notify of.
    pub served: StoredValue<Vec<ConversationId>>,
    /// The page each conversation's visitor was last seen on, live.
    pub pages: RwSignal<std::collections::HashMap<ConversationId, PageSeen>>,
    /// Ratings given since this page opened to conversations this agent
    /// closed (shown by the read-only view of a closed conversation).
    pub ratings: LiveRatings,
}

/// Ratings that came live (`rated` frames), by conversation.
pub type LiveRatings =
    RwSignal<std::collections::HashMap<ConversationId, crate::protocol::rating::Rating>>;

impl ConsoleState {
    /// Empty state for `me`.
    pub fn new(me: AgentInfo) -> Self {
        Self {
            notify: RwSignal::new(me.notify),
            served: StoredValue::new(Vec::new()),
            pages: RwSignal::new(Default::default()),
            ratings: RwSignal::new(Default::default()),
            me: StoredValue::new(me),
            convs: RwSignal::new(Vec::new()),
            selected: RwSignal::new(None),
            session: Session::new(),
        }
    }

    /// The handle of conversation `id`.
    pub fn find(&self, id: ConversationId) -> Option<ConvHandle> {
        self.convs
            .with_untracked(|cs| cs.iter().find(|c| c.id == id).copied())
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
                self.session.outbox.send(ClientMsg::Read {
                    conversation: id,
                    seq: last,
                });
            }
        }
    }

    /// Marks `id` read if it is in front and the page is visible.
    pub fn mark_read_if_seen(&self, id: ConversationId) {
        if self.selected.get_untracked() == Some(id) && crate::chat::link::page_visible() {
            self.mark_read(id);
        }
    }

    /// Queues a reply in conversation `id`.
    pub fn send_text(&self, id: ConversationId, text: String) {
        if let Some(c) = self.find(id) {
            c.typer.stop();
            session::send_text(self, c.held(), Author::Agent, text);
        }
    }

    /// Queues a private note in conversation `id`: shown at once as
    /// pending, confirmed when the server echoes it (agents only).
    pub fn send_note(&self, id: ConversationId, text: String) {
        if let Some(c) = self.find(id) {
            c.typer.stop();
            let note = crate::chat::link::new_message_id();
            let now = crate::chat::link::now_ms();
            let me = self.me.with_value(|m| m.name.clone());
            c.thread
                .update(|t| t.push_pending_note(&note, &me, &text, now));
            self.session.outbox.send(ClientMsg::Note {
                id: note,
                conversation: id,
                text,
                resend: false,
            });
        }
    }

    /// Asks the server to hand conversation `id` to agent `to` (none: back
    /// to the queue), with an optional note for the receiver. Done, the
    /// tab goes when the conversation's new summary names someone else.
    pub fn transfer(&self, id: ConversationId, to: Option<AgentId>, note: Option<String>) {
        self.session.outbox.send(ClientMsg::Transfer {
            conversation: id,
            to,
            note,
        });
    }

    /// Whether `summary` is a conversation this agent serves now.
    fn serves(&self, summary: &ConversationSummary) -> bool {
        let me = self.me.with_value(|m| m.name.clone());
        summary.status == ConversationStatus::Assigned
            && summary
                .agent_name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(&me))
    }

    /// Asks the server to close conversation `id`.
    pub fn close(&self, id: ConversationId) {
        self.session
            .outbox
            .send(ClientMsg::Close { conversation: id });
    }

    /// Sends again what is still unacknowledged (see [`session::resend_pending`]).
    pub fn resend_pending(&self, min_age: f64) {
        session::resend_pending(self, min_age);
    }

    fn upsert(&self, summary: ConversationSummary) -> Option<Fetch> {
        let id = summary.id;
        // Closed, or handed to someone else (transferred, or back to the queue).
        if summary.status == ConversationStatus::Closed || !self.serves(&summary) {
            self.remove(id);
            return None;
        }
        if let Some(c) = self.find(id) {
            c.read_seq.update(|r| *r = (*r).max(summary.agent_read_seq));
            c.visitor_seen
                .update(|r| *r = (*r).max(summary.visitor_read_seq));
            c.summary.set(summary);
            return None;
        }
        let fetch = summary.last_seq > 0;
        if !self.served.with_value(|s| s.contains(&id)) {
            super::notify::new_conversation(self, &summary);
        }
        let handle = ConvHandle {
            id,
            read_seq: RwSignal::new(summary.agent_read_seq),
            visitor_seen: RwSignal::new(summary.visitor_read_seq),
            typing: TheirTyping::new(),
            typer: Typer::new(self.session.outbox, Some(id), false),
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

impl Threads for ConsoleState {
    fn session(&self) -> Session {
        self.session
    }

    fn threads(&self) -> Vec<Held> {
        self.convs
            .with_untracked(|cs| cs.iter().map(ConvHandle::held).collect())
    }

    /// Sends again the notes the server has not echoed (marked as resends).
    fn resend_notes(&self, now: f64, min_age: f64) {
        for held in self.threads() {
            let Some(conversation) = held.named else {
                continue;
            };
            let due = held
                .thread
                .try_update(|t| t.take_due_notes(now, min_age))
                .unwrap_or_default();
            for (id, text) in due {
                self.session.outbox.send(ClientMsg::Note {
                    id,
                    conversation,
                    text,
                    resend: true,
                });
            }
        }
    }

    /// Returns a history page to fetch: the newest of a conversation new to
    /// this page and not empty, or one that fills a gap a message left (see
    /// [`Thread::gap`]).
    fn apply(&self, msg: ServerMsg) -> Option<Fetch> {
        match msg {
            ServerMsg::Welcome { conversations, .. } => {
                if let Some(current) = conversations {
                    self.served.set_value(current.clone());
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
            }
            ServerMsg::Conversation { conversation } => return self.upsert(conversation),
            ServerMsg::Message { message } => {
                let id = message.conversation;
                let from_visitor = message.author == Author::Visitor;
                if let Some(c) = self.find(id) {
                    let text = if from_visitor {
                        message.text.clone()
                    } else {
                        String::new()
                    };
                    let (fresh, gap) = c
                        .thread
                        .try_update(|t| (t.merge(message), Fetch::gap(t)))
                        .unwrap_or((false, None));
                    if from_visitor {
                        c.typing.clear();
                        self.mark_read_if_seen(id);
                        if fresh {
                            super::notify::new_message(self, id, &text);
                        }
                    }
                    return gap;
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
            ServerMsg::PageViewed { conversation, page } => {
                self.pages.update(|p| {
                    p.insert(conversation, page);
                });
            }
            ServerMsg::Rated {
                conversation,
                rating,
            } => {
                self.ratings.update(|r| {
                    r.insert(conversation, rating);
                });
            }
            ServerMsg::Note { note } => {
                if let Some(c) = self.find(note.conversation) {
                    c.thread.update(|t| {
                        t.merge_note(note);
                    });
                }
            }
            ServerMsg::ReadUpTo { conversation, seq } => {
                if let Some(c) = self.find(conversation) {
                    c.read_seq.update(|r| *r = (*r).max(seq));
                }
            }
            ServerMsg::Typing {
                conversation,
                party: Party::Visitor,
                active,
                draft,
            } => {
                if let Some(c) = self.find(conversation) {
                    c.typing.show(active, draft);
                }
            }
            ServerMsg::Seen {
                conversation,
                party: Party::Visitor,
                seq,
            } => {
                if let Some(c) = self.find(conversation) {
                    c.visitor_seen.update(|r| *r = (*r).max(seq));
                }
            }
            ServerMsg::Presence { .. }
            | ServerMsg::Typing { .. }
            | ServerMsg::Seen { .. }
            | ServerMsg::Availability { .. }
            | ServerMsg::Ack { .. }
            | ServerMsg::Error { .. }
            | ServerMsg::Pong
            | ServerMsg::Unknown => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::session::{hello, load_history};
    use crate::chat::LinkStatus;
    use crate::protocol::{ConversationStatus, ConversationSummary};

    /// A console signed in as Ann, with conversation `id` open in a tab.
    fn console_with_tab(id: ConversationId) -> ConsoleState {
        let state = ConsoleState::new(AgentInfo {
            lang: None,
            id: AgentId(1),
            name: "Ann".into(),
            is_admin: false,
            capacity: 5,
            disabled: false,
            away: false,
            notify: false,
            away_after_idle_secs: None,
            online: None,
            load: None,
        });
        state.apply(ServerMsg::Conversation {
            conversation: ConversationSummary {
                id,
                status: ConversationStatus::Assigned,
                visitor_label: "Visitor 1".into(),
                visitor_number: 1,
                agent_name: Some("Ann".into()),
                visitor_online: true,
                agent_online: true,
                last_seq: 0,
                agent_read_seq: 0,
                visitor_read_seq: 0,
                queue_position: None,
                visitor_name: None,
                visitor_email: None,
                verified: false,
                rating: None,
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
        let after = |state: &ConsoleState| match hello(state) {
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
        let page = crate::api::HistoryPage {
            messages: vec![match message(2) {
                ServerMsg::Message { message } => message,
                _ => unreachable!(),
            }],
            more: true,
            notes: vec![],
            rating: None,
        };
        let thread = state.find(id).expect("the tab").thread;
        let fetch = Fetch {
            conversation: id,
            before: Some(3),
        };
        futures::executor::block_on(load_history(thread, fetch, |_| {
            std::future::ready(Ok::<_, ()>(Some(page.clone())))
        }))
        .expect("loads");
        let filled = thread.with_untracked(|t| t.gap());
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
        state.session.outbox.attach(tx);
        state.session.outbox.status.set(LinkStatus::Online);

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
