#![cfg(feature = "ssr")]
//! Who an agent is talking to (issue 13, items 6 and 7), over real sockets:
//! page views reach only the agent serving the visitor, never a visitor;
//! they are size- and rate-limited, only the latest is stored, and a flood
//! of them does not slow other conversations; the visitor panel's server
//! function shows the page, browser and pre-chat email to that agent only;
//! the notification switch is stored for the agent.
//!
//! Run with `cargo test --features ssr --test visits`.

use std::time::{Duration, Instant};

use kefu::error::AppError;
use kefu::protocol::{
    ClientMsg, ConsoleView, ErrorCode, HistoryPage, PageSeen, ServerMsg, VisitorContext,
    MAX_PAGE_URL_BYTES,
};
use kefu::server::config::Security;

mod common;
use common::*;

/// How long "nothing arrives" checks listen.
const QUIET: Duration = Duration::from_millis(500);

fn page_view(url: &str, title: &str) -> ClientMsg {
    ClientMsg::PageView {
        url: url.into(),
        title: title.into(),
        referrer: Some("https://search.example/?q=kefu".into()),
        time_zone: Some("Asia/Shanghai".into()),
        utc_offset: Some(480),
    }
}

/// The pages `frames` said a visitor is on.
fn pages(frames: &[ServerMsg]) -> Vec<PageSeen> {
    frames
        .iter()
        .filter_map(|f| match f {
            ServerMsg::PageViewed { page, .. } => Some(page.clone()),
            _ => None,
        })
        .collect()
}

async fn context(server: &Server, cookie: &str, conversation: i64) -> VisitorContext {
    server
        .call(
            "visitor_context",
            &[("conversation", &conversation.to_string())],
            Some(cookie),
        )
        .await
        .json()
}

#[tokio::test]
async fn a_page_view_reaches_the_serving_agent_and_never_a_visitor() {
    let server = start(Security::default()).await;
    let (ann_cookie, mut ann, mut chat) = server.agent_with_chat("Ann", 5).await;
    let (_, mut bob) = server.online_agent("Bob", 5).await;
    // A second visitor (Bob's: the least loaded agent takes it) listens for leaks.
    let mut other = server.assigned_chat(&mut bob, "Bob").await;

    chat.visitor
        .send(&page_view("https://shop.example/cart", "Your cart"))
        .await;
    let seen = ann
        .expect_map("the page view", |m| match m {
            ServerMsg::PageViewed { conversation, page } => Some((*conversation, page.clone())),
            _ => None,
        })
        .await;
    assert_eq!(seen.0, chat.conversation);
    assert_eq!(
        (seen.1.url.as_str(), seen.1.title.as_str()),
        ("https://shop.example/cart", "Your cart")
    );
    assert!(
        pages(&bob.collect_for(QUIET).await).is_empty(),
        "not Bob's visitor"
    );
    assert!(
        pages(&other.visitor.collect_for(QUIET).await).is_empty(),
        "another visitor never sees it"
    );
    assert!(
        pages(&chat.visitor.collect_for(QUIET).await).is_empty(),
        "nor does the visitor themselves get it back"
    );

    // The hostile visitor's own page views go to Bob only, never to Ann's visitor.
    other
        .visitor
        .send(&page_view("https://evil.example/", "<script>"))
        .await;
    bob.expect_msg("the other visitor's page", |m| {
        matches!(m, ServerMsg::PageViewed { conversation, .. } if *conversation == other.conversation)
    })
    .await;
    assert!(pages(&chat.visitor.collect_for(QUIET).await).is_empty());
    assert!(pages(&ann.collect_for(QUIET).await).is_empty());

    // An agent cannot send one.
    ann.send(&page_view("https://shop.example/", "")).await;
    ann.expect_error(ErrorCode::WrongRole).await;

    // Stored: the panel shows it to Ann, not to Bob.
    let ctx = context(&server, &ann_cookie, chat.conversation.0).await;
    let page = ctx.page.expect("the stored page");
    assert_eq!(page.url, "https://shop.example/cart");
    assert_eq!(
        ctx.referrer.as_deref(),
        Some("https://search.example/?q=kefu")
    );
    assert_eq!(ctx.time_zone.as_deref(), Some("Asia/Shanghai"));
    assert_eq!(ctx.utc_offset, Some(480));
    let bob_cookie = server
        .session_for(server.add_agent("Cy", false).await)
        .await;
    let refused = server
        .call(
            "visitor_context",
            &[("conversation", &chat.conversation.0.to_string())],
            Some(&bob_cookie),
        )
        .await;
    assert_eq!(refused.app_error(), AppError::NotFound);
}

#[tokio::test]
async fn page_views_over_their_limits_are_refused_and_not_stored() {
    let server = start(Security::default()).await;
    let (cookie, mut ann, mut chat) = server.agent_with_chat("Ann", 5).await;
    let long = format!("https://shop.example/{}", "x".repeat(MAX_PAGE_URL_BYTES));
    for bad in [
        page_view(&long, "long"),
        page_view("javascript:alert(1)", "script"),
        page_view("https://shop.example/", &"t".repeat(301)),
        ClientMsg::PageView {
            url: "https://shop.example/".into(),
            title: String::new(),
            referrer: None,
            time_zone: Some("Asia/Shanghai\"><img>".into()),
            utc_offset: None,
        },
    ] {
        chat.visitor.send(&bad).await;
        chat.visitor.expect_error(ErrorCode::PageViewInvalid).await;
    }
    assert!(pages(&ann.collect_for(QUIET).await).is_empty());
    let ctx = context(&server, &cookie, chat.conversation.0).await;
    assert_eq!(ctx.page, None, "nothing was stored");
}

