//! The widget's reactive state: one thread, and how each server message
//! that the shared session leaves to it changes that state.

use leptos::prelude::*;

#[cfg(feature = "hydrate")]
use super::embed::ToHost;
use super::embed::{Embed, HostPage, Identity};
use crate::chat::session::{self, Held, Session, Threads};
use crate::chat::{Fetch, Notice, TheirTyping, Thread, Typer};
use crate::protocol::{
    Author, ClientMsg, ConversationStatus, ConversationSummary, Party, ServerMsg,
};

/// Where the visitor's token is kept in localStorage (kefu's origin; in an
/// iframe, the browser keeps it apart per host site).
pub const TOKEN_KEY: &str = "kefu.visitor_token";
/// Set in localStorage once the visitor filled in the pre-chat form.
pub const PRECHAT_KEY: &str = "kefu.prechat_done";
/// `off` in localStorage once the visitor muted the widget's sound.
pub const SOUND_KEY: &str = "kefu.sound";

/// Everything the widget shows.
#[derive(Clone, Copy)]
pub struct WidgetState {
    /// Whether the panel is open.
    pub open: RwSignal<bool>,
    /// How far the visitor has read (stored by the server: agent messages
    /// after it count as unread, on every tab and after a reload).
    pub read_seq: RwSignal<i64>,
    /// How far the agent has seen the conversation ("Seen").
    pub agent_seen: RwSignal<i64>,
    /// The agent typing.
    pub agent_typing: TheirTyping,
    /// The visitor's own typing frames.
    pub typer: Typer,
    /// Whether any agent is online (None until known).
    pub agents_online: RwSignal<Option<bool>>,
    /// Outside business hours: when the team is back (unix ms). Set only
    /// after hydration (the words are the browser's, in the visitor's zone).
    pub back_at: RwSignal<Option<i64>>,
    /// The visitor's current (or last) conversation.
    pub conversation: RwSignal<Option<ConversationSummary>>,
    /// Its lines.
    pub thread: RwSignal<Thread>,
    /// The socket, and a refusal that belongs to no message.
    pub session: Session,
    /// The host page, when the widget is embedded in one.
    pub embed: StoredValue<Option<Embed>>,
    /// What the site said about the visitor (`kefu('identify', …)`).
    pub identity: RwSignal<Option<Identity>>,
    /// The pre-chat form is to be filled in before a conversation starts.
    pub prechat_pending: RwSignal<bool>,
    /// Embedded: the values the host page keeps for the widget.
    pub host_saved: StoredValue<Vec<(String, String)>>,
    /// The visitor muted the chime that an agent's reply plays while the
    /// page is hidden.
    pub muted: RwSignal<bool>,
    /// The page the visitor is on (the host page when embedded), told to
    /// the server at each (re)connect and change.
    pub page: StoredValue<Option<HostPage>>,
}

