//! Golden tests for what agents see of each other and of the visitor
//! while they chat (issue 13): typing, read positions, status and load.

use super::pin;
use crate::protocol::*;
use serde_json::json;

/// Typing and read positions (issue 13): new frames, one new summary field.
#[test]
fn typing_and_seen_have_pinned_json() {
    pin(
        ClientMsg::Typing {
            conversation: None,
            active: true,
            draft: Some("where is my ord".into()),
        },
        json!({"type":"typing","data":{"active":true,"draft":"where is my ord"}}),
    );
    pin(
        ClientMsg::Typing {
            conversation: Some(ConversationId(3)),
            active: false,
            draft: None,
        },
        json!({"type":"typing","data":{"conversation":3,"active":false}}),
    );
    pin(
        ServerMsg::Typing {
            conversation: ConversationId(3),
            party: Party::Visitor,
            active: true,
            draft: Some("hel".into()),
        },
        json!({"type":"typing","data":{"conversation":3,"party":"visitor","active":true,"draft":"hel"}}),
    );
    pin(
        ServerMsg::Typing {
            conversation: ConversationId(3),
            party: Party::Agent,
            active: false,
            draft: None,
        },
        json!({"type":"typing","data":{"conversation":3,"party":"agent","active":false}}),
    );
    pin(
        ServerMsg::Seen {
            conversation: ConversationId(3),
            party: Party::Agent,
            seq: 4,
        },
        json!({"type":"seen","data":{"conversation":3,"party":"agent","seq":4}}),
    );
    pin(
        ServerMsg::Conversation {
            conversation: ConversationSummary {
                id: ConversationId(2),
                status: ConversationStatus::Assigned,
                visitor_label: "Visitor 7".into(),
                visitor_number: 7,
                agent_name: Some("Ann".into()),
                visitor_online: true,
                agent_online: true,
                last_seq: 3,
                agent_read_seq: 2,
                visitor_read_seq: 3,
                queue_position: None,
                visitor_name: None,
                visitor_email: None,
                verified: false,
                rating: None,
            },
        },
        json!({"type":"conversation","data":{"conversation":{"id":2,"status":"assigned","visitor_label":"Visitor 7","visitor_number":7,"agent_name":"Ann","visitor_online":true,"agent_online":true,"last_seq":3,"agent_read_seq":2,"visitor_read_seq":3}}}),
    );
}

/// Status and load (issue 13): additive, absent when not set, so older
/// clients read the same `AgentInfo` as before.
#[test]
fn agent_info_carries_status_and_load_only_when_set() {
    pin(
        AgentInfo {
            id: AgentId(2),
            name: "Bo".into(),
            is_admin: false,
            capacity: 3,
            disabled: false,
            lang: None,
            away: true,
            notify: false,
            away_after_idle_secs: None,
            online: Some(true),
            load: Some(1),
        },
        json!({"id":2,"name":"Bo","is_admin":false,"capacity":3,"away":true,"online":true,"load":1}),
    );
    let old: AgentInfo =
        serde_json::from_value(json!({"id":2,"name":"Bo","is_admin":false,"capacity":3}))
            .expect("an AgentInfo without the new fields reads");
    assert!(!old.away && !old.notify && old.online.is_none() && old.load.is_none());
}
