//! The thread model's rules: order, gaps, resume points, pending and acked lines.

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

/// A tab's preview is the last thing a person said: the "Assigned to …"
/// notice that follows a message left while nobody was online is not it.
#[test]
fn the_preview_skips_system_events_and_notices() {
    let mut t = Thread::new(Some(ConversationId(1)));
    assert!(t.last_said().is_none());
    t.merge(msg("left while nobody was online", 1, Author::Visitor));
    let mut assigned = msg("assigned", 2, Author::System);
    assigned.text = String::new();
    assigned.event = Some(SystemEvent::Assigned {
        agent: "alice".into(),
    });
    t.merge(assigned);
    t.notice(Notice::VisitorLeft);
    assert_eq!(
        t.last_said().map(|e| e.text.as_str()),
        Some("left while nobody was online")
    );
    t.merge(msg("an agent's reply", 3, Author::Agent));
    assert_eq!(
        t.last_said().map(|e| e.text.as_str()),
        Some("an agent's reply")
    );
}

fn note(id: &str, after_seq: i64) -> ChatNote {
    ChatNote {
        id: MessageId(id.into()),
        conversation: ConversationId(1),
        after_seq,
        author_name: "Ann".into(),
        text: id.into(),
        sent_at: 1,
    }
}

/// Notes sit after the message they are anchored to, take no seq (no gap,
/// no resume point), are never resent as messages nor previewed, and a
/// repeated one (live, then in a history page) shows once.
#[test]
fn notes_sit_after_their_anchor_and_never_pass_for_messages() {
    let mut t = Thread::new(Some(ConversationId(1)));
    t.merge(msg("a", 1, Author::Visitor));
    t.merge(msg("c", 3, Author::Visitor));
    assert!(t.merge_note(note("n1", 1)));
    t.push_pending_note(&MessageId("mine".into()), "Ann", "mine", 5.0);
    t.merge(msg("b", 2, Author::Agent));
    assert_eq!(texts(&t), ["a", "n1", "b", "c", "mine"]);
    assert!(!t.merge_note(note("n1", 1)), "shown once");
    assert_eq!((t.gap(), t.resume_after()), (None, 3));
    assert!(
        t.pending().is_empty(),
        "a note is never resent as a message"
    );
    assert!(t.take_due(10.0, 0.0).is_empty());
    assert_eq!(
        t.take_due_notes(10.0, 0.0),
        [(MessageId("mine".into()), "mine".to_owned())]
    );
    assert_eq!(t.last_said().map(|e| e.key.as_str()), Some("c"));

    // The server's echo confirms our note in its place.
    t.merge_note(note("mine", 2));
    assert_eq!(texts(&t), ["a", "n1", "b", "mine", "c"]);
    let mine = &t.entries()[3];
    assert!(mine.note && mine.own && mine.delivery == Delivery::Sent);
    assert!(t.take_due_notes(20.0, 0.0).is_empty());
}