impl WidgetState {
    /// Empty state, for a widget embedded in `embed` (if any).
    pub fn new(embed: Option<Embed>) -> Self {
        let session = Session::new();
        Self {
            embed: StoredValue::new(embed),
            identity: RwSignal::new(None),
            prechat_pending: RwSignal::new(false),
            host_saved: StoredValue::new(Vec::new()),
            muted: RwSignal::new(false),
            page: StoredValue::new(None),
            open: RwSignal::new(false),
            read_seq: RwSignal::new(0),
            agent_seen: RwSignal::new(0),
            agent_typing: TheirTyping::new(),
            typer: Typer::new(session.outbox, None, true),
            agents_online: RwSignal::new(None),
            back_at: RwSignal::new(None),
            conversation: RwSignal::new(None),
            thread: RwSignal::new(Thread::default()),
            session,
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

    /// Opens the panel; asks for a conversation when none is open.
    pub fn open_panel(&self) {
        self.open.set(true);
        self.mark_read_if_seen();
        self.start_if_wanted();
    }

    /// Asks for a conversation if the panel is open, none is, and an agent
    /// is online to take it.
    fn start_if_wanted(&self) {
        if self.open.get_untracked()
            && !self.prechat_pending.get_untracked()
            && !self.has_open_conversation()
            && self.agents_online.get_untracked() == Some(true)
        {
            self.session.outbox.send(ClientMsg::Start);
        }
    }

    /// The pre-chat form was sent: remembers it in this browser, and
    /// starts the chat if wanted.
    pub fn give_profile(&self, name: Option<String>, email: Option<String>) {
        if name.is_some() || email.is_some() {
            self.session.outbox.send(ClientMsg::Profile { name, email });
        }
        self.save(PRECHAT_KEY, "1");
        self.prechat_pending.set(false);
        self.start_if_wanted();
    }

    /// Unsigned details the site gave with `kefu('identify', …)` (no
    /// signed token): they label the visitor for agents, nothing more.
    fn tell_unsigned_details(&self) {
        let details = self.identity.with_untracked(|i| {
            i.as_ref()
                .filter(|i| i.token.is_none() && (i.name.is_some() || i.email.is_some()))
                .map(|i| (i.name.clone(), i.email.clone()))
        });
        if let Some((name, email)) = details {
            self.session.outbox.send(ClientMsg::Profile { name, email });
        }
    }

    /// Queues a message typed by the visitor.
    pub fn send_text(&self, text: String) {
        self.typer.stop();
        session::send_text(self, self.held(), Author::Visitor, text);
    }

    /// Sends again what is still unacknowledged (see [`session::resend_pending`]).
    pub fn resend_pending(&self, min_age: f64) {
        session::resend_pending(self, min_age);
    }

    fn held(&self) -> Held {
        Held {
            named: None,
            thread: self.thread,
        }
    }
}

impl Threads for WidgetState {
    fn session(&self) -> Session {
        self.session
    }

    fn threads(&self) -> Vec<Held> {
        vec![self.held()]
    }

    fn token(&self) -> Option<String> {
        self.saved(TOKEN_KEY)
    }

    fn identity(&self) -> Option<String> {
        self.identity
            .with_untracked(|i| i.as_ref().and_then(|i| i.token.clone()))
    }

    /// Returns a history page to fetch: the newest of a conversation we
    /// switched to that already has messages, or one that fills a gap the
    /// message left (see [`Thread::gap`]).
    fn apply(&self, msg: ServerMsg) -> Option<Fetch> {
        match msg {
            ServerMsg::Welcome { agents_online, .. } => {
                self.agents_online.set(Some(agents_online));
                self.tell_unsigned_details();
                self.tell_page();
                self.start_if_wanted();
            }
            ServerMsg::Availability {
                agents_online,
                back_at,
            } => {
                self.agents_online.set(Some(agents_online));
                self.back_at.set(back_at);
                self.start_if_wanted();
            }
            ServerMsg::Conversation { conversation } => {
                let id = conversation.id;
                let known = self.thread.with_untracked(|t| t.conversation == Some(id));
                let fetch = !known && conversation.last_seq > 0;
                if !known {
                    self.thread.update(|t| t.switch_to(id));
                }
                self.marks_from(&conversation, !known);
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
                #[cfg(feature = "hydrate")]
                let (message_name, message_text) = (
                    message.author_name.clone().unwrap_or_default(),
                    message.text.clone(),
                );
                let (added, gap) = self
                    .thread
                    .try_update(|t| {
                        if t.conversation.is_none() {
                            t.switch_to(message.conversation);
                        }
                        (t.merge(message), Fetch::gap(t))
                    })
                    .unwrap_or((false, None));
                if from_agent {
                    self.agent_typing.clear();
                    self.mark_read_if_seen();
                }
                #[cfg(not(feature = "hydrate"))]
                let _ = added;
                #[cfg(feature = "hydrate")]
                if added && from_agent {
                    if !crate::chat::link::page_visible() && !self.muted.get_untracked() {
                        crate::client::sound::chime(&[587.0, 784.0], 0.14, 0.12);
                    }
                    self.tell_host(&ToHost::Message {
                        name: message_name,
                        text: message_text,
                    });
                }
                return gap;
            }
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
            msg @ (ServerMsg::Typing { .. } | ServerMsg::Seen { .. }) => self.other_side(msg),
            ServerMsg::Presence { .. }
            | ServerMsg::Ack { .. }
            | ServerMsg::Error { .. }
            | ServerMsg::ReadUpTo { .. }
            | ServerMsg::PageViewed { .. }
            // Never sent to a visitor (agents only).
            | ServerMsg::Note { .. }
            | ServerMsg::Rated { .. }
            | ServerMsg::Pong
            | ServerMsg::Unknown => {}
        }
        None
    }
}

impl WidgetState {
    /// A value the widget saved for this visitor: in localStorage on
    /// kefu's own pages; embedded, in the host page's storage (see
    /// [`super::embed`] for why).
    pub fn saved(&self, key: &str) -> Option<String> {
        if self.embed.with_value(Option::is_some) {
            return self
                .host_saved
                .with_value(|saved| saved.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()));
        }
        #[cfg(feature = "hydrate")]
        {
            crate::client::local_storage().and_then(|s| s.get_item(key).ok().flatten())
        }
        #[cfg(not(feature = "hydrate"))]
        {
            None
        }
    }

    /// Saves a value for this visitor (see [`WidgetState::saved`]).
    pub fn save(&self, key: &str, value: &str) {
        if self.embed.with_value(Option::is_some) {
            self.host_saved.update_value(|saved| {
                saved.retain(|(k, _)| k != key);
                saved.push((key.to_owned(), value.to_owned()));
            });
            #[cfg(feature = "hydrate")]
            self.tell_host(&ToHost::Save {
                key: key.to_owned(),
                value: value.to_owned(),
            });
        } else {
            #[cfg(feature = "hydrate")]
            if let Some(storage) = crate::client::local_storage() {
                let _ = storage.set_item(key, value);
            }
        }
    }

    /// Tells the host page `msg`, when embedded (browser only).
    #[cfg(feature = "hydrate")]
    pub fn tell_host(&self, msg: &ToHost) {
        self.embed.with_value(|embed| {
            if let Some(embed) = embed {
                crate::client::host::post(embed, msg);
            }
        });
    }
}

impl Default for WidgetState {
    fn default() -> Self {
        Self::new(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::session::hello;
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
        let state = WidgetState::default();
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
        let ClientMsg::Hello { resume, .. } = hello(&state) else {
            panic!("hello");
        };
        assert_eq!(resume.len(), 1);
        assert_eq!(resume[0].after, 2, "resumes below the gap");
        assert_eq!(state.apply(message(3)), None);
        let ClientMsg::Hello { resume, .. } = hello(&state) else {
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
        let state = WidgetState::default();
        let (tx, mut rx) = futures::channel::mpsc::unbounded();
        state.session.outbox.attach(tx);
        state.session.outbox.status.set(LinkStatus::Online);

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
