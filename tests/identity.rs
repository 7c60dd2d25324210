#![cfg(feature = "ssr")]
//! Identity verification over real sockets: a user signed by the website
//! finds one conversation and its history on every device; forged,
//! tampered, expired and rotated-out identities are refused with their
//! code and join nothing; unsigned profiles label a visitor and nothing
//! more; only admins read and rotate the secret.
//!
//! Run with `cargo test --features ssr --test identity`.

use std::time::Duration;

use kefu::api::VisitorThread;
use kefu::error::AppError;
use kefu::protocol::{
    ClientMsg, ConversationId, ConversationStatus, ErrorCode, Resume, ServerMsg, VisitorInfo,
    PROTOCOL_VERSION,
};
use kefu::server::identity::sign;
use kefu::server::secrets::new_token;
use kefu::server::storage::now_ms;

mod common;
use common::client::Client;
use common::{start_with, Server, Setup};

async fn start() -> Server {
    start_with(Setup {
        client_addresses: false,
        ..Setup::default()
    })
    .await
}

/// The secret admins see (made at first need).
async fn secret(server: &Server) -> String {
    server
        .state
        .storage
        .identity_secrets(&new_token())
        .await
        .expect("reads the secrets")
        .current
}

/// Unix seconds now.
fn now() -> i64 {
    now_ms() / 1000
}

/// The website's token for user `user_id`, expiring in `ttl` seconds.
fn signed(secret: &str, user_id: &str, ttl: i64) -> String {
    sign(
        secret,
        &format!(
            r#"{{"user_id":"{user_id}","name":"Li Lei","email":"li@example.com","exp":{}}}"#,
            now() + ttl
        ),
    )
}

/// Opens a visitor socket and says hello with `token`, `identity` and
/// `resume`; the very next frame must be the welcome.
async fn visitor(
    server: &Server,
    who: &str,
    token: Option<String>,
    identity: Option<String>,
    resume: Vec<Resume>,
) -> (Client, VisitorInfo) {
    let mut client = server
        .upgrade("/ws/visitor", None, &[])
        .await
        .unwrap_or_else(|status| panic!("{who}: refused: {status}"))
        .named(who);
    client
        .send(&ClientMsg::Hello {
            version: PROTOCOL_VERSION,
            token,
            resume,
            identity,
        })
        .await;
    match client.next_within(Duration::from_secs(5)).await {
        Some(ServerMsg::Welcome {
            visitor: Some(info),
            ..
        }) => (client, info),
        other => panic!("{who}: expected a visitor welcome, got {other:?}"),
    }
}

/// The frames that arrive until a `pong`, which must come: whatever the
/// server had to say to `client` meanwhile.
async fn until_pong(client: &mut Client) -> Vec<ServerMsg> {
    client.send(&ClientMsg::Ping).await;
    client
        .frames_until("pong", |m| matches!(m, ServerMsg::Pong))
        .await
}

/// The visitor's history through `visitor_history`.
async fn history(
    server: &Server,
    token: &str,
    identity: Option<&str>,
) -> Result<Option<VisitorThread>, AppError> {
    let mut args = vec![("token", token)];
    args.extend(identity.map(|i| ("identity", i)));
    let response = server.call("visitor_history", &args, None).await;
    if response.ok() {
        Ok(response.json())
    } else {
        Err(response.app_error())
    }
}

#[tokio::test]
async fn one_signed_user_on_two_devices_sees_one_conversation_and_its_history() {
    let server = start().await;
    let (_cookie, mut agent) = server.online_agent("Ann", 5).await;
    let secret = secret(&server).await;

    // The phone: first use of this user creates them, with a device token.
    let identity = signed(&secret, "user-42", 3600);
    let (mut phone, welcome) =
        visitor(&server, "phone", None, Some(identity.clone()), vec![]).await;
    let phone_token = welcome.token.expect("a device token is issued");
    let (conversation, _) = phone.start_assigned("Ann").await;
    let seen = agent
        .expect_conversation("the labelled conversation", |c| {
            c.id == conversation && c.status == ConversationStatus::Assigned
        })
        .await;
    assert_eq!(seen.visitor_name.as_deref(), Some("Li Lei"));
    assert_eq!(seen.visitor_email.as_deref(), Some("li@example.com"));
    assert!(seen.verified, "the agent sees the label is signed");
    phone.say("p-1", "From my phone").await;
    phone.expect_ack("p-1").await;
    agent
        .expect_message("the phone's message", |m| m.id.0 == "p-1")
        .await;
    phone.close().await;

    // The laptop: another browser, no token, a fresh signature of the same user.
    let identity = signed(&secret, "user-42", 7200);
    let (mut laptop, welcome) =
        visitor(&server, "laptop", None, Some(identity.clone()), vec![]).await;
    let laptop_token = welcome.token.expect("the laptop gets its own token");
    assert_ne!(laptop_token, phone_token);
    let frames = until_pong(&mut laptop).await;
    assert!(
        frames.iter().any(|m| matches!(m,
            ServerMsg::Conversation { conversation: c } if c.id == conversation)),
        "the laptop is told the same open conversation: {frames:?}"
    );
    let thread = history(&server, &laptop_token, Some(&identity))
        .await
        .expect("the history reads")
        .expect("there is a conversation");
    assert_eq!(thread.conversation.id, conversation);
    assert!(
        thread.page.messages.iter().any(|m| m.id.0 == "p-1"),
        "the laptop reads the phone's message"
    );
    laptop.say("l-1", "Now on my laptop").await;
    let (acked_in, _) = laptop.expect_ack("l-1").await;
    assert_eq!(acked_in, conversation, "one conversation, not two");
    agent
        .expect_message("the laptop's message", |m| {
            m.id.0 == "l-1" && m.conversation == conversation
        })
        .await;

    // The phone again, with its token: no new token, both messages replayed.
    let (mut phone, welcome) = visitor(
        &server,
        "phone again",
        Some(phone_token),
        Some(identity),
        vec![Resume {
            conversation,
            after: 0,
        }],
    )
    .await;
    assert_eq!(welcome.token, None, "the phone's token still holds");
    let frames = until_pong(&mut phone).await;
    let ids: Vec<&str> = common::chat::messages(&frames)
        .map(|m| m.id.0.as_str())
        .collect();
    assert!(
        ids.contains(&"p-1") && ids.contains(&"l-1"),
        "the whole history: {ids:?}"
    );
}

