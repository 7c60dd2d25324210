//! How long a visitor waits for a person: from their first message in a
//! conversation to the first agent's reply, measured once per conversation
//! (for `kefu_first_response_seconds`) from the messages' stored times.

use crate::protocol::Author;

/// Where a conversation stands in its first wait.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) enum FirstWait {
    /// Nobody has written yet.
    #[default]
    Unasked,
    /// The visitor wrote first, at this time (ms); no agent has answered.
    Waiting(i64),
    /// Answered, or not measurable (an agent wrote first, or the
    /// conversation was already under way when the server started).
    Done,
}

impl FirstWait {
    /// Takes a stored message into account; returns the wait in seconds when
    /// this message is the first agent reply to a waiting visitor.
    pub(super) fn note(&mut self, author: Author, sent_at: i64) -> Option<f64> {
        match (*self, author) {
            (FirstWait::Unasked, Author::Visitor) => {
                *self = FirstWait::Waiting(sent_at);
                None
            }
            (FirstWait::Unasked, Author::Agent) => {
                *self = FirstWait::Done;
                None
            }
            (FirstWait::Waiting(asked), Author::Agent) => {
                *self = FirstWait::Done;
                Some((sent_at - asked).max(0) as f64 / 1000.0)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_agent_reply_to_a_visitor_counts() {
        let mut w = FirstWait::default();
        assert_eq!(w.note(Author::System, 1), None);
        assert_eq!(w.note(Author::Visitor, 1_000), None);
        assert_eq!(w.note(Author::Visitor, 2_000), None);
        assert_eq!(w.note(Author::Agent, 3_500), Some(2.5));
        assert_eq!(w.note(Author::Visitor, 4_000), None);
        assert_eq!(w.note(Author::Agent, 5_000), None);
        let mut proactive = FirstWait::default();
        assert_eq!(proactive.note(Author::Agent, 1), None);
        assert_eq!(proactive.note(Author::Visitor, 2), None);
        assert_eq!(proactive.note(Author::Agent, 3), None);
    }
}
