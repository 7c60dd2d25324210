//! Reading a server frame in the browser, without the derived
//! `Deserialize` of [`ServerMsg`]: for an adjacently tagged enum, serde
//! derives a second path that buffers `data` when it comes before `type`,
//! and instantiates every nested type's deserializer again for that buffer.
//! That doubled code was about a tenth of the visitor's wasm. Here the tag
//! is read first, then `data` straight into its variant's fields: the same
//! JSON gives the same message (a test below checks it against the derived
//! reader on every kind of frame).

use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::{
    AgentInfo, ChatMessage, ConversationId, ConversationSummary, ErrorCode, MessageId, Party,
    ServerMsg, VisitorInfo,
};

#[derive(Deserialize)]
struct Tag {
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct Data<T> {
    data: T,
}

#[derive(Deserialize)]
struct Welcome {
    #[serde(default)]
    visitor: Option<VisitorInfo>,
    #[serde(default)]
    agent: Option<AgentInfo>,
    agents_online: bool,
    #[serde(default)]
    conversations: Option<Vec<ConversationId>>,
}

#[derive(Deserialize)]
struct Availability {
    agents_online: bool,
    #[serde(default)]
    back_at: Option<i64>,
}

#[derive(Deserialize)]
struct Conversation {
    conversation: ConversationSummary,
}

#[derive(Deserialize)]
struct Message {
    message: ChatMessage,
}

#[derive(Deserialize)]
struct Ack {
    id: MessageId,
    conversation: ConversationId,
    seq: i64,
}

#[derive(Deserialize)]
struct Presence {
    conversation: ConversationId,
    party: Party,
    online: bool,
}

#[derive(Deserialize)]
struct ReadUpTo {
    conversation: ConversationId,
    seq: i64,
}

/// `typing` and `seen`, read through one struct (one deserializer less in
/// the visitor's bundle): each takes the fields it has.
#[derive(Deserialize)]
struct OtherSide {
    conversation: ConversationId,
    party: Party,
    #[serde(default)]
    active: bool,
    #[serde(default)]
    draft: Option<String>,
    #[serde(default)]
    seq: i64,
}

#[derive(Deserialize)]
struct Error {
    code: ErrorCode,
    message: String,
    #[serde(default)]
    id: Option<MessageId>,
}

#[cfg(not(feature = "visitor-bundle"))]
#[derive(Deserialize)]
struct PageViewed {
    conversation: ConversationId,
    page: super::PageSeen,
}

/// Agents only: the visitor's bundle never reads a note (it takes the
/// frame, which no visitor is sent anyway, as unknown).
#[cfg(not(feature = "visitor-bundle"))]
#[derive(Deserialize)]
struct Note {
    note: super::ChatNote,
}

/// Agents only, like [`Note`].
#[cfg(not(feature = "visitor-bundle"))]
#[derive(Deserialize)]
struct Rated {
    conversation: ConversationId,
    rating: super::rating::Rating,
}

#[derive(Deserialize)]
struct NoData {
    #[serde(default)]
    data: Option<serde::de::IgnoredAny>,
}

/// Checks that the frame `text` has no `data` (or `null`), as a variant
/// without fields requires.
fn no_data(text: &str) -> serde_json::Result<()> {
    match read::<NoData>(text)?.data {
        None => Ok(()),
        Some(_) => Err(serde::de::Error::custom(
            "data for a variant without fields",
        )),
    }
}

/// The `data` of the frame `text`.
fn data<T: DeserializeOwned>(text: &str) -> serde_json::Result<T> {
    read::<Data<T>>(text).map(|d| d.data)
}

/// Reads `text` with the serde_json reader the rest of the bundle uses, so
/// the browser links one copy of each type's deserializer, not two: the
/// full bundle's server functions read their answers with `from_slice`;
/// the visitor's bundle has no server_fn client (`crate::api` there calls
/// `fetch`), and Leptos reads the resources sent with the page with
/// `from_str`.
fn read<T: DeserializeOwned>(text: &str) -> serde_json::Result<T> {
    if cfg!(feature = "visitor-bundle") {
        serde_json::from_str(text)
    } else {
        serde_json::from_slice(text.as_bytes())
    }
}

impl ServerMsg {
    /// The message in the JSON text frame `text`; [`ServerMsg::Unknown`]
    /// for a type this build does not know.
    pub fn from_json(text: &str) -> serde_json::Result<ServerMsg> {
        let tag: Tag = read(text)?;
        Ok(match tag.kind.as_str() {
            "welcome" => {
                let w: Welcome = data(text)?;
                ServerMsg::Welcome {
                    visitor: w.visitor,
                    agent: w.agent,
                    agents_online: w.agents_online,
                    conversations: w.conversations,
                }
            }
            "availability" => {
                let a = data::<Availability>(text)?;
                ServerMsg::Availability {
                    agents_online: a.agents_online,
                    back_at: a.back_at,
                }
            }
            "conversation" => ServerMsg::Conversation {
                conversation: data::<Conversation>(text)?.conversation,
            },
            "message" => ServerMsg::Message {
                message: data::<Message>(text)?.message,
            },
            "ack" => {
                let a: Ack = data(text)?;
                ServerMsg::Ack {
                    id: a.id,
                    conversation: a.conversation,
                    seq: a.seq,
                }
            }
            "presence" => {
                let p: Presence = data(text)?;
                ServerMsg::Presence {
                    conversation: p.conversation,
                    party: p.party,
                    online: p.online,
                }
            }
            "read_up_to" => {
                let r: ReadUpTo = data(text)?;
                ServerMsg::ReadUpTo {
                    conversation: r.conversation,
                    seq: r.seq,
                }
            }
            "typing" => {
                let t: OtherSide = data(text)?;
                ServerMsg::Typing {
                    conversation: t.conversation,
                    party: t.party,
                    active: t.active,
                    draft: t.draft,
                }
            }
            "seen" => {
                let s: OtherSide = data(text)?;
                ServerMsg::Seen {
                    conversation: s.conversation,
                    party: s.party,
                    seq: s.seq,
                }
            }
            "error" => {
                let e: Error = data(text)?;
                ServerMsg::Error {
                    code: e.code,
                    message: e.message,
                    id: e.id,
                }
            }
            // Agents only: the visitor's bundle does without its reader.
            #[cfg(not(feature = "visitor-bundle"))]
            "page_viewed" => {
                let p: PageViewed = data(text)?;
                ServerMsg::PageViewed {
                    conversation: p.conversation,
                    page: p.page,
                }
            }
            "pong" => no_data(text).map(|()| ServerMsg::Pong)?,
            #[cfg(not(feature = "visitor-bundle"))]
            "note" => ServerMsg::Note {
                note: data::<Note>(text)?.note,
            },
            #[cfg(not(feature = "visitor-bundle"))]
            "rated" => {
                let r: Rated = data(text)?;
                ServerMsg::Rated {
                    conversation: r.conversation,
                    rating: r.rating,
                }
            }
            _ => no_data(text).map(|()| ServerMsg::Unknown)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One frame of each kind, in the server's key order and reversed.
    #[test]
    fn reads_every_frame_as_the_derived_reader_does() {
        let frames = [
            r#"{"type":"welcome","data":{"visitor":{"label":"Visitor 1","token":"tok"},"agents_online":true}}"#,
            r#"{"type":"welcome","data":{"agent":{"id":1,"name":"Ann","is_admin":false,"capacity":5},"agents_online":true,"conversations":[4]}}"#,
            r#"{"data":{"agents_online":false},"type":"availability"}"#,
            r#"{"type":"availability","data":{"agents_online":false,"back_at":1796371200000}}"#,
            r#"{"type":"conversation","data":{"conversation":{"id":2,"status":"queued","visitor_label":"Visitor 1","visitor_online":true,"queue_position":2}}}"#,
            r#"{"data":{"conversation":{"id":2,"status":"assigned","visitor_label":"Visitor 7","visitor_number":7,"agent_name":"Ann","agent_online":true,"last_seq":3}},"type":"conversation"}"#,
            r#"{"type":"message","data":{"message":{"id":"m","conversation":2,"seq":1,"author":"system","text":"","event":{"kind":"assigned","agent":"Ann"},"sent_at":5}}}"#,
            r#"{"type":"message","data":{"message":{"id":"m","conversation":2,"seq":2,"author":"agent","author_name":"Ann","text":"hi","sent_at":6}}}"#,
            r#"{"type":"ack","data":{"id":"a","conversation":2,"seq":9}}"#,
            r#"{"type":"presence","data":{"conversation":2,"party":"visitor","online":false}}"#,
            r#"{"type":"read_up_to","data":{"conversation":2,"seq":3}}"#,
            r#"{"type":"typing","data":{"conversation":2,"party":"visitor","active":true,"draft":"hel"}}"#,
            r#"{"data":{"active":false,"party":"agent","conversation":2},"type":"typing"}"#,
            r#"{"type":"seen","data":{"conversation":2,"party":"agent","seq":4}}"#,
            r#"{"type":"conversation","data":{"conversation":{"id":2,"status":"assigned","visitor_label":"Visitor 7","last_seq":3,"agent_read_seq":2,"visitor_read_seq":3}}}"#,
            r#"{"type":"error","data":{"code":"text_too_long","message":"too long","id":"a"}}"#,
            r#"{"type":"error","data":{"code":"rate_limited","message":"rate_limited"}}"#,
            r#"{"type":"pong"}"#,
            r#"{"type":"page_viewed","data":{"conversation":2,"page":{"url":"https://shop.example/","title":"Shop","at":5}}}"#,
            r#"{"type":"note","data":{"note":{"id":"n","conversation":2,"after_seq":3,"author_name":"Ann","text":"vip","sent_at":7}}}"#,
            r#"{"type":"message","data":{"message":{"id":"m","conversation":2,"seq":4,"author":"system","text":"","event":{"kind":"transferred","agent":"Bo"},"sent_at":8}}}"#,
            r#"{"type":"rated","data":{"conversation":2,"rating":{"score":4,"comment":"quick","at":9}}}"#,
            r#"{"type":"rated","data":{"rating":{"at":9,"score":5},"conversation":2}}"#,
            r#"{"type":"conversation","data":{"conversation":{"id":2,"status":"closed","visitor_label":"Visitor 7","rating":3}}}"#,
            r#"{"type":"from_the_future"}"#,
            r#"{"type":"from_the_future","data":null}"#,
        ];
        for frame in frames {
            let derived = serde_json::from_str::<ServerMsg>(frame);
            let ours = ServerMsg::from_json(frame);
            match (derived, ours) {
                (Ok(d), Ok(o)) => assert_eq!(d, o, "{frame}"),
                (d, o) => panic!("{frame}: derived {d:?}, ours {o:?}"),
            }
        }
        for bad in [
            "not json",
            r#"{"type":"ack"}"#,
            r#"{"type":"ack","data":{"id":"m"}}"#,
            r#"{"type":"pong","data":{"x":1}}"#,
            r#"{"type":"from_the_future","data":{"x":1}}"#,
        ] {
            assert!(serde_json::from_str::<ServerMsg>(bad).is_err(), "{bad}");
            assert!(ServerMsg::from_json(bad).is_err(), "{bad}");
        }
    }
}
