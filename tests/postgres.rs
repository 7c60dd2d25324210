#![cfg(feature = "ssr")]
//! The PostgreSQL backend as several nodes use it: two `Postgres` stores
//! (two nodes' connections and group-commit writers) on one real database,
//! writing the same conversation at once.
//!
//! Needs a PostgreSQL server: run through `scripts/engines.sh run -- cargo
//! test --features ssr --test postgres` (`make unit` does).

use std::collections::HashSet;

use futures::future::join_all;
use kefu::protocol::MessageId;
use kefu::server::storage::{postgres, Appended, NewMessage, OnCommit, Storage};

mod common;
use common::engines::fresh_postgres;

/// Two nodes on one fresh database.
async fn two_nodes() -> (Storage, Storage) {
    let server = std::env::var("KEFU_TEST_POSTGRES")
        .expect("KEFU_TEST_POSTGRES (a PostgreSQL server's URL): run through scripts/engines.sh");
    let url = fresh_postgres(&server).await;
    let a = postgres::open(&url)
        .await
        .expect("node A opens the database");
    let b = postgres::open(&url).await.expect("node B opens it too");
    (a, b)
}

fn said(id: &str, resend: bool) -> NewMessage {
    NewMessage::from_visitor(MessageId(id.into()), format!("text of {id}"), resend)
}

#[tokio::test]
async fn two_nodes_writing_one_conversation_give_gapless_seqs_each_once() {
    let (a, b) = two_nodes().await;
    let visitor = a.create_visitor(b"token").await.expect("a visitor");
    let conversation = a
        .create_conversation(visitor)
        .await
        .expect("a conversation");
    const EACH: usize = 1_000;
    // Each node queues its messages one after another (as a socket does)
    // and learns each one's seq once its batch committed.
    let send_all = |node: Storage, prefix: &'static str| async move {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        for i in 0..EACH {
            let tx = tx.clone();
            let then: OnCommit = Box::new(move |r| {
                let _ = tx.send(r);
            });
            node.submit(conversation, said(&format!("{prefix}{i}"), false), then)
                .await;
        }
        let mut seqs = Vec::with_capacity(EACH);
        for _ in 0..EACH {
            match rx.recv().await.expect("an answer").expect("stored") {
                Appended::New(m) => seqs.push(m.seq),
                other => panic!("every message is new: {other:?}"),
            }
        }
        seqs
    };
    let (seqs_a, seqs_b) = tokio::join!(send_all(a.clone(), "a"), send_all(b.clone(), "b"));
    for seqs in [&seqs_a, &seqs_b] {
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "each node's messages keep the order they were sent in"
        );
    }
    let all: HashSet<i64> = seqs_a.iter().chain(&seqs_b).copied().collect();
    assert_eq!(
        all,
        (1..=2 * EACH as i64).collect::<HashSet<_>>(),
        "seqs 1..=2000, each given once, whichever node stored it"
    );
    let stored = a
        .messages_after(conversation, 0, 10_000)
        .await
        .expect("history");
    assert_eq!(stored.len(), 2 * EACH, "every message stored once");
    assert!(stored.iter().zip(1..).all(|(m, seq)| m.seq == seq));
}

#[tokio::test]
async fn a_resend_to_another_node_finds_the_stored_message_and_a_closed_conversation_takes_nothing()
{
    let (a, b) = two_nodes().await;
    let visitor = a.create_visitor(b"token").await.expect("a visitor");
    let conversation = a
        .create_conversation(visitor)
        .await
        .expect("a conversation");
    let Appended::New(first) = a
        .append(conversation, said("m1", false))
        .await
        .expect("stored")
    else {
        panic!("the first message is new");
    };
    // The sender lost its node before the ack and resends through another.
    let Appended::Duplicate(again) = b.append(conversation, said("m1", true)).await.expect("ok")
    else {
        panic!("a resend of a stored message is a duplicate");
    };
    assert_eq!((again.seq, again.id), (first.seq, first.id));
    let Appended::New(second) = b
        .append(conversation, said("m2", true))
        .await
        .expect("stored")
    else {
        panic!("a resend never stored before is stored");
    };
    assert_eq!(second.seq, 2);
    b.close(conversation).await.expect("closes");
    assert!(matches!(
        a.append(conversation, said("m3", false))
            .await
            .expect("answered"),
        Appended::Closed
    ));
    assert_eq!(
        a.messages_after(conversation, 0, 10)
            .await
            .expect("history")
            .len(),
        2
    );
}

#[tokio::test]
async fn ids_from_two_nodes_never_collide() {
    let (a, b) = two_nodes().await;
    let reserved = join_all((0..50).flat_map(|_| [a.reserve_visitor_id(), b.reserve_visitor_id()]))
        .await
        .into_iter()
        .map(|r| r.expect("reserved"))
        .collect::<Vec<_>>();
    let made = join_all((0..50u8).map(|i| {
        let node = if i % 2 == 0 { &a } else { &b };
        async move { node.create_visitor(&[i]).await }
    }))
    .await
    .into_iter()
    .map(|r| r.expect("created"))
    .collect::<Vec<_>>();
    let distinct: HashSet<_> = reserved.iter().chain(&made).collect();
    assert_eq!(distinct.len(), 150, "every visitor id given once");
}