#[tokio::test]
async fn a_flood_of_page_views_is_cut_short_and_does_not_slow_other_chats() {
    let server = start(Security::default()).await;
    let (cookie, mut ann, mut flooder) = server.agent_with_chat("Ann", 5).await;
    let (_, mut bob, mut calm) = server.agent_with_chat("Bob", 5).await;

    let started = Instant::now();
    for i in 0..2000 {
        flooder
            .visitor
            .send(&page_view(
                &format!("https://shop.example/p/{i}"),
                "Product",
            ))
            .await;
    }
    // Meanwhile another conversation goes on: its round trip stays quick.
    let before = Instant::now();
    calm.visitor.say("c-1", "is this in stock?").await;
    bob.expect_message("the calm visitor's message", |m| {
        m.text == "is this in stock?"
    })
    .await;
    let round_trip = before.elapsed();
    assert!(
        round_trip < Duration::from_secs(1),
        "a message took {round_trip:?} beside the flood"
    );
    flooder.visitor.ping_until_pong().await;
    let elapsed = started.elapsed().as_secs_f64();

    let shown = pages(&ann.collect_for(QUIET).await);
    // A burst of 5, then one a second.
    let allowed = 5 + elapsed.ceil() as usize + 1;
    assert!(
        !shown.is_empty() && shown.len() <= allowed,
        "{} page views reached Ann in {elapsed:.1} s (at most {allowed} allowed)",
        shown.len()
    );
    assert!(
        pages(&flooder.visitor.collect_for(QUIET).await).is_empty(),
        "refused page views get no flood of answers"
    );
    // Only the latest accepted one is stored.
    let latest = shown.last().expect("one shown");
    let ctx = context(&server, &cookie, flooder.conversation.0).await;
    assert_eq!(ctx.page.map(|p| p.url), Some(latest.url.clone()));
    // The visitor's messages still go through: page views have their own budget.
    flooder.visitor.say("f-1", "hello?").await;
    ann.expect_message("the flooder's message", |m| m.text == "hello?")
        .await;
}

#[tokio::test]
async fn the_panel_shows_the_browser_the_email_and_earlier_conversations() {
    let server = start(Security::default()).await;
    let (cookie, mut ann) = server.online_agent("Ann", 5).await;
    let ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
    let mut visitor = server
        .upgrade(
            "/ws/visitor",
            None,
            &[("User-Agent", ua), ("Accept-Language", "zh-CN,zh;q=0.9")],
        )
        .await
        .expect("the visitor socket opens");
    let welcome = visitor.hello_visitor(None, vec![]).await;
    let token = welcome.info.token.expect("a token");
    visitor
        .send(&ClientMsg::Profile {
            name: Some("Li Lei".into()),
            email: Some("li@example.com".into()),
        })
        .await;
    let (first, _) = visitor.start_assigned("Ann").await;
    // The browser is stored beside the socket's start, not in its way: wait for it.
    let deadline = Instant::now() + Duration::from_secs(5);
    let ctx = loop {
        let ctx = context(&server, &cookie, first.0).await;
        if ctx.browser.is_some() || Instant::now() > deadline {
            break ctx;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(ctx.browser.as_deref(), Some("Chrome 120.0.0.0"));
    assert_eq!(ctx.os.as_deref(), Some("Windows 10"));
    assert_eq!(ctx.language.as_deref(), Some("zh-CN"));
    visitor.say("v-1", "first question").await;
    ann.expect_message("the first question", |m| m.text == "first question")
        .await;
    ann.send(&ClientMsg::Close {
        conversation: first,
    })
    .await;
    visitor
        .expect_conversation("closed", |c| {
            c.id == first && c.status == kefu::protocol::ConversationStatus::Closed
        })
        .await;
    visitor.close().await;

    // The same visitor comes back on another day.
    let (mut visitor, _) = server.visitor(Some(token), vec![]).await;
    let (second, _) = visitor.start_assigned("Ann").await;
    let ctx = context(&server, &cookie, second.0).await;
    assert_eq!(ctx.email.as_deref(), Some("li@example.com"));
    assert_eq!(ctx.name.as_deref(), Some("Li Lei"));
    assert_eq!(ctx.earlier.len(), 1);
    assert_eq!(ctx.earlier[0].id, first);
    assert!(ctx.first_seen > 0);

    let history: HistoryPage = server
        .call(
            "earlier_conversation",
            &[
                ("conversation", &second.0.to_string()),
                ("earlier", &first.0.to_string()),
            ],
            Some(&cookie),
        )
        .await
        .json();
    assert!(history.messages.iter().any(|m| m.text == "first question"));
    // Only the same visitor's conversations open that way.
    let (mut other, _) = server.visitor(None, vec![]).await;
    let (third, _) = other.start_assigned("Ann").await;
    let refused = server
        .call(
            "earlier_conversation",
            &[
                ("conversation", &third.0.to_string()),
                ("earlier", &first.0.to_string()),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(refused.app_error(), AppError::NotFound);
}

#[tokio::test]
async fn the_notification_switch_is_stored_for_the_agent() {
    let server = start(Security::default()).await;
    let (_, cookie) = server.signed_in_agent("Ann", false).await;
    let view: ConsoleView = server
        .call("console_session", &[], Some(&cookie))
        .await
        .json();
    assert!(matches!(view, ConsoleView::SignedIn(ref a) if !a.notify));
    let () = server
        .call("set_notify", &[("on", "true")], Some(&cookie))
        .await
        .json();
    let view: ConsoleView = server
        .call("console_session", &[], Some(&cookie))
        .await
        .json();
    assert!(
        matches!(view, ConsoleView::SignedIn(ref a) if a.notify),
        "{view:?}"
    );
    let refused = server.call("set_notify", &[("on", "true")], None).await;
    assert_eq!(refused.app_error(), AppError::Unauthorized);
}
