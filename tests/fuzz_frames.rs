#![cfg(feature = "ssr")]
//! Fuzzing of everything a client can put on a kefu WebSocket.
//!
//! What is fuzzed:
//! - the frame decoder (`serde_json::from_str::<ClientMsg>`, exactly what
//!   `src/server/ws.rs` runs on every text frame) with arbitrary bytes,
//!   arbitrary strings, arbitrary JSON values, frame-shaped JSON with wrong
//!   types, deep nesting, and valid frames mutated char by char. Property:
//!   it never panics, and whatever it accepts survives a re-encode/decode
//!   round trip unchanged. `check_text` never panics and agrees with the
//!   4,000-character / not-blank rule;
//! - the live server: the real axum app on 127.0.0.1 with a temporary SQLite
//!   file and no rate limits (so limits do not mask behaviour). A visitor and
//!   an agent say hello after some junk (visitors new, returning with an
//!   earlier case's token, or with any token; `resume` naming their own,
//!   other visitors' or made-up conversations), then send a generated mix of
//!   valid messages of every variant (arbitrary ids, texts, conversation ids
//!   and seqs, often aimed at real conversations), garbage text, binary,
//!   oversized and WebSocket-ping frames. Property: no frame makes the
//!   server panic or close a socket; every answer is a typed `ServerMsg`,
//!   refused frames get the documented error code, visitors only ever hear
//!   about (and are replayed) their own conversation, both sockets still
//!   answer `ping` afterwards, and a fresh visitor can still connect and
//!   chat with the agent;
//! - the seed corpus in `fuzz/corpus/` (one client frame per file), run
//!   through both properties above. See `fuzz/README.md`.
//!
//! Why proptest and not cargo-fuzz: cargo-fuzz needs a nightly toolchain and
//! this project builds on stable. proptest runs inside `cargo test`, shrinks
//! failures to a minimal input, and can drive the async server in-process.
//!
//! Run with `cargo test --features ssr --test fuzz_frames`; a deeper run:
//! `PROPTEST_CASES=5000 cargo test --features ssr --test fuzz_frames`.
//! Failures are not persisted by proptest: copy a failing frame into
//! `fuzz/corpus/bug-<what>.json` so it is replayed on every run.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use futures::{FutureExt, SinkExt, StreamExt};
use kefu::protocol::{
    check_text, AgentId, ClientMsg, ConversationId, ConversationStatus, ErrorCode, MessageId,
    Resume, ServerMsg, TextProblem, VisitorInfo, MAX_FRAME_BYTES, MAX_MESSAGE_ID_LEN,
    MAX_TEXT_CHARS, PROTOCOL_VERSION,
};
use kefu::server::config::{Limits, Security};
use kefu::server::edge::visits::check_page_view;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::test_runner::{TestCaseError, TestRunner};
use serde_json::{Map, Value};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{header, HeaderValue};
use tokio_tungstenite::tungstenite::{Bytes, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

mod common;
use common::{start_with, Setup};

// ---------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------

/// `default_cases` cases, or `PROPTEST_CASES` when set (deeper runs).
/// Failure files are not written: a failing input belongs in fuzz/corpus.
fn config(default_cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_cases);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Cases of each pure decoder property.
const DECODER_CASES: u32 = 400;
/// Cases of the live socket property (each drives a visitor and an agent).
const SOCKET_CASES: u32 = 48;
/// Longest wait for any one answer from the server.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest a whole socket case may take.
const CASE_TIMEOUT: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------------------
// Strategies: valid client messages
// ---------------------------------------------------------------------------

/// Field names and tags of the protocol, so generated JSON is often nearly valid.
const FIELD_NAMES: &[&str] = &[
    "type",
    "data",
    "version",
    "token",
    "resume",
    "conversation",
    "after",
    "id",
    "text",
    "seq",
    "url",
    "title",
    "time_zone",
];
const TAGS: &[&str] = &[
    "page_view",
    "hello",
    "start",
    "send",
    "read",
    "close",
    "ping",
    "pong",
    "welcome",
    "error",
    "",
    "Ping",
    "from_the_future",
];

fn conversation_id() -> impl Strategy<Value = ConversationId> {
    prop_oneof![3 => 0i64..8, 1 => any::<i64>()].prop_map(ConversationId)
}

fn seq() -> impl Strategy<Value = i64> {
    prop_oneof![3 => -2i64..40, 1 => any::<i64>()]
}

/// Message ids: UUID-like, empty, over 64 bytes, any characters.
fn message_id() -> impl Strategy<Value = MessageId> {
    prop_oneof![
        4 => "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
        2 => "\\PC{0,70}",
        1 => any::<String>(),
        1 => Just(String::new()),
        1 => "x{60,70}",
        1 => "é{30,34}",
    ]
    .prop_map(MessageId)
}

/// Message texts: ordinary, any characters, blank, and around 4,000 characters.
fn message_text() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "\\PC{1,40}",
        2 => any::<String>(),
        1 => "[ \t\r\n\u{3000}\u{a0}\u{2028}]{0,6}",
        1 => Just(String::new()),
        1 => (MAX_TEXT_CHARS - 3..=MAX_TEXT_CHARS + 3, select(vec!['x', 'é', '中', '😀', ' ']))
            .prop_map(|(n, c)| std::iter::repeat_n(c, n).collect::<String>()),
    ]
}

fn resume() -> impl Strategy<Value = Resume> {
    (conversation_id(), seq()).prop_map(|(conversation, after)| Resume {
        conversation,
        after,
    })
}

/// Every [`ClientMsg`] variant, with arbitrary contents.
fn client_msg() -> impl Strategy<Value = ClientMsg> {
    prop_oneof![
        (
            prop_oneof![3 => Just(PROTOCOL_VERSION), 1 => any::<u16>()],
            prop::option::of(prop_oneof!["[0-9a-f]{64}", any::<String>(), "f{120,140}"]),
            prop::collection::vec(resume(), 0..4),
        )
            .prop_map(|(version, token, resume)| ClientMsg::Hello {
                version,
                token,
                resume,
                identity: None,
            }),
        Just(ClientMsg::Start),
        (
            message_id(),
            prop::option::of(conversation_id()),
            message_text(),
            any::<bool>()
        )
            .prop_map(|(id, conversation, text, resend)| ClientMsg::Send {
                id,
                conversation,
                text,
                resend,
            }),
        (conversation_id(), seq())
            .prop_map(|(conversation, seq)| ClientMsg::Read { conversation, seq }),
        conversation_id().prop_map(|conversation| ClientMsg::Close { conversation }),
        Just(ClientMsg::Ping),
        (
            prop::option::of(conversation_id()),
            any::<bool>(),
            prop::option::of(message_text()),
        )
            .prop_map(|(conversation, active, draft)| ClientMsg::Typing {
                conversation,
                active,
                draft,
            })
            .boxed(),
        (
            prop::option::of(prop_oneof![any::<String>(), "[a-z ]{0,90}"]),
            prop::option::of(prop_oneof![
                any::<String>(),
                "[a-z]{1,8}@[a-z]{1,8}\\.[a-z]{2,3}"
            ]),
        )
            .prop_map(|(name, email)| ClientMsg::Profile { name, email })
            // Boxed: inline, its value tree made each union of frames big
            // enough to overflow the test thread's stack in debug builds.
            .boxed(),
        (
            prop_oneof!["https://[a-z]{1,8}\\.example/[a-z/]{0,20}", any::<String>()],
            prop_oneof!["[a-zA-Z ]{0,20}", any::<String>()],
            prop::option::of(prop_oneof![
                "[A-Z][a-z]{2,8}/[A-Z][a-z_]{2,12}",
                any::<String>()
            ]),
            prop::option::of(-2000..2000i32),
        )
            .prop_map(|(url, title, time_zone, utc_offset)| ClientMsg::PageView {
                url,
                title,
                referrer: None,
                time_zone,
                utc_offset,
            })
            .boxed(),
        (
            message_id(),
            conversation_id(),
            message_text(),
            any::<bool>()
        )
            .prop_map(|(id, conversation, text, resend)| ClientMsg::Note {
                id,
                conversation,
                text,
                resend,
            })
            .boxed(),
        (
            conversation_id(),
            prop::option::of(any::<i64>().prop_map(kefu::protocol::AgentId)),
            prop::option::of(message_text()),
        )
            .prop_map(|(conversation, to, note)| ClientMsg::Transfer {
                conversation,
                to,
                note,
            })
            .boxed(),
    ]
}

