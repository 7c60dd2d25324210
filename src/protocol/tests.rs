//! Golden tests: each variant's exact JSON, and what an older build makes of a newer one.

use super::*;
use serde_json::json;

fn pin<T: Serialize + for<'a> Deserialize<'a> + PartialEq + std::fmt::Debug>(
    value: T,
    expected: serde_json::Value,
) {
    assert_eq!(serde_json::to_value(&value).expect("serializes"), expected);
    let back: T = serde_json::from_value(expected).expect("deserializes");
    assert_eq!(back, value);
}

#[test]
fn client_messages_have_pinned_json() {
    pin(
        ClientMsg::Hello {
            version: 1,
            token: Some("t".into()),
            resume: vec![Resume {
                conversation: ConversationId(3),
                after: 7,
            }],
            identity: None,
        },
        json!({"type":"hello","data":{"version":1,"token":"t","resume":[{"conversation":3,"after":7}]}}),
    );
    pin(ClientMsg::Start, json!({"type":"start"}));
    pin(
        ClientMsg::Send {
            id: MessageId("a".into()),
            conversation: Some(ConversationId(3)),
            text: "hi".into(),
            resend: false,
        },
        json!({"type":"send","data":{"id":"a","conversation":3,"text":"hi"}}),
    );
    pin(
        ClientMsg::Send {
            id: MessageId("a".into()),
            conversation: Some(ConversationId(3)),
            text: "hi".into(),
            resend: true,
        },
        json!({"type":"send","data":{"id":"a","conversation":3,"text":"hi","resend":true}}),
    );
    pin(
        ClientMsg::Read {
            conversation: ConversationId(3),
            seq: 4,
        },
        json!({"type":"read","data":{"conversation":3,"seq":4}}),
    );
    pin(
        ClientMsg::Close {
            conversation: ConversationId(3),
        },
        json!({"type":"close","data":{"conversation":3}}),
    );
    pin(ClientMsg::Ping, json!({"type":"ping"}));
    pin(
        ClientMsg::Hello {
            version: 1,
            token: None,
            resume: vec![],
            identity: Some("eyJ1c2VyX2lkIjoiNDIifQ.ab12".into()),
        },
        json!({"type":"hello","data":{"version":1,"token":null,"resume":[],"identity":"eyJ1c2VyX2lkIjoiNDIifQ.ab12"}}),
    );
    pin(
        ClientMsg::Profile {
            name: Some("Li Lei".into()),
            email: Some("li@example.com".into()),
        },
        json!({"type":"profile","data":{"name":"Li Lei","email":"li@example.com"}}),
    );
    pin(
        ClientMsg::Profile {
            name: None,
            email: Some("".into()),
        },
        json!({"type":"profile","data":{"email":""}}),
    );
    pin(
        ClientMsg::PageView {
            url: "https://shop.example/cart".into(),
            title: "购物车".into(),
            referrer: Some("https://search.example/".into()),
            time_zone: Some("Asia/Shanghai".into()),
            utc_offset: Some(480),
        },
        json!({"type":"page_view","data":{"url":"https://shop.example/cart","title":"购物车","referrer":"https://search.example/","time_zone":"Asia/Shanghai","utc_offset":480}}),
    );
    pin(
        ClientMsg::PageView {
            url: "https://shop.example/".into(),
            title: String::new(),
            referrer: None,
            time_zone: None,
            utc_offset: None,
        },
        json!({"type":"page_view","data":{"url":"https://shop.example/","title":""}}),
    );
}

