//! What the widget tells and learns of the other side: the visitor's read
//! position (stored by the server; it drives the launcher's unread count),
//! the agent's ("Seen" under the visitor's messages), and typing both ways.

use leptos::prelude::*;

use super::state::WidgetState;
use crate::protocol::{
    Author, ClientMsg, ConversationStatus, ConversationSummary, Party, ServerMsg,
};

impl WidgetState {
    /// Agent messages the visitor has not read.
    pub fn unread(&self) -> u32 {
        let read = self.read_seq.get();
        self.thread
            .with(|t| t.count_after(Author::Agent, read) as u32)
    }

    /// Tells the server the visitor has read everything shown, if the
    /// panel is open and the page visible.
    pub fn mark_read_if_seen(&self) {
        if !self.open.get_untracked() || !crate::chat::link::page_visible() {
            return;
        }
        let (conversation, last) = self
            .thread
            .with_untracked(|t| (t.conversation, t.last_seq()));
        if let Some(conversation) = conversation {
            if last > self.read_seq.get_untracked() {
                self.read_seq.set(last);
                self.session.outbox.send(ClientMsg::Read {
                    conversation,
                    seq: last,
                });
            }
        }
    }

    /// The visitor edited their message: the agent sees them typing (and,
    /// if the site allows, the draft) while an agent serves them.
    pub fn typed(&self, text: &str) {
        let assigned = self.conversation.with_untracked(|c| {
            c.as_ref()
                .is_some_and(|c| c.status == ConversationStatus::Assigned)
        });
        if assigned {
            self.typer.input(text);
        }
    }

    /// A conversation summary: its read marks (and, for a conversation
    /// new to this page, `fresh`, the old conversation's marks and typing
    /// go first).
    pub(super) fn marks_from(&self, summary: &ConversationSummary, fresh: bool) {
        if fresh {
            self.read_seq.set(0);
            self.agent_seen.set(0);
            self.agent_typing.clear();
        }
        self.read_seq
            .update(|r| *r = (*r).max(summary.visitor_read_seq));
        self.agent_seen
            .update(|r| *r = (*r).max(summary.agent_read_seq));
    }

    /// A `typing` or `seen` frame about the visitor's conversation.
    pub(super) fn other_side(&self, msg: ServerMsg) {
        let ours = |c| self.thread.with_untracked(|t| t.conversation) == Some(c);
        match msg {
            ServerMsg::Typing {
                conversation,
                party: Party::Agent,
                active,
                ..
            } if ours(conversation) => self.agent_typing.show(active, None),
            ServerMsg::Seen {
                conversation,
                party,
                seq,
            } if ours(conversation) => {
                let mark = match party {
                    Party::Agent => self.agent_seen,
                    Party::Visitor => self.read_seq,
                };
                mark.update(|r| *r = (*r).max(seq));
            }
            _ => {}
        }
    }
}