fn encode(msg: &ClientMsg) -> String {
    serde_json::to_string(msg).unwrap_or_else(|e| panic!("{msg:?} serializes: {e}"))
}

// ---------------------------------------------------------------------------
// Strategies: garbage
// ---------------------------------------------------------------------------

/// A JSON key: mostly the protocol's own field names.
fn json_key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(FIELD_NAMES).prop_map(str::to_owned),
        1 => "\\PC{0,8}",
    ]
}

/// Arbitrary JSON values, nested a few levels.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-3i64..10).prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        any::<String>().prop_map(Value::String),
        select(TAGS).prop_map(|t| Value::String(t.to_owned())),
    ];
    leaf.prop_recursive(6, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(json_key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// `{"type": …, "data": …}` with a real or odd tag and arbitrary data.
fn shaped_frame() -> impl Strategy<Value = String> {
    let tag = prop_oneof![
        4 => select(TAGS).prop_map(|t| Value::String(t.to_owned())),
        1 => json_value(),
    ];
    let data = prop_oneof![
        2 => prop::collection::btree_map(select(FIELD_NAMES), json_value(), 0..5)
            .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        1 => json_value(),
    ];
    (tag, prop::option::of(data)).prop_map(|(tag, data)| {
        let mut frame = Map::new();
        frame.insert("type".into(), tag);
        if let Some(data) = data {
            frame.insert("data".into(), data);
        }
        Value::Object(frame).to_string()
    })
}

/// A valid frame with one part replaced, removed or added (wrong types,
/// missing data, extra fields).
fn perturbed_frame() -> impl Strategy<Value = String> {
    (client_msg(), json_value(), any::<Index>(), 0u8..5).prop_map(|(msg, value, at, op)| {
        let mut frame = serde_json::to_value(&msg).unwrap_or(Value::Null);
        let Some(obj) = frame.as_object_mut() else {
            return frame.to_string();
        };
        match op {
            0 => {
                obj.insert("type".into(), value);
            }
            1 => {
                obj.insert("data".into(), value);
            }
            _ => match obj.get_mut("data").and_then(Value::as_object_mut) {
                Some(data) if !data.is_empty() => {
                    let key = data.keys().nth(at.index(data.len())).cloned();
                    if let Some(key) = key {
                        if op == 2 {
                            data.insert(key, value);
                        } else {
                            data.remove(&key);
                        }
                    }
                }
                _ => {
                    obj.insert("extra".into(), value);
                }
            },
        }
        frame.to_string()
    })
}

/// JSON-like text built as text: huge and odd numbers, escapes (lone
/// surrogates included), literals JSON does not have.
fn raw_json() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        "-?(0|[1-9][0-9]{0,40})(\\.[0-9]{1,20})?([eE][+-]?[0-9]{1,5})?",
        select(vec![
            "1e400",
            "-0",
            "18446744073709551616",
            "9223372036854775808",
            "-9223372036854775809",
            "NaN",
            "Infinity",
            "tru",
            "nul",
            "01",
            "0x10",
            "true",
            "false",
            "null",
        ])
        .prop_map(str::to_owned),
        r#""([a-z ]|\\u[dD][89abAB][0-9a-fA-F]{2}|\\u[dD][c-fC-F][0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}|\\["\\/bfnrt]|\\x|\\u00|[\x00-\x1f])*""#,
        select(TAGS).prop_map(|t| format!("{t:?}")),
    ];
    leaf.prop_recursive(5, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((json_key(), inner.clone()), 0..5).prop_map(|kv| {
                let body: Vec<String> = kv.iter().map(|(k, v)| format!("{k:?}:{v}")).collect();
                format!("{{{}}}", body.join(","))
            }),
            (select(TAGS), inner)
                .prop_map(|(tag, data)| format!(r#"{{"type":{tag:?},"data":{data}}}"#)),
        ]
    })
}

/// Nesting 1–300 deep (serde_json stops at 128), closed or not, bare or inside a frame.
fn deep_nesting() -> impl Strategy<Value = String> {
    (1usize..300, 0u8..4).prop_map(|(depth, kind)| match kind {
        0 => format!("{}{}", "[".repeat(depth), "]".repeat(depth)),
        1 => format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth)),
        2 => format!(
            r#"{{"type":"send","data":{{"id":"d","text":"x","extra":{}{}}}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        ),
        _ => format!(
            r#"{{"type":"hello","data":{{"version":1,"resume":{}"#,
            "[".repeat(depth)
        ),
    })
}

/// One edit of a frame's text.
#[derive(Debug, Clone)]
enum Mutation {
    Replace(Index, char),
    Insert(Index, char),
    Delete(Index),
    Duplicate(Index, Index),
    Truncate(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let c = prop_oneof![
        3 => select(vec![
            '{', '}', '[', ']', '"', ':', ',', '\\', '0', '9', '-', 'e', '.', 'u', 'n', ' ', 'd',
            '\u{0}', '\u{7f}', 'é', '😀',
        ]),
        1 => any::<char>(),
    ];
    prop_oneof![
        3 => (any::<Index>(), c.clone()).prop_map(|(i, c)| Mutation::Replace(i, c)),
        3 => (any::<Index>(), c).prop_map(|(i, c)| Mutation::Insert(i, c)),
        3 => any::<Index>().prop_map(Mutation::Delete),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::Duplicate(a, b)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(seed: &str, mutations: &[Mutation]) -> String {
    let mut chars: Vec<char> = seed.chars().collect();
    for m in mutations {
        let n = chars.len();
        match m {
            Mutation::Replace(i, c) if n > 0 => chars[i.index(n)] = *c,
            Mutation::Insert(i, c) => chars.insert(i.index(n + 1), *c),
            Mutation::Delete(i) if n > 0 => {
                chars.remove(i.index(n));
            }
            Mutation::Duplicate(a, b) if n > 0 => {
                let (a, b) = (a.index(n), b.index(n));
                let span: Vec<char> = chars[a.min(b)..=a.max(b)].to_vec();
                let at = a.max(b) + 1;
                chars.splice(at..at, span);
            }
            Mutation::Truncate(i) => chars.truncate(i.index(n + 1)),
            _ => {}
        }
    }
    chars.into_iter().collect()
}

/// A valid frame, then 1–6 character edits.
fn mutated_frame() -> impl Strategy<Value = String> {
    (client_msg(), prop::collection::vec(mutation(), 1..7))
        .prop_map(|(msg, mutations)| mutate(&encode(&msg), &mutations))
}

/// Text frames that are mostly not valid messages (some are, by chance).
fn garbage_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "\\PC{0,40}",
        json_value().prop_map(|v| v.to_string()),
        shaped_frame(),
        perturbed_frame(),
        raw_json(),
        deep_nesting(),
        mutated_frame(),
    ]
}

// ---------------------------------------------------------------------------
// The decoder property
// ---------------------------------------------------------------------------

/// Decodes `text` as the server does. What decodes must re-encode and decode
/// to the same value (through text and through `Value`), and `from_slice`
/// must agree with `from_str`.
fn decodes_consistently(text: &str) -> Result<Option<ClientMsg>, String> {
    let decoded = serde_json::from_str::<ClientMsg>(text);
    let from_bytes = serde_json::from_slice::<ClientMsg>(text.as_bytes());
    if decoded.as_ref().ok() != from_bytes.as_ref().ok() {
        return Err(format!(
            "from_str gave {decoded:?} but from_slice gave {from_bytes:?}"
        ));
    }
    let Ok(msg) = decoded else {
        return Ok(None);
    };
    let again = serde_json::to_string(&msg).map_err(|e| format!("re-encoding {msg:?}: {e}"))?;
    let back = serde_json::from_str::<ClientMsg>(&again)
        .map_err(|e| format!("{msg:?} re-encoded as {again} does not decode: {e}"))?;
    if back != msg {
        return Err(format!("round trip changed {msg:?} into {back:?}"));
    }
    let value = serde_json::to_value(&msg).map_err(|e| format!("to_value {msg:?}: {e}"))?;
    let back = serde_json::from_value::<ClientMsg>(value.clone())
        .map_err(|e| format!("{msg:?} as value {value} does not decode: {e}"))?;
    if back != msg {
        return Err(format!("value round trip changed {msg:?} into {back:?}"));
    }
    if let ClientMsg::Send { text, .. } = &msg {
        check_text_agrees(text)?;
    }
    Ok(Some(msg))
}

/// Arbitrary bytes: `from_slice` never panics, and accepts only UTF-8 that
/// `from_str` accepts the same way.
fn bytes_decode_consistently(bytes: &[u8]) -> Result<(), String> {
    let decoded = serde_json::from_slice::<ClientMsg>(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            let as_text = decodes_consistently(text)?;
            if as_text.as_ref() != decoded.as_ref().ok() {
                return Err(format!(
                    "from_slice gave {decoded:?}, from_str gave {as_text:?}"
                ));
            }
        }
        Err(_) => {
            if let Ok(msg) = decoded {
                return Err(format!("invalid UTF-8 decoded as {msg:?}"));
            }
        }
    }
    Ok(())
}

