//! One conversation as a client holds it: stored messages in seq order,
//! own messages still pending, and transient notices, merged so that the
//! same message arriving twice (replay, history and live) shows once.

use crate::protocol::{
    Author, ChatMessage, ChatNote, ConversationId, ErrorCode, MessageId, SystemEvent,
};

/// A presence change shown in the list but not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// The visitor's last connection closed.
    VisitorLeft,
    /// The visitor is connected again.
    VisitorBack,
    /// The serving agent went offline.
    AgentOffline,
    /// The serving agent is back.
    AgentBack,
}

/// Where one of our own messages stands.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Delivery {
    /// Sent, not yet acknowledged (or waiting for the connection).
    Pending,
    /// Stored by the server.
    Sent,
    /// Refused by the server, for this reason (shown in the UI's words).
    Failed(ErrorCode),
}

/// One line of the message list.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Stable key for the list: the message id, or `notice-N`.
    pub key: String,
    /// Server order; `None` while pending, and for notices.
    pub seq: Option<i64>,
    /// Who wrote it; notices are `System`.
    pub author: Author,
    /// The agent's name for agent messages.
    pub author_name: Option<String>,
    /// The text (shown as text, never as HTML).
    pub text: String,
    /// A stored system event.
    pub event: Option<SystemEvent>,
    /// A transient notice.
    pub notice: Option<Notice>,
    /// Delivery state (own messages).
    pub delivery: Delivery,
    /// When it was sent (ms since the epoch; the server's time once
    /// stored, the browser's while pending); 0 for notices.
    pub at: f64,
    /// Whether this client wrote it.
    pub own: bool,
    /// A private note (agents only): shown after the message it is
    /// anchored to, never sent as a message.
    pub note: bool,
    /// Where notices and pending messages sort: after this seq.
    anchor: i64,
    /// Tie-breaker among entries with the same anchor.
    local: u64,
    /// When we last sent it (ms since the epoch; own pending messages).
    tried_at: f64,
}

impl Entry {
    fn sort_key(&self) -> (i64, u8, u64) {
        match self.seq {
            Some(seq) => (seq, 0, 0),
            None => (self.anchor, 1, self.local),
        }
    }
}

/// A conversation's lines, always in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Thread {
    /// The conversation these lines belong to, once known.
    pub conversation: Option<ConversationId>,
    /// Whether the server holds older messages than the oldest one here
    /// (set from the last history page merged).
    pub more_before: bool,
    entries: Vec<Entry>,
    next_local: u64,
}

impl Thread {
    /// An empty thread for `conversation`.
    pub fn new(conversation: Option<ConversationId>) -> Self {
        Self {
            conversation,
            ..Self::default()
        }
    }

    /// The lines, in display order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The highest stored seq held.
    pub fn last_seq(&self) -> i64 {
        self.entries.iter().filter_map(|e| e.seq).max().unwrap_or(0)
    }

    /// Where to resume after a reconnect: the highest seq up to which every
    /// message from the oldest one held is held (0 when none is). Resuming
    /// from the highest seq held instead would skip for good a message that
    /// had not arrived when a later one did.
    pub fn resume_after(&self) -> i64 {
        let mut seqs = self.entries.iter().filter_map(|e| e.seq);
        let Some(mut upto) = seqs.next() else {
            return 0;
        };
        for seq in seqs {
            if seq > upto + 1 {
                break;
            }
            upto = upto.max(seq);
        }
        upto
    }

    /// The first hole among the seqs held (above the oldest one held): the
    /// seq just after it, so that the history page before that seq fills
    /// it (or its newest part, if it is longer than a page).
    pub fn gap(&self) -> Option<i64> {
        let upto = self.resume_after();
        self.entries
            .iter()
            .filter_map(|e| e.seq)
            .find(|&seq| seq > upto + 1)
    }