/// A user with a conversation and a message in it: (their device token,
/// the conversation).
async fn user_with_history(server: &Server, secret: &str) -> (String, ConversationId) {
    let (mut device, welcome) = visitor(
        server,
        "device",
        None,
        Some(signed(secret, "user-7", 3600)),
        vec![],
    )
    .await;
    device.send(&ClientMsg::Start).await;
    device.say("private", "my order number is 123").await;
    let (conversation, _) = device.expect_ack("private").await;
    device.close().await;
    (welcome.token.expect("a device token"), conversation)
}

/// Says hello with `identity` (and `token`) and requires: an anonymous
/// welcome with a new token, then `code`, and no conversation at all.
async fn refused_as(server: &Server, token: Option<String>, identity: String, code: ErrorCode) {
    let (mut client, welcome) = visitor(server, "refused", token, Some(identity), vec![]).await;
    assert!(
        welcome.token.is_some(),
        "{code:?}: a new anonymous visitor gets its own token"
    );
    client.next_is_error(code).await;
    let frames = until_pong(&mut client).await;
    assert!(
        !frames.iter().any(|m| matches!(
            m,
            ServerMsg::Conversation { .. } | ServerMsg::Message { .. }
        )),
        "{code:?}: nothing of the user's is shown: {frames:?}"
    );
}

#[tokio::test]
async fn forged_tampered_expired_and_rotated_out_identities_join_nothing() {
    let server = start().await;
    let secret = secret(&server).await;
    let (user_token, conversation) = user_with_history(&server, &secret).await;

    let forged = signed("a guess at the secret", "user-7", 3600);
    refused_as(&server, None, forged, ErrorCode::IdentityInvalid).await;

    // Tampered: the user's payload under another user's genuine signature.
    let someone_else = signed(&secret, "someone-else", 3600);
    let (_, their_signature) = someone_else.split_once('.').expect("a dot");
    let wanted = signed(&secret, "user-7", 3600);
    let (wanted_payload, _) = wanted.split_once('.').expect("a dot");
    let tampered = format!("{wanted_payload}.{their_signature}");
    refused_as(&server, None, tampered, ErrorCode::IdentityInvalid).await;

    // Expired, even with the user's own device token beside it.
    let expired = signed(&secret, "user-7", -1);
    refused_as(
        &server,
        Some(user_token.clone()),
        expired,
        ErrorCode::IdentityExpired,
    )
    .await;
    let too_far = signed(&secret, "user-7", 31 * 24 * 3600);
    refused_as(&server, None, too_far, ErrorCode::IdentityInvalid).await;
    refused_as(&server, None, "garbage".into(), ErrorCode::IdentityInvalid).await;

    // Rotated out: the old secret's tokens are refused, the new one's work.
    let before_rotation = signed(&secret, "user-7", 3600);
    let fresh = new_token();
    server
        .state
        .storage
        .rotate_identity_secret(&fresh)
        .await
        .expect("rotates");
    refused_as(
        &server,
        Some(user_token.clone()),
        before_rotation,
        ErrorCode::IdentityRetired,
    )
    .await;

    // The device token alone no longer opens the user's history either.
    let (mut bare, welcome) = visitor(
        &server,
        "bare token",
        Some(user_token.clone()),
        None,
        vec![],
    )
    .await;
    assert!(welcome.token.is_some(), "the token alone is not the user's");
    let frames = until_pong(&mut bare).await;
    assert!(
        !frames
            .iter()
            .any(|m| matches!(m, ServerMsg::Conversation { .. })),
        "{frames:?}"
    );
    assert_eq!(
        history(&server, &user_token, None).await.err(),
        Some(AppError::NotFound)
    );
    let stale = signed(&secret, "user-7", 3600);
    assert_eq!(
        history(&server, &user_token, Some(&stale)).await.err(),
        Some(AppError::NotFound)
    );

    // With the new secret, the same device finds the user's conversation again.
    let renewed = signed(&fresh, "user-7", 3600);
    let thread = history(&server, &user_token, Some(&renewed))
        .await
        .expect("reads")
        .expect("a conversation");
    assert_eq!(thread.conversation.id, conversation);
    let (mut back, welcome) =
        visitor(&server, "renewed", Some(user_token), Some(renewed), vec![]).await;
    assert_eq!(
        welcome.token, None,
        "the device's token is the user's again"
    );
    let frames = until_pong(&mut back).await;
    assert!(
        frames.iter().any(|m| matches!(m,
            ServerMsg::Conversation { conversation: c } if c.id == conversation)),
        "{frames:?}"
    );
}