/// The rule, stated independently: blank means every char is white space;
/// too long means more than 4,000 chars (not bytes).
fn check_text_agrees(text: &str) -> Result<(), String> {
    let chars = text.chars().count();
    let expected = if text.chars().all(char::is_whitespace) {
        Err(TextProblem::Blank)
    } else if chars > MAX_TEXT_CHARS {
        Err(TextProblem::TooLong)
    } else {
        Ok(())
    };
    let got = check_text(text);
    if got == expected {
        Ok(())
    } else {
        Err(format!(
            "check_text gave {got:?}, expected {expected:?} ({chars} chars, {} bytes)",
            text.len()
        ))
    }
}

/// 3,992–4,007 chars: a short pattern (letters, accents, CJK, emoji,
/// combining and zero-width marks, white space) repeated, a few chars changed.
fn boundary_text() -> impl Strategy<Value = String> {
    let c = prop_oneof![
        4 => select(vec!['a', 'é', '中', '😀', '\u{301}', '\u{200b}']),
        1 => select(vec![' ', '\t', '\n', '\u{3000}', '\u{a0}', '\u{2028}']),
        1 => any::<char>(),
    ];
    (
        MAX_TEXT_CHARS - 8..MAX_TEXT_CHARS + 8,
        prop::collection::vec(c, 1..6),
        prop::collection::vec((any::<Index>(), any::<char>()), 0..4),
    )
        .prop_map(|(n, pattern, edits)| {
            let mut chars: Vec<char> = pattern.iter().copied().cycle().take(n).collect();
            for (at, c) in edits {
                let i = at.index(chars.len());
                chars[i] = c;
            }
            chars.into_iter().collect()
        })
}

/// White space only, up to just over the limit.
fn blank_text() -> impl Strategy<Value = String> {
    let ws = select(vec![
        ' ', '\t', '\n', '\r', '\u{3000}', '\u{a0}', '\u{85}', '\u{2029}',
    ]);
    (0..MAX_TEXT_CHARS + 8, prop::collection::vec(ws, 1..4))
        .prop_map(|(n, pattern)| pattern.iter().copied().cycle().take(n).collect())
}

fn fail(e: String) -> TestCaseError {
    TestCaseError::fail(e)
}

proptest! {
    #![proptest_config(config(DECODER_CASES))]

    #[test]
    fn decoder_survives_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        bytes_decode_consistently(&bytes).map_err(fail)?;
    }

    #[test]
    fn decoder_survives_arbitrary_strings(text in prop_oneof![any::<String>(), "\\PC{0,200}"]) {
        decodes_consistently(&text).map_err(fail)?;
        check_text_agrees(&text).map_err(fail)?;
    }

    #[test]
    fn decoder_survives_arbitrary_json(value in json_value()) {
        decodes_consistently(&value.to_string()).map_err(fail)?;
        decodes_consistently(&serde_json::to_string_pretty(&value).unwrap_or_default())
            .map_err(fail)?;
        // Decoding from a Value (no text) must not panic either.
        let _ = serde_json::from_value::<ClientMsg>(value);
    }

    #[test]
    fn decoder_survives_frame_shaped_json(
        text in prop_oneof![shaped_frame(), perturbed_frame(), raw_json(), deep_nesting()]
    ) {
        decodes_consistently(&text).map_err(fail)?;
    }

    #[test]
    fn decoder_survives_mutated_frames(
        msg in client_msg(),
        mutations in prop::collection::vec(mutation(), 1..8),
    ) {
        let text = mutate(&encode(&msg), &mutations);
        decodes_consistently(&text).map_err(fail)?;
        bytes_decode_consistently(text.as_bytes()).map_err(fail)?;
    }

    /// Every message a client can build is accepted, unchanged.
    #[test]
    fn every_client_message_decodes(msg in client_msg()) {
        let text = encode(&msg);
        let decoded = decodes_consistently(&text).map_err(fail)?;
        prop_assert_eq!(decoded, Some(msg));
    }

    #[test]
    fn check_text_follows_the_4000_char_rule(text in boundary_text(), blank in blank_text()) {
        check_text_agrees(&text).map_err(fail)?;
        prop_assert_eq!(check_text(&blank), Err(TextProblem::Blank));
        // 4,000 chars of anything visible pass, one more fails, whatever the bytes.
        let c = text.chars().find(|c| !c.is_whitespace()).unwrap_or('x');
        let at_limit: String = std::iter::repeat_n(c, MAX_TEXT_CHARS).collect();
        prop_assert_eq!(check_text(&at_limit), Ok(()));
        prop_assert_eq!(check_text(&format!("{at_limit}{c}")), Err(TextProblem::TooLong));
        // Surrounding white space is trimmed for the blank check only: it counts.
        prop_assert_eq!(check_text(&format!(" {at_limit}")), Err(TextProblem::TooLong));
    }
}

// ---------------------------------------------------------------------------
// The corpus
// ---------------------------------------------------------------------------

/// Every file of fuzz/corpus, sorted, with its bytes.
fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "the corpus in {} is empty",
        dir.display()
    );
    files
        .into_iter()
        .map(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("reading {name}: {e}"));
            (name, bytes)
        })
        .collect()
}

/// What a corpus file is sent as.
fn corpus_wire(bytes: &[u8]) -> Wire {
    match std::str::from_utf8(bytes) {
        Ok(text) => Wire::Text(text.to_owned()),
        Err(_) => Wire::Binary(bytes.to_vec()),
    }
}

fn variant(msg: &ClientMsg) -> &'static str {
    match msg {
        ClientMsg::Hello { .. } => "hello",
        ClientMsg::Start => "start",
        ClientMsg::Send { .. } => "send",
        ClientMsg::Read { .. } => "read",
        ClientMsg::Close { .. } => "close",
        ClientMsg::Ping => "ping",
        ClientMsg::Profile { .. } => "profile",
        ClientMsg::PageView { .. } => "page_view",
        ClientMsg::Note { .. } => "note",
        ClientMsg::Transfer { .. } => "transfer",
        ClientMsg::Typing { .. } => "typing",
        ClientMsg::Rate { .. } => "rate",
    }
}