    /// The lowest stored seq held, if any.
    pub fn first_seq(&self) -> Option<i64> {
        self.entries.iter().filter_map(|e| e.seq).min()
    }

    /// Own messages not yet acknowledged, oldest first: (id, text).
    pub fn pending(&self) -> Vec<(MessageId, String)> {
        self.entries
            .iter()
            .filter(|e| e.own && !e.note && e.delivery == Delivery::Pending)
            .map(|e| (MessageId(e.key.clone()), e.text.clone()))
            .collect()
    }

    /// Own messages still unacknowledged that were last sent at least
    /// `min_age` ms before `now`, oldest first; they count as sent again now.
    pub fn take_due(&mut self, now: f64, min_age: f64) -> Vec<(MessageId, String)> {
        self.take_due_of(now, min_age, false)
    }

    /// Own notes still unconfirmed, as [`Thread::take_due`] for messages.
    pub fn take_due_notes(&mut self, now: f64, min_age: f64) -> Vec<(MessageId, String)> {
        self.take_due_of(now, min_age, true)
    }

    fn take_due_of(&mut self, now: f64, min_age: f64, notes: bool) -> Vec<(MessageId, String)> {
        self.entries
            .iter_mut()
            .filter(|e| e.own && e.note == notes && e.delivery == Delivery::Pending)
            .filter(|e| e.tried_at == f64::MAX || now - e.tried_at >= min_age)
            .map(|e| {
                e.tried_at = now;
                (MessageId(e.key.clone()), e.text.clone())
            })
            .collect()
    }

    /// Stored messages by `author` after `seq`.
    pub fn count_after(&self, author: Author, seq: i64) -> usize {
        self.entries
            .iter()
            .filter(|e| e.author == author && e.seq.is_some_and(|s| s > seq))
            .count()
    }

    /// The newest message a person wrote (visitor or agent, pending ones
    /// included), for previews: never a system event or a notice.
    pub fn last_said(&self) -> Option<&Entry> {
        self.entries.iter().rev().find(|e| {
            e.notice.is_none() && e.event.is_none() && !e.note && e.author != Author::System
        })
    }

    fn bump(&mut self) -> u64 {
        self.next_local += 1;
        self.next_local
    }

    fn sort(&mut self) {
        self.entries.sort_by_key(Entry::sort_key);
    }

    /// Adds a stored message; returns false if it was already there.
    pub fn merge(&mut self, message: ChatMessage) -> bool {
        let added = self.insert(message);
        self.sort();
        added
    }

    /// Adds a page of history (any order) in one pass; `more` says whether
    /// the server holds older messages than the page's. That becomes
    /// [`Thread::more_before`] only for a page that reaches the oldest
    /// message held (a page filling a [`Thread::gap`] does not). Returns how
    /// many were new.
    pub fn merge_page(&mut self, messages: Vec<ChatMessage>, more: bool) -> usize {
        let oldest = self.first_seq();
        let reaches = match (oldest, messages.iter().map(|m| m.seq).min()) {
            (Some(held), Some(page)) => page <= held,
            _ => true,
        };
        let mut added = 0;
        for m in messages {
            added += usize::from(self.insert(m));
        }
        if reaches {
            self.more_before = more;
        }
        self.sort();
        added
    }

    /// Adds or confirms one message without re-sorting.
    fn insert(&mut self, message: ChatMessage) -> bool {
        if let Some(existing) = self.entries.iter_mut().find(|e| e.key == message.id.0) {
            if existing.seq.is_none() {
                existing.seq = Some(message.seq);
                existing.delivery = Delivery::Sent;
            }
            return false;
        }
        if self.entries.iter().any(|e| e.seq == Some(message.seq)) {
            return false;
        }
        let local = self.bump();
        self.entries.push(Entry {
            key: message.id.0,
            seq: Some(message.seq),
            author: message.author,
            author_name: message.author_name,
            text: message.text,
            event: message.event,
            notice: None,
            delivery: Delivery::Sent,
            at: message.sent_at as f64,
            own: false,
            note: false,
            anchor: message.seq,
            local,
            tried_at: 0.0,
        });
        true
    }