#[tokio::test]
async fn profiles_label_the_visitor_and_are_checked() {
    let server = start().await;
    let (_cookie, mut agent) = server.online_agent("Ann", 5).await;
    let (mut visitor_a, _) = visitor(&server, "a", None, None, vec![]).await;
    let (conversation, _) = visitor_a.start_assigned("Ann").await;
    agent
        .expect_conversation("the new conversation", |c| c.id == conversation)
        .await;

    let profile = |name: Option<&str>, email: Option<&str>| ClientMsg::Profile {
        name: name.map(str::to_owned),
        email: email.map(str::to_owned),
    };
    visitor_a
        .send(&profile(Some("  Wang Fang "), Some("fang@example.com")))
        .await;
    let seen = agent
        .expect_conversation("the labelled conversation", |c| {
            c.id == conversation && c.visitor_name.is_some()
        })
        .await;
    assert_eq!(seen.visitor_name.as_deref(), Some("Wang Fang"));
    assert_eq!(seen.visitor_email.as_deref(), Some("fang@example.com"));
    assert!(!seen.verified, "told by the visitor, not signed");

    // Refusals, each with its code; the label stays.
    for (bad, code) in [
        (
            profile(Some(&"x".repeat(81)), None),
            ErrorCode::ProfileNameTooLong,
        ),
        (
            profile(Some("a\u{202E}b"), None),
            ErrorCode::ProfileNameControl,
        ),
        (
            profile(None, Some("not-an-email")),
            ErrorCode::ProfileEmailInvalid,
        ),
    ] {
        visitor_a.send(&bad).await;
        visitor_a.expect_error(code).await;
    }
    agent.send(&profile(Some("Agent"), None)).await;
    agent.expect_error(ErrorCode::WrongRole).await;

    // Another visitor telling the same name and email joins nothing.
    let (mut visitor_b, _) = visitor(&server, "b", None, None, vec![]).await;
    visitor_b
        .send(&profile(Some("Wang Fang"), Some("fang@example.com")))
        .await;
    let (other, _) = visitor_b.start_assigned("Ann").await;
    assert_ne!(
        other, conversation,
        "an unsigned label never joins histories"
    );
    let frames = until_pong(&mut visitor_b).await;
    assert!(
        !common::chat::messages(&frames).any(|m| m.conversation == conversation),
        "{frames:?}"
    );

    // A verified visitor's label is the website's.
    let secret = secret(&server).await;
    let (mut verified, _) = visitor(
        &server,
        "verified",
        None,
        Some(signed(&secret, "user-9", 3600)),
        vec![],
    )
    .await;
    verified.send(&profile(Some("Someone Else"), None)).await;
    verified.expect_error(ErrorCode::Forbidden).await;
}

#[tokio::test]
async fn only_admins_read_and_rotate_the_secret() {
    let server = start().await;
    let (_, admin) = server.signed_in_agent("Boss", true).await;
    let (_, agent) = server.signed_in_agent("Ann", false).await;

    let shown: String = server
        .call("identity_secret", &[], Some(&admin))
        .await
        .json();
    assert_eq!(shown.len(), 64, "256 random bits in hex: {shown:?}");
    let again: String = server
        .call("identity_secret", &[], Some(&admin))
        .await
        .json();
    assert_eq!(shown, again, "the secret stays until rotated");

    for name in ["identity_secret", "rotate_identity_secret"] {
        let refused = server.call(name, &[], Some(&agent)).await.app_error();
        assert_eq!(refused, AppError::Forbidden, "{name} as a non-admin");
        let refused = server.call(name, &[], None).await.app_error();
        assert_eq!(refused, AppError::Unauthorized, "{name} signed out");
    }

    let rotated: String = server
        .call("rotate_identity_secret", &[], Some(&admin))
        .await
        .json();
    assert_ne!(rotated, shown);
    let now_shown: String = server
        .call("identity_secret", &[], Some(&admin))
        .await
        .json();
    assert_eq!(now_shown, rotated);
}
