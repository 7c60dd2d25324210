#![cfg(feature = "ssr")]
//! Agents' status (issue 13, item 10), over real sockets: an away agent is
//! given no new conversations but keeps serving theirs; the choice is
//! stored; admins see each agent's status and load.
//!
//! Run with `cargo test --features ssr --test status`.

use std::time::Duration;

use kefu::error::{AppError, Invalid};
use kefu::protocol::{AgentInfo, ClientMsg, ServerMsg};
use kefu::server::config::Security;

mod common;
use common::chat::about;
use common::*;

/// How long "nothing arrives" checks listen.
const QUIET: Duration = Duration::from_millis(500);

async fn set_status(server: &Server, cookie: &str, status: &str) {
    let () = server
        .call("set_status", &[("status", status)], Some(cookie))
        .await
        .json();
}

#[tokio::test]
async fn an_away_agent_gets_no_new_visitors_but_keeps_serving_their_own() {
    let server = start(Security::default()).await;
    let (ann_id, ann_cookie) = server.signed_in_agent("Ann", false).await;
    let (mut ann, _) = server.agent(&ann_cookie, vec![]).await;
    // Ann takes a first visitor while online.
    let mut first = server.assigned_chat(&mut ann, "Ann").await;

    set_status(&server, &ann_cookie, "away").await;
    let (_, bob_cookie) = server.signed_in_agent("Bob", false).await;
    let (mut bob, _) = server.agent(&bob_cookie, vec![]).await;
    let second = server.assigned_chat(&mut bob, "Bob").await;
    assert_ne!(first.conversation, second.conversation);
    assert!(
        ann.collect_for(QUIET)
            .await
            .iter()
            .all(|f| !about(f, second.conversation)),
        "nothing of Bob's new conversation reaches Ann"
    );
    assert_eq!(
        server.state.hub.conversations_of(ann_id),
        vec![first.conversation]
    );

    // Ann still serves her first visitor, both ways.
    first.visitor.say("v-1", "still there?").await;
    ann.expect_message("the visitor's message", |m| m.text == "still there?")
        .await;
    ann.say_in(first.conversation, "a-1", "yes, still here")
        .await;
    first
        .visitor
        .expect_message("Ann's reply", |m| m.text == "yes, still here")
        .await;

    // The choice is stored: a new socket of Ann's is still away.
    ann.close().await;
    let (mut ann, welcome) = server.agent(&ann_cookie, vec![]).await;
    assert!(welcome.info.away, "the welcome says Ann is away");
    ann.ping_until_pong().await;
    bob.close().await;
    let (mut third, _) = server.visitor(None, vec![]).await;
    third.send(&ClientMsg::Start).await;
    // Bob went offline and Ann is away: nobody takes new chats.
    third
        .expect_msg("no agent available", |m| {
            matches!(
                m,
                ServerMsg::Availability {
                    agents_online: false,
                    ..
                }
            )
        })
        .await;
    set_status(&server, &ann_cookie, "online").await;
    third
        .expect_msg("someone is available again", |m| {
            matches!(
                m,
                ServerMsg::Availability {
                    agents_online: true,
                    ..
                }
            )
        })
        .await;
    third.start_assigned("Ann").await;
}

#[tokio::test]
async fn admins_see_each_agents_status_and_load() {
    let server = start(Security::default()).await;
    let (_, admin) = server.signed_in_agent("Boss", true).await;
    let (_, ann_cookie) = server.signed_in_agent("Ann", false).await;
    let (mut ann, _) = server.agent(&ann_cookie, vec![]).await;
    let _chat = server.assigned_chat(&mut ann, "Ann").await;
    set_status(&server, &ann_cookie, "away").await;
    server.add_agent("Cy", false).await;

    let agents: Vec<AgentInfo> = server.call("list_agents", &[], Some(&admin)).await.json();
    let ann = agents.iter().find(|a| a.name == "Ann").expect("Ann listed");
    assert_eq!(
        (ann.online, ann.away, ann.load),
        (Some(true), true, Some(1))
    );
    let cy = agents.iter().find(|a| a.name == "Cy").expect("Cy listed");
    assert_eq!((cy.online, cy.away, cy.load), (Some(false), false, Some(0)));

    let response = server
        .call("set_status", &[("status", "asleep")], Some(&ann_cookie))
        .await;
    assert_eq!(response.app_error(), AppError::Invalid(Invalid::Form));
    let response = server.call("set_status", &[("status", "away")], None).await;
    assert_eq!(response.app_error(), AppError::Unauthorized);
}
