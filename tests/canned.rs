#![cfg(feature = "ssr")]
//! Canned replies (issue 13, item 4) over the real server: each agent keeps
//! their own, admins the shared ones; text only, shortcuts unique per
//! owner, length limits, and a code for each refusal.
//!
//! Run with `cargo test --features ssr --test canned`.

use kefu::canned::{MAX_CANNED_CHARS, MAX_CANNED_PER_OWNER, MAX_SHORTCUT_CHARS};
use kefu::error::{AppError, Invalid};
use kefu::protocol::canned::CannedReply;
use kefu::server::config::Security;

mod common;
use common::*;

async fn save(server: &Server, cookie: &str, args: &[(&str, &str)]) -> HttpResponse {
    server.call("save_canned", args, Some(cookie)).await
}

async fn list(server: &Server, cookie: &str) -> Vec<CannedReply> {
    server.call("list_canned", &[], Some(cookie)).await.json()
}

fn shortcuts(replies: &[CannedReply]) -> Vec<(String, bool)> {
    replies
        .iter()
        .map(|r| (r.shortcut.clone(), r.shared))
        .collect()
}

#[tokio::test]
async fn agents_keep_their_own_and_see_the_shared_ones() {
    let server = start(Security::default()).await;
    let (_, boss) = server.signed_in_agent("Boss", true).await;
    let (_, ann) = server.signed_in_agent("Ann", false).await;
    let (_, bob) = server.signed_in_agent("Bob", false).await;

    let shared: CannedReply = save(
        &server,
        &boss,
        &[
            ("shortcut", "/Refund"),
            ("text", "Hi {visitor_name}, {agent_name} will refund you."),
            ("shared", "on"),
        ],
    )
    .await
    .json();
    assert_eq!((shared.shortcut.as_str(), shared.shared), ("refund", true));
    let own: CannedReply = save(&server, &ann, &[("shortcut", "hi"), ("text", "Hello!")])
        .await
        .json();
    assert!(!own.shared);
    // The same shortcut in another owner's list is fine.
    let _: CannedReply = save(&server, &bob, &[("shortcut", "hi"), ("text", "Hey")])
        .await
        .json();
    let _: CannedReply = save(&server, &ann, &[("shortcut", "refund"), ("text", "Mine")])
        .await
        .json();

    assert_eq!(
        shortcuts(&list(&server, &ann).await),
        [
            ("hi".into(), false),
            ("refund".into(), false),
            ("refund".into(), true)
        ]
    );
    let bobs = list(&server, &bob).await;
    assert_eq!(
        shortcuts(&bobs),
        [("hi".into(), false), ("refund".into(), true)]
    );
    assert_eq!(bobs[0].text, "Hey");

    // Agents may not write the shared list, nor touch another's replies.
    let response = save(
        &server,
        &ann,
        &[("shortcut", "x"), ("text", "y"), ("shared", "on")],
    )
    .await;
    assert_eq!(response.app_error(), AppError::Forbidden);
    let id = own.id.to_string();
    let response = save(
        &server,
        &bob,
        &[("id", &id), ("shortcut", "hi"), ("text", "taken over")],
    )
    .await;
    assert_eq!(response.app_error(), AppError::NotFound);
    let response = server
        .call("delete_canned", &[("id", &id)], Some(&bob))
        .await;
    assert_eq!(response.app_error(), AppError::NotFound);
    let shared_id = shared.id.to_string();
    let response = server
        .call(
            "delete_canned",
            &[("id", &shared_id), ("shared", "on")],
            Some(&ann),
        )
        .await;
    assert_eq!(response.app_error(), AppError::Forbidden);

    // The owner edits and removes their own.
    let edited: CannedReply = save(
        &server,
        &ann,
        &[("id", &id), ("shortcut", "hello"), ("text", "Hello again")],
    )
    .await
    .json();
    assert_eq!((edited.id, edited.shortcut.as_str()), (own.id, "hello"));
    let () = server
        .call("delete_canned", &[("id", &id)], Some(&ann))
        .await
        .json();
    assert_eq!(
        shortcuts(&list(&server, &ann).await),
        [("refund".into(), false), ("refund".into(), true)]
    );
    assert_eq!(
        server.call("list_canned", &[], None).await.app_error(),
        AppError::Unauthorized
    );
}

#[tokio::test]
async fn each_refusal_says_why_and_stores_nothing() {
    let server = start(Security::default()).await;
    let (_, ann) = server.signed_in_agent("Ann", false).await;
    let _: CannedReply = save(
        &server,
        &ann,
        &[("shortcut", "thanks"), ("text", "Thank you!")],
    )
    .await
    .json();
    let long_shortcut = "x".repeat(MAX_SHORTCUT_CHARS + 1);
    let long_text = "x".repeat(MAX_CANNED_CHARS + 1);
    let refused = [
        ("", "text", Invalid::CannedShortcut),
        ("two words", "text", Invalid::CannedShortcut),
        ("<b>", "text", Invalid::CannedShortcut),
        (long_shortcut.as_str(), "text", Invalid::CannedShortcut),
        ("ok", "   ", Invalid::CannedText),
        ("ok", long_text.as_str(), Invalid::CannedText),
        ("ok", "bell\u{7}", Invalid::CannedText),
        ("ok", "zero\u{200b}width", Invalid::CannedText),
        ("THANKS", "again", Invalid::ShortcutTaken),
    ];
    for (shortcut, text, why) in refused {
        let response = save(&server, &ann, &[("shortcut", shortcut), ("text", text)]).await;
        assert_eq!(
            response.app_error(),
            AppError::Invalid(why),
            "{shortcut:?} {text:?}"
        );
    }
    assert_eq!(list(&server, &ann).await.len(), 1, "nothing more stored");

    // Renaming onto another of one's shortcuts is refused too.
    let other: CannedReply = save(&server, &ann, &[("shortcut", "bye"), ("text", "Bye")])
        .await
        .json();
    let response = save(
        &server,
        &ann,
        &[
            ("id", &other.id.to_string()),
            ("shortcut", "thanks"),
            ("text", "Bye"),
        ],
    )
    .await;
    assert_eq!(
        response.app_error(),
        AppError::Invalid(Invalid::ShortcutTaken)
    );

    // A text with line breaks is kept as written (plain text, never markup).
    let multi: CannedReply = save(
        &server,
        &ann,
        &[
            ("shortcut", "steps"),
            ("text", "1. <b>Open</b>\r\n2. Click"),
        ],
    )
    .await
    .json();
    assert_eq!(multi.text, "1. <b>Open</b>\n2. Click");

    // One list holds at most MAX_CANNED_PER_OWNER.
    for i in list(&server, &ann).await.len() as i64..MAX_CANNED_PER_OWNER {
        let _: CannedReply = save(
            &server,
            &ann,
            &[("shortcut", &format!("s{i}")), ("text", "x")],
        )
        .await
        .json();
    }
    let response = save(&server, &ann, &[("shortcut", "onemore"), ("text", "x")]).await;
    assert_eq!(
        response.app_error(),
        AppError::Invalid(Invalid::TooManyCanned)
    );
}