#[test]
fn corpus_frames_decode_consistently() {
    let mut variants = BTreeSet::new();
    let mut failures = Vec::new();
    for (name, bytes) in corpus() {
        let outcome = std::panic::catch_unwind(|| {
            bytes_decode_consistently(&bytes)?;
            match std::str::from_utf8(&bytes) {
                Ok(text) => decodes_consistently(text),
                Err(_) => Ok(None),
            }
        });
        match outcome {
            Err(_) => failures.push(format!("{name}: the decoder panicked")),
            Ok(Err(e)) => failures.push(format!("{name}: {e}")),
            Ok(Ok(decoded)) => {
                if name.starts_with("valid-") {
                    match &decoded {
                        Some(msg) => {
                            variants.insert(variant(msg));
                        }
                        None => failures.push(format!("{name}: a valid-* frame does not decode")),
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "corpus failures:\n{}",
        failures.join("\n")
    );
    let all = [
        "hello",
        "start",
        "send",
        "read",
        "close",
        "ping",
        "profile",
        "page_view",
        "note",
        "transfer",
        "typing",
        "rate",
    ];
    for v in all {
        assert!(
            variants.contains(v),
            "fuzz/corpus has no valid-* frame of variant {v}"
        );
    }
}

// ---------------------------------------------------------------------------
// The live server
// ---------------------------------------------------------------------------

/// The real app on an ephemeral port, with no rate limits, and one agent.
struct Server {
    /// The app, served.
    app: common::Server,
    agent: AgentId,
    cookie: String,
    /// Visitor tokens issued so far, for later cases to come back with.
    issued: Mutex<Vec<Issued>>,
    /// Conversations seen so far (any visitor's), for later cases to resume.
    seen: Mutex<Vec<ConversationId>>,
}

/// A visitor token and the conversations its visitor was told about.
struct Issued {
    token: String,
    conversations: Vec<ConversationId>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Server {
    /// Records a newly issued visitor token; returns it.
    fn remember_token(&self, welcome: &ServerMsg) -> Option<String> {
        let ServerMsg::Welcome {
            visitor: Some(VisitorInfo {
                token: Some(token), ..
            }),
            ..
        } = welcome
        else {
            return None;
        };
        lock(&self.issued).push(Issued {
            token: token.clone(),
            conversations: Vec::new(),
        });
        Some(token.clone())
    }

    /// Records what a case saw: all conversations, and the visitor's own.
    fn remember(&self, world: &World) {
        let mut seen = lock(&self.seen);
        for id in &world.targets {
            if !seen.contains(id) {
                seen.push(*id);
            }
        }
        if let Some(token) = &world.token {
            if let Some(entry) = lock(&self.issued).iter_mut().find(|i| i.token == *token) {
                for id in &world.known[Side::Visitor as usize] {
                    if !entry.conversations.contains(id) {
                        entry.conversations.push(*id);
                    }
                }
            }
        }
    }

    /// The token to say hello with, and the conversations its visitor had.
    fn token(&self, pick: &TokenPick) -> (Option<String>, Vec<ConversationId>) {
        match pick {
            TokenPick::Fresh => (None, Vec::new()),
            TokenPick::Issued(ix) => {
                let issued = lock(&self.issued);
                if issued.is_empty() {
                    return (None, Vec::new());
                }
                let entry = &issued[ix.index(issued.len())];
                (Some(entry.token.clone()), entry.conversations.clone())
            }
            TokenPick::Raw(token) => (Some(token.clone()), Vec::new()),
        }
    }

    fn resume(&self, picks: &[(ConvPick, i64)], own: &[ConversationId]) -> Vec<Resume> {
        let seen = lock(&self.seen);
        picks
            .iter()
            .map(|(pick, after)| Resume {
                conversation: match pick {
                    ConvPick::Own(ix) if !own.is_empty() => own[ix.index(own.len())],
                    ConvPick::Own(ix) | ConvPick::Seen(ix) if !seen.is_empty() => {
                        seen[ix.index(seen.len())]
                    }
                    ConvPick::Own(_) | ConvPick::Seen(_) => ConversationId(1),
                    ConvPick::Raw(id) => *id,
                },
                after: *after,
            })
            .collect()
    }
}

async fn start_server() -> Server {
    let app = start_with(Setup {
        security: Security {
            limits: Limits::unlimited(),
            ..Security::default()
        },
        // A grace period longer than any run: the agent keeps its conversations between cases.
        grace: Duration::from_secs(24 * 3600),
        client_addresses: false,
        // So an answer and the pong right behind it are not held back ~40 ms
        // by Nagle's algorithm meeting delayed ACKs.
        nodelay: true,
        ..Setup::default()
    })
    .await;
    // Sessions are made directly (no sign-in), so no real password hash is needed.
    let agent = app
        .state
        .storage
        .create_agent("Fuzz", "not-a-password-hash", 100_000, false, false)
        .await
        .expect("creating the agent")
        .expect("the agent row is returned")
        .id;
    let cookie = app.session_for(agent).await;
    Server {
        app,
        agent,
        cookie,
        issued: Mutex::new(Vec::new()),
        seen: Mutex::new(Vec::new()),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// One WebSocket frame as sent.
#[derive(Debug, Clone)]
enum Wire {
    Text(String),
    Binary(Vec<u8>),
    /// A WebSocket-level ping (the server ignores it; the library answers it).
    WsPing(Vec<u8>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Visitor,
    Agent,
}

/// One generated frame, before it is aimed at the live state.
#[derive(Debug, Clone)]
enum Frame {
    /// A valid message. `aim` retargets its conversation to one the sockets
    /// have seen; `reuse` gives a `send` an id already used.
    Msg {
        msg: ClientMsg,
        aim: Option<Index>,
        reuse: Option<Index>,
    },
    Text(String),
    Binary(Vec<u8>),
    /// A `send` frame of this many bytes: over 64 KiB, under the 256 KiB hard limit.
    Oversized(usize),
    WsPing(Vec<u8>),
}

fn frame() -> impl Strategy<Value = Frame> {
    prop_oneof![
        8 => (
            client_msg(),
            prop::option::weighted(0.7, any::<Index>()),
            prop::option::weighted(0.2, any::<Index>()),
        )
            .prop_map(|(msg, aim, reuse)| Frame::Msg { msg, aim, reuse }),
        4 => garbage_text().prop_map(Frame::Text),
        1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(Frame::Binary),
        1 => (MAX_FRAME_BYTES + 1..MAX_FRAME_BYTES + 2048).prop_map(Frame::Oversized),
        1 => prop::collection::vec(any::<u8>(), 0..16).prop_map(Frame::WsPing),
    ]
}

fn side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Visitor), Just(Side::Agent)]
}

/// The token a case's visitor says hello with.
#[derive(Debug, Clone)]
enum TokenPick {
    /// None: a new visitor.
    Fresh,
    /// One issued to an earlier case's visitor: that visitor comes back.
    Issued(Index),
    /// Any string (unknown, so a new visitor).
    Raw(String),
}

/// A `resume` entry's conversation: the returning visitor's own, one an
/// earlier case saw (usually another visitor's: must not be replayed), or any id.
#[derive(Debug, Clone)]
enum ConvPick {
    Own(Index),
    Seen(Index),
    Raw(ConversationId),
}

/// One socket case: how each side says hello (frames before it, token,
/// resume list), then the sequence.
#[derive(Debug, Clone)]
struct Case {
    visitor_before_hello: Vec<Frame>,
    agent_before_hello: Vec<Frame>,
    visitor_token: TokenPick,
    visitor_resume: Vec<(ConvPick, i64)>,
    agent_resume: Vec<(ConvPick, i64)>,
    steps: Vec<(Side, Frame)>,
}

fn resume_picks() -> impl Strategy<Value = Vec<(ConvPick, i64)>> {
    let pick = prop_oneof![
        3 => any::<Index>().prop_map(ConvPick::Own),
        2 => any::<Index>().prop_map(ConvPick::Seen),
        1 => conversation_id().prop_map(ConvPick::Raw),
    ];
    prop::collection::vec(
        (pick, prop_oneof![2 => Just(0i64), 2 => 0i64..4, 1 => seq()]),
        0..4,
    )
}

fn case() -> impl Strategy<Value = Case> {
    let token = prop_oneof![
        2 => Just(TokenPick::Fresh),
        2 => any::<Index>().prop_map(TokenPick::Issued),
        1 => prop_oneof![any::<String>(), "f{120,140}"].prop_map(TokenPick::Raw),
    ];
    (
        prop::collection::vec(frame(), 0..3),
        prop::collection::vec(frame(), 0..3),
        token,
        resume_picks(),
        resume_picks(),
        prop::collection::vec((side(), frame()), 1..40),
    )
        .prop_map(
            |(v, a, visitor_token, visitor_resume, agent_resume, steps)| Case {
                visitor_before_hello: v,
                agent_before_hello: a,
                visitor_token,
                visitor_resume,
                agent_resume,
                steps,
            },
        )
}

/// A `send` frame of exactly `len` bytes (when `len` is large enough).
fn oversized(len: usize) -> String {
    let head = r#"{"type":"send","data":{"id":"big","text":""#;
    let tail = r#""}}"#;
    let fill = len.saturating_sub(head.len() + tail.len());
    format!("{head}{}{tail}", "x".repeat(fill))
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 200 {
        let head: String = s.chars().take(200).collect();
        format!("{head}… ({} bytes)", s.len())
    } else {
        s.to_owned()
    }
}

/// What the server must answer to a frame (besides anything else it pushes).
#[derive(Debug, Clone, PartialEq)]
enum Expect {
    /// No error; maybe other frames.
    NoError,
    /// One extra `pong`.
    Pong,
    /// Exactly this error.
    Error(ErrorCode, Option<MessageId>),
    /// An `ack` of this id, or an error for it with one of these codes.
    AckOr(MessageId, &'static [ErrorCode]),
    /// The agent closed `conversation`, or was told it is not theirs.
    Closed(ConversationId),
    /// The note with this id echoed, or an error for it with one of these codes.
    NoteOr(MessageId, &'static [ErrorCode]),
    /// Nothing refused, or one refusal (of no message) with one of these codes.
    NoneOr(&'static [ErrorCode]),
}

/// The oracle: what `src/server/ws.rs` promises for `wire` on `side` after `hello`.
fn expect_after_hello(side: Side, wire: &Wire) -> Expect {
    let text = match wire {
        Wire::Binary(_) => return Expect::Error(ErrorCode::BadFrame, None),
        Wire::WsPing(_) => return Expect::NoError,
        Wire::Text(text) => text,
    };
    if text.len() > MAX_FRAME_BYTES {
        return Expect::Error(ErrorCode::FrameTooLarge, None);
    }
    let Ok(msg) = serde_json::from_str::<ClientMsg>(text) else {
        return Expect::Error(ErrorCode::BadFrame, None);
    };
    match (msg, side) {
        (ClientMsg::Ping, _) => Expect::Pong,
        (ClientMsg::Hello { .. }, _) => Expect::Error(ErrorCode::BadFrame, None),
        (ClientMsg::Start, Side::Visitor) => Expect::NoError,
        (ClientMsg::Start, Side::Agent) | (ClientMsg::Close { .. }, Side::Visitor) => {
            Expect::Error(ErrorCode::WrongRole, None)
        }
        (ClientMsg::Read { .. }, _) => Expect::NoError,
        (ClientMsg::Typing { draft, .. }, Side::Visitor) => {
            if draft.is_some_and(|d| d.chars().count() > kefu::protocol::MAX_DRAFT_CHARS) {
                Expect::Error(ErrorCode::TextTooLong, None)
            } else {
                Expect::NoError
            }
        }
        (ClientMsg::Typing { conversation, .. }, Side::Agent) => match conversation {
            Some(_) => Expect::NoError,
            None => Expect::Error(ErrorCode::BadFrame, None),
        },
        (ClientMsg::Profile { .. }, Side::Agent) | (ClientMsg::PageView { .. }, Side::Agent) => {
            Expect::Error(ErrorCode::WrongRole, None)
        }
        (
            ClientMsg::PageView {
                url,
                title,
                referrer,
                time_zone,
                utc_offset,
            },
            Side::Visitor,
        ) => match check_page_view(url, title, referrer, time_zone, utc_offset) {
            Err(code) => Expect::Error(code, None),
            // Stored and shown, or over its rate and dropped: no answer either way.
            Ok(_) => Expect::NoError,
        },
        (ClientMsg::Profile { name, email }, Side::Visitor) => {
            let name = name.as_deref().map(kefu::profile::clean_profile_name);
            let email = email.as_deref().map(kefu::profile::clean_email);
            match (name, email) {
                (Some(Err(code)), _) | (_, Some(Err(code))) => Expect::Error(code, None),
                _ => Expect::NoError,
            }
        }
        (ClientMsg::Close { conversation }, Side::Agent) => Expect::Closed(conversation),
        (ClientMsg::Rate { .. }, Side::Agent) => Expect::Error(ErrorCode::WrongRole, None),
        (ClientMsg::Rate { score, comment, .. }, Side::Visitor) => {
            match kefu::server::hub::check_rating(score, &comment) {
                Err(code) => Expect::Error(code, None),
                // Not theirs (or no such conversation), not closed, or rated:
                // refused; theirs and closed: answered with its summary.
                Ok(()) => Expect::NoneOr(&[
                    ErrorCode::Forbidden,
                    ErrorCode::ConversationOpen,
                    ErrorCode::AlreadyRated,
                ]),
            }
        }
        (ClientMsg::Note { .. } | ClientMsg::Transfer { .. }, Side::Visitor) => {
            Expect::Error(ErrorCode::WrongRole, None)
        }
        (ClientMsg::Note { id, text, .. }, Side::Agent) => {
            if bad_id(&id) {
                Expect::Error(ErrorCode::BadMessageId, Some(id))
            } else {
                match check_text(&text.replace('\0', "")) {
                    Err(TextProblem::Blank) => Expect::Error(ErrorCode::EmptyText, Some(id)),
                    Err(TextProblem::TooLong) => Expect::Error(ErrorCode::TextTooLong, Some(id)),
                    Ok(()) => {
                        Expect::NoteOr(id, &[ErrorCode::Forbidden, ErrorCode::ConversationClosed])
                    }
                }
            }
        }
        (ClientMsg::Transfer { note, .. }, Side::Agent) => {
            if note.is_some_and(|n| check_text(&n) == Err(TextProblem::TooLong)) {
                Expect::Error(ErrorCode::TextTooLong, None)
            } else {
                Expect::NoneOr(&[
                    ErrorCode::Forbidden,
                    ErrorCode::AgentUnknown,
                    ErrorCode::AgentDisabled,
                    ErrorCode::AgentOffline,
                    ErrorCode::AgentAway,
                    ErrorCode::AgentAtCapacity,
                ])
            }
        }
        (
            ClientMsg::Send {
                id,
                conversation,
                text,
                ..
            },
            side,
        ) => {
            if side == Side::Agent && conversation.is_none() {
                Expect::Error(ErrorCode::BadFrame, Some(id))
            } else if bad_id(&id) {
                Expect::Error(ErrorCode::BadMessageId, Some(id))
            } else {
                match check_text(&text.replace('\0', "")) {
                    Err(TextProblem::Blank) => Expect::Error(ErrorCode::EmptyText, Some(id)),
                    Err(TextProblem::TooLong) => Expect::Error(ErrorCode::TextTooLong, Some(id)),
                    Ok(()) if side == Side::Agent => {
                        Expect::AckOr(id, &[ErrorCode::Forbidden, ErrorCode::ConversationClosed])
                    }
                    Ok(()) => Expect::AckOr(id, &[ErrorCode::ConversationClosed]),
                }
            }
        }
    }
}

/// A message id the server refuses: empty, too long, or holding a NUL
/// (which no database text column keeps); NULs in texts are left out.
fn bad_id(id: &MessageId) -> bool {
    id.0.is_empty() || id.0.len() > MAX_MESSAGE_ID_LEN || id.0.contains('\0')
}

/// What must answer `wire` before `hello`: `None` for nothing, or for a
/// `hello` (not sent early: it would register the socket).
fn expect_before_hello(wire: &Wire) -> Option<ErrorCode> {
    match wire {
        Wire::Binary(_) => Some(ErrorCode::BadFrame),
        Wire::WsPing(_) => None,
        Wire::Text(text) if text.len() > MAX_FRAME_BYTES => Some(ErrorCode::FrameTooLarge),
        Wire::Text(text) => match serde_json::from_str::<ClientMsg>(text) {
            Err(_) => Some(ErrorCode::BadFrame),
            Ok(ClientMsg::Hello { .. }) => None,
            Ok(_) => Some(ErrorCode::HelloFirst),
        },
    }
}

fn is_hello(wire: &Wire) -> bool {
    matches!(wire, Wire::Text(t) if t.len() <= MAX_FRAME_BYTES
        && matches!(serde_json::from_str::<ClientMsg>(t), Ok(ClientMsg::Hello { .. })))
}

/// Checks the answers to one frame against the oracle. Errors must all be
/// explained by it: a `storage` error, say, fails the property.
fn check_answers(expect: &Expect, got: &[ServerMsg]) -> Result<(), String> {
    let errors: Vec<(&ErrorCode, &Option<MessageId>)> = got
        .iter()
        .filter_map(|m| match m {
            ServerMsg::Error { code, id, .. } => Some((code, id)),
            _ => None,
        })
        .collect();
    let ok = match expect {
        Expect::NoError | Expect::Pong => errors.is_empty(),
        Expect::Error(code, id) => errors.len() == 1 && errors[0] == (code, id),
        Expect::AckOr(id, codes) => {
            let acked = got
                .iter()
                .any(|m| matches!(m, ServerMsg::Ack { id: a, .. } if a == id));
            match errors.as_slice() {
                [] => acked,
                [(code, Some(e))] => !acked && e == id && codes.contains(code),
                _ => false,
            }
        }
        Expect::NoteOr(id, codes) => {
            let echoed = got
                .iter()
                .any(|m| matches!(m, ServerMsg::Note { note } if note.id == *id));
            match errors.as_slice() {
                [] => echoed,
                [(code, Some(e))] => !echoed && e == id && codes.contains(code),
                _ => false,
            }
        }
        Expect::NoneOr(codes) => match errors.as_slice() {
            [] => true,
            [(code, None)] => codes.contains(code),
            _ => false,
        },
        Expect::Closed(conversation) => {
            let closed = got.iter().any(|m| {
                matches!(m, ServerMsg::Conversation { conversation: c }
                    if c.id == *conversation && c.status == ConversationStatus::Closed)
            });
            match errors.as_slice() {
                [] => closed,
                [(ErrorCode::Forbidden, None)] => !closed,
                _ => false,
            }
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!("expected {expect:?}, got {got:#?}"))
    }
}

/// One kefu WebSocket client.
struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    who: &'static str,
}

impl Client {
    async fn connect(server: &Server, side: Side) -> Result<Self, String> {
        let (path, who) = match side {
            Side::Visitor => ("/ws/visitor", "visitor"),
            Side::Agent => ("/ws/agent", "agent"),
        };
        let mut request = format!("ws://{}{path}", server.app.addr)
            .into_client_request()
            .map_err(|e| format!("{who}: request: {e}"))?;
        if side == Side::Agent {
            let cookie = HeaderValue::from_str(&server.cookie).map_err(|e| e.to_string())?;
            request.headers_mut().insert(header::COOKIE, cookie);
        }
        // No Nagle delay between a frame and the ping that follows it.
        let (ws, _) = tokio_tungstenite::connect_async_with_config(request, None, true)
            .await
            .map_err(|e| format!("{who}: connecting failed: {e}"))?;
        Ok(Self { ws, who })
    }

    async fn put(&mut self, wire: &Wire) -> Result<(), String> {
        let message = match wire {
            Wire::Text(t) => Message::text(t.clone()),
            Wire::Binary(b) => Message::binary(b.clone()),
            Wire::WsPing(p) => Message::Ping(Bytes::from(p.clone())),
        };
        self.ws
            .send(message)
            .await
            .map_err(|e| format!("{}: sending failed: {e}", self.who))
    }

    async fn send(&mut self, msg: &ClientMsg) -> Result<(), String> {
        self.put(&Wire::Text(encode(msg))).await
    }

    /// Turns a received WebSocket message into a typed server message;
    /// `Ok(None)` for control frames. A close, a binary frame or an
    /// undecodable or unknown text frame is a failure.
    fn typed(&self, frame: Message) -> Result<Option<ServerMsg>, String> {
        match frame {
            Message::Text(text) => match serde_json::from_str::<ServerMsg>(&text) {
                Ok(ServerMsg::Unknown) => Err(format!("{}: untyped frame {text}", self.who)),
                Ok(msg) => Ok(Some(msg)),
                Err(e) => Err(format!("{}: undecodable frame {text}: {e}", self.who)),
            },
            Message::Close(close) => Err(format!("{}: the server closed: {close:?}", self.who)),
            Message::Binary(_) => Err(format!("{}: the server sent binary", self.who)),
            _ => Ok(None),
        }
    }

    /// The next typed server message.
    async fn next(&mut self, deadline: Instant) -> Result<ServerMsg, String> {
        loop {
            let frame = match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return Err(format!("{}: no answer within {ANSWER_TIMEOUT:?}", self.who)),
                Ok(None) => return Err(format!("{}: the connection ended", self.who)),
                Ok(Some(Err(e))) => return Err(format!("{}: the socket failed: {e}", self.who)),
                Ok(Some(Ok(frame))) => frame,
            };
            if let Some(msg) = self.typed(frame)? {
                return Ok(msg);
            }
        }
    }

    /// Reads until `done` accepts a message; returns everything read.
    async fn read_until(
        &mut self,
        mut done: impl FnMut(&ServerMsg) -> bool,
    ) -> Result<Vec<ServerMsg>, String> {
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        let mut got = Vec::new();
        loop {
            let msg = self.next(deadline).await?;
            let stop = done(&msg);
            got.push(msg);
            if stop {
                return Ok(got);
            }
        }
    }

    /// Sends `ping` and reads until `pongs` pongs arrived (frames are
    /// answered in order, so everything owed to earlier frames is in).
    async fn sync(&mut self, pongs: usize) -> Result<Vec<ServerMsg>, String> {
        self.send(&ClientMsg::Ping).await?;
        let mut seen = 0;
        self.read_until(|m| {
            seen += usize::from(*m == ServerMsg::Pong);
            seen == pongs
        })
        .await
    }

    /// Whatever has already arrived, without waiting.
    fn drain(&mut self) -> Result<Vec<ServerMsg>, String> {
        let mut got = Vec::new();
        while let Some(item) = self.ws.next().now_or_never() {
            match item {
                None => return Err(format!("{}: the connection ended", self.who)),
                Some(Err(e)) => return Err(format!("{}: the socket failed: {e}", self.who)),
                Some(Ok(frame)) => got.extend(self.typed(frame)?),
            }
        }
        Ok(got)
    }

    /// Sends frames before `hello`: each gets its typed error, nothing else.
    async fn before_hello(&mut self, wires: &[Wire]) -> Result<(), String> {
        for wire in wires {
            let Some(code) = expect_before_hello(wire) else {
                if !is_hello(wire) {
                    self.put(wire).await?;
                }
                continue;
            };
            self.put(wire).await?;
            let got = self.read_until(|_| true).await?;
            if !matches!(got.as_slice(), [ServerMsg::Error { code: c, id: None, .. }] if *c == code)
            {
                return Err(format!(
                    "{}: before hello, {} should get {code:?}, got {got:?}",
                    self.who,
                    shorten(&format!("{wire:?}"))
                ));
            }
        }
        Ok(())
    }

    /// Says hello; returns the welcome and the snapshot that follows it.
    async fn hello(
        &mut self,
        token: Option<String>,
        resume: Vec<Resume>,
    ) -> Result<(ServerMsg, Vec<ServerMsg>), String> {
        self.send(&ClientMsg::Hello {
            version: PROTOCOL_VERSION,
            token,
            resume,
            identity: None,
        })
        .await?;
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        let welcome = self.next(deadline).await?;
        if !matches!(welcome, ServerMsg::Welcome { .. }) {
            return Err(format!("{}: expected welcome, got {welcome:?}", self.who));
        }
        let snapshot = self.sync(1).await?;
        Ok((welcome, snapshot))
    }

    async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// A visitor and an agent, and what they have been told.
struct World {
    visitor: Client,
    agent: Client,
    /// The visitor's label, from its welcome.
    label: String,
    /// The visitor's token (issued now, or the one it came back with).
    token: Option<String>,
    /// Conversations each side was told about (visitor, agent).
    known: [BTreeSet<ConversationId>; 2],
    /// Conversations seen anywhere, to aim frames at.
    targets: Vec<ConversationId>,
    /// Message ids sent, to resend.
    ids: Vec<MessageId>,
}

impl World {
    async fn open(server: &Server, case: &Case) -> Result<Self, String> {
        let mut agent = Client::connect(server, Side::Agent).await?;
        let wires: Vec<Wire> = case.agent_before_hello.iter().map(raw_wire).collect();
        agent.before_hello(&wires).await?;
        let agent_resume = server.resume(&case.agent_resume, &[]);
        let (_, agent_snapshot) = agent.hello(None, agent_resume.clone()).await?;
        let mut visitor = Client::connect(server, Side::Visitor).await?;
        let wires: Vec<Wire> = case.visitor_before_hello.iter().map(raw_wire).collect();
        visitor.before_hello(&wires).await?;
        let (token, own) = server.token(&case.visitor_token);
        let visitor_resume = server.resume(&case.visitor_resume, &own);
        let (welcome, visitor_snapshot) =
            visitor.hello(token.clone(), visitor_resume.clone()).await?;
        let issued = server.remember_token(&welcome);
        let label = match welcome {
            ServerMsg::Welcome {
                visitor: Some(info),
                ..
            } => {
                // A token issued earlier is recognised (no new one) once its
                // visitor was stored: they had a conversation. (One who did
                // nothing worth keeping was never stored: issue 14.)
                let returning =
                    matches!(case.visitor_token, TokenPick::Issued(_)) && !own.is_empty();
                if returning && token.is_some() && info.token.is_some() {
                    return Err(format!(
                        "a known visitor token was not recognised: {token:?}"
                    ));
                }
                info.label
            }
            other => return Err(format!("visitor: not a visitor welcome: {other:?}")),
        };
        let mut world = Self {
            visitor,
            agent,
            label,
            token: issued.or(token),
            known: [BTreeSet::new(), BTreeSet::new()],
            targets: Vec::new(),
            ids: Vec::new(),
        };
        world.observe(Side::Agent, &agent_snapshot)?;
        world.observe(Side::Visitor, &visitor_snapshot)?;
        check_replay(Side::Agent, &agent_resume, &agent_snapshot)?;
        check_replay(Side::Visitor, &visitor_resume, &visitor_snapshot)?;
        Ok(world)
    }

    fn client(&mut self, side: Side) -> &mut Client {
        match side {
            Side::Visitor => &mut self.visitor,
            Side::Agent => &mut self.agent,
        }
    }

    /// Records what a side was told, and checks that each side hears about
    /// messages only in conversations it was told about, and that a visitor
    /// is only ever told about its own conversation.
    fn observe(&mut self, side: Side, got: &[ServerMsg]) -> Result<(), String> {
        let i = side as usize;
        for msg in got {
            match msg {
                ServerMsg::Conversation { conversation } => {
                    if side == Side::Visitor && conversation.visitor_label != self.label {
                        return Err(format!(
                            "{} was told about another visitor's conversation: {conversation:?}",
                            self.label
                        ));
                    }
                    self.known[i].insert(conversation.id);
                    if !self.targets.contains(&conversation.id) {
                        self.targets.push(conversation.id);
                    }
                }
                ServerMsg::Message { message }
                    if !self.known[i].contains(&message.conversation) =>
                {
                    return Err(format!(
                        "the {side:?} got a message of a conversation it was not told about: {message:?}"
                    ));
                }
                ServerMsg::Welcome { .. } => {
                    return Err(format!("the {side:?} got a second welcome"));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Aims a generated frame at the live state.
    fn wire(&mut self, frame: &Frame) -> Wire {
        let Frame::Msg { msg, aim, reuse } = frame else {
            return raw_wire(frame);
        };
        let target = aim
            .filter(|_| !self.targets.is_empty())
            .map(|ix| self.targets[ix.index(self.targets.len())]);
        let mut msg = msg.clone();
        match &mut msg {
            ClientMsg::Send {
                id, conversation, ..
            } => {
                if let (Some(t), Some(c)) = (target, conversation.as_mut()) {
                    *c = t;
                }
                if let Some(ix) = reuse.filter(|_| !self.ids.is_empty()) {
                    *id = self.ids[ix.index(self.ids.len())].clone();
                }
                self.ids.push(id.clone());
            }
            ClientMsg::Read { conversation, .. } | ClientMsg::Close { conversation } => {
                if let Some(t) = target {
                    *conversation = t;
                }
            }
            ClientMsg::Typing {
                conversation: Some(conversation),
                ..
            } => {
                if let Some(t) = target {
                    *conversation = t;
                }
            }
            _ => {}
        }
        Wire::Text(encode(&msg))
    }

    /// Sends one frame from `side`, then checks every answer to it.
    async fn step(&mut self, side: Side, frame: &Frame) -> Result<(), String> {
        let wire = self.wire(frame);
        let expect = expect_after_hello(side, &wire);
        let pongs = 1 + usize::from(expect == Expect::Pong);
        let client = self.client(side);
        client.put(&wire).await?;
        let got = client.sync(pongs).await.map_err(|e| {
            format!(
                "after the {side:?} sent {}: {e}",
                shorten(&format!("{wire:?}"))
            )
        })?;
        let other = match side {
            Side::Visitor => Side::Agent,
            Side::Agent => Side::Visitor,
        };
        let pushed = self.client(other).drain()?;
        self.observe(side, &got)?;
        self.observe(other, &pushed)?;
        check_answers(&expect, &got)
            .map_err(|e| format!("the {side:?} sent {}: {e}", shorten(&format!("{wire:?}"))))
    }

    /// Both sockets still answer `ping`.
    async fn still_alive(&mut self) -> Result<(), String> {
        for side in [Side::Visitor, Side::Agent] {
            let got = self.client(side).sync(1).await?;
            self.observe(side, &got)?;
        }
        Ok(())
    }
}

/// Replayed messages (the snapshot after `welcome`) follow a `resume`
/// entry: seq past its `after`; for a visitor, per the first entry naming
/// the conversation and in order.
fn check_replay(side: Side, resume: &[Resume], snapshot: &[ServerMsg]) -> Result<(), String> {
    let mut last: Option<(ConversationId, i64)> = None;
    for msg in snapshot {
        let ServerMsg::Message { message } = msg else {
            continue;
        };
        let c = message.conversation;
        let ok = match side {
            Side::Visitor => {
                resume
                    .iter()
                    .find(|r| r.conversation == c)
                    .is_some_and(|r| message.seq > r.after)
                    && last.is_none_or(|(lc, ls)| lc != c || ls < message.seq)
            }
            Side::Agent => resume
                .iter()
                .any(|r| r.conversation == c && message.seq > r.after),
        };
        if !ok {
            return Err(format!(
                "the {side:?} resumed with {resume:?} and was replayed {message:?}"
            ));
        }
        last = Some((c, message.seq));
    }
    Ok(())
}

/// A frame as sent when nothing is known of the live state.
fn raw_wire(frame: &Frame) -> Wire {
    match frame {
        Frame::Msg { msg, .. } => Wire::Text(encode(msg)),
        Frame::Text(t) => Wire::Text(t.clone()),
        Frame::Binary(b) => Wire::Binary(b.clone()),
        Frame::Oversized(n) => Wire::Text(oversized(*n)),
        Frame::WsPing(p) => Wire::WsPing(p.clone()),
    }
}

/// A fresh visitor connects, is served by the agent, and both sides chat;
/// then the agent closes every conversation it holds (keeps runs bounded).
async fn fresh_visitor_chats(server: &Server, agent: &mut Client, tag: &str) -> Result<(), String> {
    let mut visitor = Client::connect(server, Side::Visitor).await?;
    let (welcome, _) = visitor.hello(None, vec![]).await?;
    server.remember_token(&welcome);
    visitor.send(&ClientMsg::Start).await?;
    let got = visitor
        .read_until(|m| {
            matches!(m, ServerMsg::Conversation { conversation }
                if conversation.status == ConversationStatus::Assigned)
        })
        .await
        .map_err(|e| format!("a fresh visitor was not served: {e}"))?;
    let Some(ServerMsg::Conversation { conversation }) = got.last() else {
        return Err("no conversation".into());
    };
    let conversation = conversation.id;
    let question = MessageId(format!("fresh-q-{tag}"));
    visitor
        .send(&ClientMsg::Send {
            id: question.clone(),
            conversation: None,
            text: "still there?".into(),
            resend: false,
        })
        .await?;
    visitor
        .read_until(|m| matches!(m, ServerMsg::Ack { id, .. } if *id == question))
        .await?;
    agent
        .read_until(|m| matches!(m, ServerMsg::Message { message } if message.id == question))
        .await
        .map_err(|e| format!("the agent did not get the fresh visitor's message: {e}"))?;
    let answer = MessageId(format!("fresh-a-{tag}"));
    agent
        .send(&ClientMsg::Send {
            id: answer.clone(),
            conversation: Some(conversation),
            text: "yes".into(),
            resend: false,
        })
        .await?;
    agent
        .read_until(|m| matches!(m, ServerMsg::Ack { id, .. } if *id == answer))
        .await?;
    visitor
        .read_until(|m| matches!(m, ServerMsg::Message { message } if message.id == answer))
        .await
        .map_err(|e| format!("the fresh visitor did not get the answer: {e}"))?;
    for c in server.app.state.hub.conversations_of(server.agent) {
        agent.send(&ClientMsg::Close { conversation: c }).await?;
        agent
            .read_until(|m| {
                matches!(m, ServerMsg::Conversation { conversation }
                    if conversation.id == c && conversation.status == ConversationStatus::Closed)
            })
            .await
            .map_err(|e| format!("closing {c:?}: {e}"))?;
    }
    visitor.close().await;
    Ok(())
}

async fn run_case(server: &Server, case: &Case, tag: &str) -> Result<(), String> {
    let mut world = World::open(server, case).await?;
    for (side, frame) in &case.steps {
        world.step(*side, frame).await?;
    }
    server.remember(&world);
    world.still_alive().await?;
    fresh_visitor_chats(server, &mut world.agent, tag).await?;
    world.still_alive().await?;
    world.visitor.close().await;
    world.agent.close().await;
    Ok(())
}

#[test]
fn sockets_survive_generated_frames() {
    let rt = runtime();
    let server = rt.block_on(start_server());
    let mut cfg = config(SOCKET_CASES);
    cfg.max_shrink_iters = 300;
    let mut runner = TestRunner::new(cfg);
    let n = std::cell::Cell::new(0u64);
    let result = runner.run(&case(), |case| {
        n.set(n.get() + 1);
        let tag = format!("case{}", n.get());
        rt.block_on(async {
            match tokio::time::timeout(CASE_TIMEOUT, run_case(&server, &case, &tag)).await {
                Ok(result) => result,
                Err(_) => Err(format!("the case took over {CASE_TIMEOUT:?}")),
            }
        })
        .map_err(fail)
    });
    if let Err(e) = result {
        panic!("{e}\n{runner}");
    }
}

#[test]
fn corpus_frames_leave_the_sockets_working() {
    let rt = runtime();
    let server = rt.block_on(start_server());
    let corpus = corpus();
    let result: Result<(), String> = rt.block_on(async {
        let case = Case {
            visitor_before_hello: vec![],
            agent_before_hello: vec![],
            visitor_token: TokenPick::Fresh,
            visitor_resume: vec![],
            agent_resume: vec![],
            steps: vec![],
        };
        let mut world = World::open(&server, &case).await?;
        for (name, bytes) in &corpus {
            let wire = corpus_wire(bytes);
            let frame = match &wire {
                Wire::Text(t) => Frame::Text(t.clone()),
                Wire::Binary(b) => Frame::Binary(b.clone()),
                Wire::WsPing(p) => Frame::WsPing(p.clone()),
            };
            // Before hello, on a fresh visitor socket.
            let mut early = Client::connect(&server, Side::Visitor).await?;
            match &wire {
                Wire::Text(t)
                    if is_hello(&wire)
                        && matches!(serde_json::from_str::<ClientMsg>(t),
                            Ok(ClientMsg::Hello { version, .. }) if version != PROTOCOL_VERSION) =>
                {
                    // Documented: an unsupported version closes the socket with 4000.
                    early.put(&wire).await?;
                    let deadline = Instant::now() + ANSWER_TIMEOUT;
                    match tokio::time::timeout_at(deadline, early.ws.next()).await {
                        Ok(Some(Ok(Message::Close(Some(c))))) if u16::from(c.code) == 4000 => {}
                        other => return Err(format!("{name}: expected close 4000, got {other:?}")),
                    }
                }
                _ if is_hello(&wire) => {
                    early.put(&wire).await?;
                    let deadline = Instant::now() + ANSWER_TIMEOUT;
                    let welcome = early.next(deadline).await?;
                    if !matches!(welcome, ServerMsg::Welcome { .. }) {
                        return Err(format!("{name}: before hello: got {welcome:?}"));
                    }
                    early.sync(1).await.map_err(|e| format!("{name}: {e}"))?;
                }
                _ => {
                    early
                        .before_hello(std::slice::from_ref(&wire))
                        .await
                        .map_err(|e| format!("{name}: {e}"))?;
                    early
                        .hello(None, vec![])
                        .await
                        .map_err(|e| format!("{name}: {e}"))?;
                }
            }
            early.close().await;
            // After hello, from both sides.
            for side in [Side::Visitor, Side::Agent] {
                world
                    .step(side, &frame)
                    .await
                    .map_err(|e| format!("{name}: {e}"))?;
            }
        }
        world.still_alive().await?;
        fresh_visitor_chats(&server, &mut world.agent, "corpus").await?;
        world.still_alive().await
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