#[test]
fn hello_fields_are_optional() {
    let msg: ClientMsg =
        serde_json::from_str(r#"{"type":"hello","data":{"version":1}}"#).expect("parses");
    assert_eq!(
        msg,
        ClientMsg::Hello {
            version: 1,
            token: None,
            resume: vec![],
            identity: None,
        }
    );
}

#[test]
fn server_messages_have_pinned_json() {
    pin(
        ServerMsg::Welcome {
            visitor: Some(VisitorInfo {
                label: "Visitor 1".into(),
                token: Some("tok".into()),
            }),
            agent: None,
            agents_online: true,
            conversations: None,
        },
        json!({"type":"welcome","data":{"visitor":{"label":"Visitor 1","token":"tok"},"agents_online":true}}),
    );
    pin(
        ServerMsg::Message {
            message: ChatMessage {
                id: MessageId("m".into()),
                conversation: ConversationId(2),
                seq: 1,
                author: Author::System,
                author_name: None,
                text: String::new(),
                event: Some(SystemEvent::Assigned {
                    agent: "Ann".into(),
                }),
                sent_at: 5,
            },
        },
        json!({"type":"message","data":{"message":{"id":"m","conversation":2,"seq":1,"author":"system","text":"","event":{"kind":"assigned","agent":"Ann"},"sent_at":5}}}),
    );
    pin(
        ServerMsg::Conversation {
            conversation: ConversationSummary {
                id: ConversationId(2),
                status: ConversationStatus::Queued,
                visitor_label: "Visitor 1".into(),
                visitor_number: 0,
                agent_name: None,
                visitor_online: true,
                agent_online: false,
                last_seq: 0,
                agent_read_seq: 0,
                visitor_read_seq: 0,
                queue_position: Some(2),
                visitor_name: None,
                visitor_email: None,
                verified: false,
                rating: None,
            },
        },
        json!({"type":"conversation","data":{"conversation":{"id":2,"status":"queued","visitor_label":"Visitor 1","visitor_online":true,"agent_online":false,"last_seq":0,"agent_read_seq":0,"queue_position":2}}}),
    );
    // Servers since the zh-CN console send the visitor's number too.
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
                agent_read_seq: 1,
                visitor_read_seq: 0,
                queue_position: None,
                visitor_name: None,
                visitor_email: None,
                verified: false,
                rating: None,
            },
        },
        json!({"type":"conversation","data":{"conversation":{"id":2,"status":"assigned","visitor_label":"Visitor 7","visitor_number":7,"agent_name":"Ann","visitor_online":true,"agent_online":true,"last_seq":3,"agent_read_seq":1}}}),
    );
    // Servers with identity verification label the visitor.
    pin(
        ServerMsg::Conversation {
            conversation: ConversationSummary {
                id: ConversationId(2),
                status: ConversationStatus::Queued,
                visitor_label: "Visitor 7".into(),
                visitor_number: 7,
                agent_name: None,
                visitor_online: true,
                agent_online: false,
                last_seq: 0,
                agent_read_seq: 0,
                visitor_read_seq: 0,
                queue_position: Some(1),
                visitor_name: Some("Li Lei".into()),
                visitor_email: Some("li@example.com".into()),
                verified: true,
                rating: None,
            },
        },
        json!({"type":"conversation","data":{"conversation":{"id":2,"status":"queued","visitor_label":"Visitor 7","visitor_number":7,"visitor_online":true,"agent_online":false,"last_seq":0,"agent_read_seq":0,"queue_position":1,"visitor_name":"Li Lei","visitor_email":"li@example.com","verified":true}}}),
    );
    pin(
        ServerMsg::Ack {
            id: MessageId("a".into()),
            conversation: ConversationId(2),
            seq: 9,
        },
        json!({"type":"ack","data":{"id":"a","conversation":2,"seq":9}}),
    );
    pin(
        ServerMsg::Presence {
            conversation: ConversationId(2),
            party: Party::Visitor,
            online: false,
        },
        json!({"type":"presence","data":{"conversation":2,"party":"visitor","online":false}}),
    );
    pin(
        ServerMsg::Error {
            code: ErrorCode::TextTooLong,
            message: "too long".into(),
            id: Some(MessageId("a".into())),
        },
        json!({"type":"error","data":{"code":"text_too_long","message":"too long","id":"a"}}),
    );
    pin(
        ServerMsg::Availability {
            agents_online: false,
            back_at: None,
        },
        json!({"type":"availability","data":{"agents_online":false}}),
    );
    pin(
        ServerMsg::Availability {
            agents_online: false,
            back_at: Some(1_796_371_200_000),
        },
        json!({"type":"availability","data":{"agents_online":false,"back_at":1_796_371_200_000_i64}}),
    );
    pin(
        ServerMsg::ReadUpTo {
            conversation: ConversationId(2),
            seq: 3,
        },
        json!({"type":"read_up_to","data":{"conversation":2,"seq":3}}),
    );
    pin(ServerMsg::Pong, json!({"type":"pong"}));
    pin(
        ServerMsg::PageViewed {
            conversation: ConversationId(4),
            page: crate::protocol::PageSeen {
                url: "https://shop.example/cart".into(),
                title: "Cart".into(),
                at: 1_700_000_000_000,
            },
        },
        json!({"type":"page_viewed","data":{"conversation":4,"page":{"url":"https://shop.example/cart","title":"Cart","at":1_700_000_000_000_i64}}}),
    );
    pin(ErrorCode::PageViewInvalid, json!("page_view_invalid"));
}

#[test]
fn agent_welcome_lists_conversations() {
    pin(
        ServerMsg::Welcome {
            visitor: None,
            agent: Some(AgentInfo {
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
            }),
            agents_online: true,
            conversations: Some(vec![ConversationId(4)]),
        },
        json!({"type":"welcome","data":{"agent":{"id":1,"name":"Ann","is_admin":false,"capacity":5},"agents_online":true,"conversations":[4]}}),
    );
}

#[test]
fn unknown_server_messages_are_skippable() {
    let msg: ServerMsg = serde_json::from_str(r#"{"type":"from_the_future"}"#).expect("parses");
    assert_eq!(msg, ServerMsg::Unknown);
}

#[test]
fn text_rules() {
    assert_eq!(check_text("  \n "), Err(TextProblem::Blank));
    assert_eq!(check_text("hi"), Ok(()));
    assert_eq!(check_text(&"é".repeat(MAX_TEXT_CHARS)), Ok(()));
    assert_eq!(
        check_text(&"é".repeat(MAX_TEXT_CHARS + 1)),
        Err(TextProblem::TooLong)
    );
}

#[test]
fn system_events_read_as_tagged_objects() {
    for event in [
        SystemEvent::Assigned {
            agent: "Ann".into(),
        },
        SystemEvent::Closed {
            agent: "Ann".into(),
        },
        SystemEvent::Requeued {
            agent: "Ann".into(),
        },
    ] {
        let json = serde_json::to_string(&event).expect("serializes");
        assert_eq!(serde_json::from_str::<SystemEvent>(&json).ok(), Some(event));
    }
    let read = |json: &str| serde_json::from_str::<SystemEvent>(json).ok();
    assert_eq!(
        read(r#"{"agent":"Ann","kind":"closed"}"#),
        Some(SystemEvent::Closed {
            agent: "Ann".into()
        })
    );
    assert_eq!(
        read(r#"{"kind":"from_the_future","x":1}"#),
        Some(SystemEvent::Unknown)
    );
    assert_eq!(read(r#"{"kind":"assigned"}"#), None);
    assert_eq!(read(r#"{"agent":"Ann"}"#), None);
}

mod notes;
mod presence;
mod ratings;
