//! One conversation as a client holds it: stored messages in seq order,
//! own messages still pending, and transient notices, merged so that the
//! same message arriving twice (replay, history and live) shows once.

use crate::protocol::{Author, ChatMessage, ConversationId, ErrorCode, MessageId, SystemEvent};

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
    /// Whether this client wrote it.
    pub own: bool,
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
            .filter(|e| e.own && e.delivery == Delivery::Pending)
            .map(|e| (MessageId(e.key.clone()), e.text.clone()))
            .collect()
    }

    /// Own messages still unacknowledged that were last sent at least
    /// `min_age` ms before `now`, oldest first; they count as sent again now.
    pub fn take_due(&mut self, now: f64, min_age: f64) -> Vec<(MessageId, String)> {
        self.entries
            .iter_mut()
            .filter(|e| e.own && e.delivery == Delivery::Pending)
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

    /// The newest message's text or event, for previews.
    pub fn last_message(&self) -> Option<&Entry> {
        self.entries.iter().rev().find(|e| e.notice.is_none())
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
            own: false,
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
            own: true,
            anchor: i64::MAX,
            local,
            tried_at: now,
        });
        self.sort();
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
            own: false,
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
mod tests {
    use super::*;

    fn msg(id: &str, seq: i64, author: Author) -> ChatMessage {
        ChatMessage {
            id: MessageId(id.into()),
            conversation: ConversationId(1),
            seq,
            author,
            author_name: None,
            text: id.into(),
            event: None,
            sent_at: 0,
        }
    }

    fn texts(t: &Thread) -> Vec<String> {
        t.entries().iter().map(|e| e.key.clone()).collect()
    }

    #[test]
    fn out_of_order_and_repeated_messages_show_once_in_seq_order() {
        let mut t = Thread::new(Some(ConversationId(1)));
        assert!(t.merge(msg("b", 2, Author::Agent)));
        assert!(t.merge(msg("a", 1, Author::Visitor)));
        assert!(!t.merge(msg("b", 2, Author::Agent)));
        assert_eq!(texts(&t), ["a", "b"]);
        assert_eq!(t.last_seq(), 2);
    }

    #[test]
    fn history_pages_go_above_live_messages_and_say_whether_more_remain() {
        let mut t = Thread::new(Some(ConversationId(1)));
        t.merge(msg("live", 7, Author::Agent));
        let newest = vec![
            msg("e", 5, Author::Agent),
            msg("f", 6, Author::Visitor),
            msg("live", 7, Author::Agent),
        ];
        assert_eq!(t.merge_page(newest, true), 2);
        assert!(t.more_before);
        assert_eq!(t.first_seq(), Some(5));
        let older = vec![msg("c", 3, Author::Agent), msg("d", 4, Author::Agent)];
        assert_eq!(t.merge_page(older, false), 2);
        assert!(!t.more_before);
        assert_eq!(texts(&t), ["c", "d", "e", "f", "live"]);
        t.switch_to(ConversationId(2));
        assert!(!t.more_before && t.first_seq().is_none());
    }

    /// A message that arrives after a later one leaves a gap until it does:
    /// a reconnect meanwhile resumes below the gap, and the gap says which
    /// history page fills it; a page that fills a gap leaves `more_before` be.
    #[test]
    fn resume_stops_below_a_gap_and_the_gap_names_the_page_that_fills_it() {
        let mut t = Thread::new(Some(ConversationId(1)));
        assert_eq!((t.resume_after(), t.gap()), (0, None));
        let page: Vec<ChatMessage> = (11..=20)
            .map(|s| msg(&format!("m{s}"), s, Author::Agent))
            .collect();
        t.merge_page(page, true);
        assert_eq!((t.resume_after(), t.gap()), (20, None));
        t.push_pending(&MessageId("mine".into()), Author::Visitor, "mine", 0.0);
        t.merge(msg("m24", 24, Author::Agent));
        t.merge(msg("m26", 26, Author::Agent));
        assert_eq!(t.last_seq(), 26);
        assert_eq!((t.resume_after(), t.gap()), (20, Some(24)));
        t.merge_page(
            (21..=23)
                .map(|s| msg(&format!("m{s}"), s, Author::Agent))
                .collect(),
            true,
        );
        assert!(
            t.more_before,
            "a gap's page says nothing of what is before 11"
        );
        assert_eq!((t.resume_after(), t.gap()), (24, Some(26)));
        t.ack(&MessageId("mine".into()), 25);
        assert_eq!((t.resume_after(), t.gap()), (26, None));
        t.merge_page(
            (1..=10)
                .map(|s| msg(&format!("m{s}"), s, Author::Agent))
                .collect(),
            false,
        );
        assert!(!t.more_before);
        assert_eq!(t.first_seq(), Some(1));
    }

    #[test]
    fn pending_messages_sit_last_until_acked_then_take_their_place() {
        let mut t = Thread::new(Some(ConversationId(1)));
        t.merge(msg("a", 1, Author::Agent));
        t.push_pending(&MessageId("mine".into()), Author::Visitor, "mine", 0.0);
        t.merge(msg("c", 2, Author::Agent));
        assert_eq!(texts(&t), ["a", "c", "mine"]);
        assert_eq!(t.pending().len(), 1);
        t.ack(&MessageId("mine".into()), 3);
        assert!(t.pending().is_empty());
        // Our own message coming back (a replay after a reconnect) does not duplicate it.
        assert!(!t.merge(msg("mine", 3, Author::Visitor)));
        assert_eq!(texts(&t), ["a", "c", "mine"]);
    }

    #[test]
    fn unacknowledged_messages_come_due_for_retry_in_order() {
        let mut t = Thread::new(Some(ConversationId(1)));
        t.push_pending(&MessageId("a".into()), Author::Visitor, "a", 1_000.0);
        t.push_pending(&MessageId("b".into()), Author::Visitor, "b", 2_500.0);
        assert!(t.take_due(3_000.0, 3_000.0).is_empty());
        let due: Vec<String> = t
            .take_due(4_000.0, 3_000.0)
            .into_iter()
            .map(|(_, x)| x)
            .collect();
        assert_eq!(due, ["a"]);
        let all: Vec<String> = t
            .take_due(4_000.0, 0.0)
            .into_iter()
            .map(|(_, x)| x)
            .collect();
        assert_eq!(all, ["a", "b"]);
        t.ack(&MessageId("a".into()), 1);
        assert_eq!(t.take_due(100_000.0, 0.0).len(), 1);
    }

    #[test]
    fn notices_stay_after_the_message_they_followed() {
        let mut t = Thread::new(Some(ConversationId(1)));
        t.merge(msg("a", 1, Author::Agent));
        t.notice(Notice::VisitorLeft);
        t.merge(msg("b", 2, Author::Agent));
        assert_eq!(t.entries()[1].notice, Some(Notice::VisitorLeft));
        assert_eq!(t.entries()[2].key, "b");
        assert_eq!(t.count_after(Author::Agent, 1), 1);
    }

    #[test]
    fn switching_conversation_keeps_only_pending() {
        let mut t = Thread::new(Some(ConversationId(1)));
        t.merge(msg("a", 1, Author::Agent));
        t.push_pending(&MessageId("p".into()), Author::Visitor, "p", 0.0);
        t.switch_to(ConversationId(2));
        assert_eq!(texts(&t), ["p"]);
    }
}
