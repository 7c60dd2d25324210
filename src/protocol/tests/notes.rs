//! Golden tests for private notes and transfers (issue 13).

use super::pin;
use crate::protocol::*;
use serde_json::json;

#[test]
fn note_and_transfer_frames_have_pinned_json() {
    pin(
        ClientMsg::Note {
            id: MessageId("n".into()),
            conversation: ConversationId(3),
            text: "VIP".into(),
            resend: false,
        },
        json!({"type":"note","data":{"id":"n","conversation":3,"text":"VIP"}}),
    );
    pin(
        ClientMsg::Note {
            id: MessageId("n".into()),
            conversation: ConversationId(3),
            text: "VIP".into(),
            resend: true,
        },
        json!({"type":"note","data":{"id":"n","conversation":3,"text":"VIP","resend":true}}),
    );
    pin(
        ClientMsg::Transfer {
            conversation: ConversationId(3),
            to: Some(AgentId(2)),
            note: Some("wants a refund".into()),
        },
        json!({"type":"transfer","data":{"conversation":3,"to":2,"note":"wants a refund"}}),
    );
    pin(
        ClientMsg::Transfer {
            conversation: ConversationId(3),
            to: None,
            note: None,
        },
        json!({"type":"transfer","data":{"conversation":3}}),
    );
    pin(
        ServerMsg::Note {
            note: ChatNote {
                id: MessageId("n".into()),
                conversation: ConversationId(3),
                after_seq: 4,
                author_name: "Ann".into(),
                text: "VIP".into(),
                sent_at: 9,
            },
        },
        json!({"type":"note","data":{"note":{"id":"n","conversation":3,"after_seq":4,"author_name":"Ann","text":"VIP","sent_at":9}}}),
    );
    pin(
        ServerMsg::error(ErrorCode::AgentAtCapacity, None),
        json!({"type":"error","data":{"code":"agent_at_capacity","message":"agent_at_capacity"}}),
    );
    pin(
        SystemEvent::Transferred { agent: "Bo".into() },
        json!({"kind":"transferred","agent":"Bo"}),
    );
    pin(
        SystemEvent::Returned {
            agent: "Ann".into(),
        },
        json!({"kind":"returned","agent":"Ann"}),
    );
}

/// A history page without notes reads and writes as before; an older
/// build skips a note frame as unknown.
#[test]
fn notes_are_additive() {
    pin(
        HistoryPage {
            messages: vec![],
            more: false,
            notes: vec![],
            rating: None,
        },
        json!({"messages":[],"more":false}),
    );
    let old: ServerMsg = serde_json::from_str(r#"{"type":"from_the_future"}"#).expect("parses");
    assert_eq!(old, ServerMsg::Unknown);
}