    /// Adds one of our own messages, pending until acknowledged; `now` is
    /// when it is first sent (ms since the epoch).
    pub fn push_pending(&mut self, id: &MessageId, author: Author, text: &str, now: f64) {
        let local = self.bump();
        self.entries.push(Entry {
            key: id.0.clone(),
            seq: None,
            author,
            author_name: None,
            text: text.to_owned(),
            event: None,
            notice: None,
            delivery: Delivery::Pending,
            at: now,
            own: true,
            note: false,
            anchor: i64::MAX,
            local,
            tried_at: now,
        });
        self.sort();
    }

    /// Adds one of our own private notes, unconfirmed until the server
    /// echoes it; `now` is when it is first sent (ms since the epoch).
    pub fn push_pending_note(&mut self, id: &MessageId, author_name: &str, text: &str, now: f64) {
        self.push_pending(id, Author::Agent, text, now);
        if let Some(e) = self.entries.iter_mut().find(|e| e.key == id.0) {
            e.note = true;
            e.author_name = Some(author_name.to_owned());
        }
    }

    /// Adds a stored private note after the message it is anchored to, or
    /// confirms our own; returns false if it was already there.
    pub fn merge_note(&mut self, note: ChatNote) -> bool {
        if let Some(e) = self.entries.iter_mut().find(|e| e.key == note.id.0) {
            e.delivery = Delivery::Sent;
            e.anchor = note.after_seq;
            e.at = note.sent_at as f64;
            self.sort();
            return false;
        }
        let local = self.bump();
        self.entries.push(Entry {
            key: note.id.0,
            seq: None,
            author: Author::Agent,
            author_name: Some(note.author_name),
            text: note.text,
            event: None,
            notice: None,
            delivery: Delivery::Sent,
            at: note.sent_at as f64,
            own: false,
            note: true,
            anchor: note.after_seq,
            local,
            tried_at: 0.0,
        });
        self.sort();
        true
    }

    /// Whether this thread shows a message with this id.
    pub fn holds(&self, id: &MessageId) -> bool {
        self.entries.iter().any(|e| e.key == id.0)
    }

    /// Our message `id` is stored as `seq`.
    pub fn ack(&mut self, id: &MessageId, seq: i64) {
        if let Some(e) = self.entries.iter_mut().find(|e| e.key == id.0) {
            e.seq = Some(seq);
            e.delivery = Delivery::Sent;
            self.sort();
        }
    }

    /// Our message `id` was refused.
    pub fn fail(&mut self, id: &MessageId, reason: ErrorCode) -> bool {
        match self
            .entries
            .iter_mut()
            .find(|e| e.key == id.0 && e.seq.is_none())
        {
            Some(e) => {
                e.delivery = Delivery::Failed(reason);
                true
            }
            None => false,
        }
    }

    /// Shows a presence notice after the newest stored message.
    pub fn notice(&mut self, notice: Notice) {
        let local = self.bump();
        let anchor = self.last_seq();
        self.entries.push(Entry {
            key: format!("notice-{local}"),
            seq: None,
            author: Author::System,
            author_name: None,
            text: String::new(),
            event: None,
            notice: Some(notice),
            delivery: Delivery::Sent,
            at: 0.0,
            own: false,
            note: false,
            anchor,
            local,
            tried_at: 0.0,
        });
        self.sort();
    }

    /// Starts over for another conversation, keeping own pending messages.
    pub fn switch_to(&mut self, conversation: ConversationId) {
        if self.conversation != Some(conversation) {
            self.conversation = Some(conversation);
            self.more_before = false;
            self.entries
                .retain(|e| e.own && e.delivery == Delivery::Pending);
        }
    }
}

#[cfg(test)]
mod tests;
