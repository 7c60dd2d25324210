//! Chat messages: appended through the group-commit writer, read back in pages.

use async_trait::async_trait;

use super::Sqlite;
use crate::protocol::{ChatMessage, ConversationId};
use crate::server::storage::rows::{MessageRow, MESSAGE_COLUMNS};
use crate::server::storage::{Appended, Messages, NewMessage, OnCommit, StoreResult};

#[async_trait]
impl Messages for Sqlite {
    async fn submit(&self, conversation: ConversationId, msg: NewMessage, then: OnCommit) {
        self.writer.submit(conversation, msg, then).await
    }

    async fn append(&self, conversation: ConversationId, msg: NewMessage) -> StoreResult<Appended> {
        self.writer.append(conversation, msg).await
    }

    async fn messages_between(
        &self,
        conversation: ConversationId,
        after: i64,
        upto: i64,
        limit: i64,
    ) -> StoreResult<Vec<ChatMessage>> {
        let rows: Vec<MessageRow> = sqlx::query_as(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages
             WHERE conversation_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?"
        ))
        .bind(conversation)
        .bind(after)
        .bind(upto)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(MessageRow::into_message).collect())
    }

    async fn messages_before(
        &self,
        conversation: ConversationId,
        before: i64,
        limit: i64,
    ) -> StoreResult<Vec<ChatMessage>> {
        let rows: Vec<MessageRow> = sqlx::query_as(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages
             WHERE conversation_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?"
        ))
        .bind(conversation)
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .rev()
            .map(MessageRow::into_message)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::temp;
    use super::*;
    use crate::protocol::MessageId;
    use crate::server::storage::Conversations;
    use std::time::Duration;

    fn text(id: &MessageId, text: &str) -> NewMessage {
        NewMessage::from_visitor(id.clone(), text.to_owned(), false)
    }

    /// The same message marked as a resend.
    fn resent(id: &MessageId, text_: &str) -> NewMessage {
        NewMessage {
            resend: true,
            ..text(id, text_)
        }
    }

    #[tokio::test]
    async fn seq_is_gapless_and_resends_are_stored_once() {
        let (_dir, s) = temp().await;
        let v = s.create_visitor(b"h").await.expect("visitor");
        let c = s.create_conversation(v).await.expect("conversation");
        let a = MessageId("a".into());
        let b = MessageId("b".into());
        let Appended::New(first) = s.append(c, text(&a, "one")).await.expect("append") else {
            panic!("first append must be new");
        };
        assert_eq!(first.seq, 1);
        let Appended::Duplicate(again) = s.append(c, resent(&a, "one")).await.expect("append")
        else {
            panic!("a resend must be a duplicate");
        };
        assert_eq!(again.seq, 1);
        let Appended::New(second) = s.append(c, text(&b, "two")).await.expect("append") else {
            panic!("second append must be new");
        };
        assert_eq!(second.seq, 2);
        let all = s.messages_after(c, 0, 100).await.expect("history");
        assert_eq!(
            all.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(),
            ["one", "two"]
        );
        s.close(c).await.expect("close");
        let c_id = MessageId("c".into());
        assert!(matches!(
            s.append(c, text(&c_id, "late")).await.expect("append"),
            Appended::Closed
        ));
    }

    #[tokio::test]
    async fn one_batch_keeps_order_gapless_seqs_resends_repeats_and_closed_apart() {
        let (_dir, s) = temp().await;
        let v = s.create_visitor(b"h").await.expect("visitor");
        let c1 = s.create_conversation(v).await.expect("conversation");
        let c2 = s.create_conversation(v).await.expect("conversation");
        let c3 = s.create_conversation(v).await.expect("conversation");
        s.close(c3).await.expect("close");
        let id = |x: &str| MessageId(x.into());
        let a = id("a");
        s.append(c1, text(&a, "a")).await.expect("append");
        // Sent together, these reach the writer as one batch.
        let (b, x, z, y, c) = (id("b"), id("x"), id("z"), id("y"), id("c"));
        let answers = futures::future::join_all([
            s.append(c1, resent(&a, "a")),
            s.append(c1, text(&b, "b")),
            s.append(c2, text(&x, "x")),
            s.append(c1, resent(&b, "b")),
            s.append(c3, text(&z, "z")),
            s.append(c2, text(&y, "y")),
            s.append(c1, text(&c, "c")),
        ])
        .await;
        let got: Vec<String> = answers
            .into_iter()
            .map(|a| match a.expect("append") {
                Appended::New(m) => format!("new {} {}", m.text, m.seq),
                Appended::Duplicate(m) => format!("dup {} {}", m.text, m.seq),
                Appended::Closed => "closed".to_owned(),
            })
            .collect();
        assert_eq!(
            got,
            ["dup a 1", "new b 2", "new x 1", "dup b 2", "closed", "new y 2", "new c 3"]
        );
        let texts =
            |m: Vec<ChatMessage>| m.into_iter().map(|m| (m.seq, m.text)).collect::<Vec<_>>();
        assert_eq!(
            texts(s.messages_after(c1, 0, 10).await.expect("c1")),
            [(1, "a".into()), (2, "b".into()), (3, "c".into())]
        );
        assert_eq!(
            texts(s.messages_after(c2, 0, 10).await.expect("c2")),
            [(1, "x".into()), (2, "y".into())]
        );
        assert!(s.messages_after(c3, 0, 10).await.expect("c3").is_empty());
    }

    /// A database made before the resend look-up keeps its messages when
    /// the migration drops the id index, and resends still find them.
    #[tokio::test]
    async fn the_id_index_migration_keeps_stored_messages() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("old.db");
        {
            let pool = super::super::tests::migrated_before(&path, 20261124000001).await;
            sqlx::query(
                "INSERT INTO visitors (id, token_hash, created_at) VALUES (1, x'01', 0);
                 INSERT INTO conversations (id, visitor_id, status, last_seq, created_at, queued_at)
                     VALUES (1, 1, 'queued', 1, 0, 0);
                 INSERT INTO messages (conversation_id, seq, client_id, author, body, sent_at)
                     VALUES (1, 1, 'old-1', 'visitor', 'from before', 0);",
            )
            .execute(&pool)
            .await
            .expect("a message stored the old way");
            pool.close().await;
        }
        let s = Sqlite::open_file(&path).await.expect("migrates");
        let c = ConversationId(1);
        let kept = s.messages_after(c, 0, 10).await.expect("history");
        assert_eq!(
            kept.iter()
                .map(|m| (m.seq, m.id.0.as_str(), m.text.as_str()))
                .collect::<Vec<_>>(),
            [(1, "old-1", "from before")]
        );
        let indexes: Vec<(i64, String, i64)> =
            sqlx::query_as("SELECT seq, name, \"unique\" FROM pragma_index_list('messages')")
                .fetch_all(&s.pool)
                .await
                .expect("index list");
        assert_eq!(
            indexes.len(),
            1,
            "only the primary key is left: {indexes:?}"
        );
        let again = s
            .append(c, resent(&MessageId("old-1".into()), "from before"))
            .await
            .expect("append");
        assert!(
            matches!(&again, Appended::Duplicate(m) if m.seq == 1),
            "{again:?}"
        );
    }

    /// More appends than fit one batch, queued at once, over a few
    /// conversations: all stored, seqs gapless per conversation (a full
    /// batch stays within SQLite's bound on values per statement).
    #[tokio::test]
    async fn full_batches_store_every_message_in_order() {
        let (_dir, s) = temp().await;
        let v = s.create_visitor(b"h").await.expect("visitor");
        let mut convs = Vec::new();
        for _ in 0..3 {
            convs.push(s.create_conversation(v).await.expect("conversation"));
        }
        let n = 2 * crate::server::storage::group_commit::MAX_BATCH + 1;
        let ids: Vec<MessageId> = (0..n).map(|i| MessageId(format!("m{i}"))).collect();
        let answers = futures::future::join_all(
            ids.iter()
                .enumerate()
                .map(|(i, id)| s.append(convs[i % 3], resent(id, "x"))),
        )
        .await;
        let mut seqs = [vec![], vec![], vec![]];
        for (i, a) in answers.into_iter().enumerate() {
            match a.expect("append") {
                Appended::New(m) => seqs[i % 3].push(m.seq),
                other => panic!("message {i}: {other:?}"),
            }
        }
        for (k, (c, mut got)) in convs.iter().zip(seqs).enumerate() {
            got.sort_unstable();
            let want: Vec<i64> = (1..=got.len() as i64).collect();
            assert_eq!(got, want, "conversation {k}: gapless seqs");
            let stored = s.messages_after(*c, 0, 10_000).await.expect("history");
            assert_eq!(stored.len(), (n + 2 - k) / 3, "conversation {k}");
        }
    }

    /// Only marked resends are looked up (no index on the client's id): an
    /// unmarked repeat is stored again, and a later marked resend is
    /// acknowledged with the first seq.
    #[tokio::test]
    async fn only_marked_resends_are_looked_up() {
        let (_dir, s) = temp().await;
        let v = s.create_visitor(b"h").await.expect("visitor");
        let c = s.create_conversation(v).await.expect("conversation");
        let a = MessageId("a".into());
        let outcome = |r: StoreResult<Appended>| match r.expect("append") {
            Appended::New(m) => format!("new {}", m.seq),
            Appended::Duplicate(m) => format!("dup {}", m.seq),
            Appended::Closed => "closed".to_owned(),
        };
        assert_eq!(outcome(s.append(c, text(&a, "a")).await), "new 1");
        assert_eq!(outcome(s.append(c, text(&a, "a")).await), "new 2");
        assert_eq!(outcome(s.append(c, resent(&a, "a")).await), "dup 1");
        let b = MessageId("b".into());
        assert_eq!(outcome(s.append(c, resent(&b, "b")).await), "new 3");
    }

    #[tokio::test]
    async fn the_wal_starts_over_while_the_writer_never_pauses() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("kefu.db");
        let s = Sqlite::open_file(&db).await.expect("opens");
        let v = s.create_visitor(b"h").await.expect("visitor");
        let c = s.create_conversation(v).await.expect("conversation");
        // New databases use small pages (fewer bytes per commit).
        let page: i64 = sqlx::query_scalar("PRAGMA page_size")
            .fetch_one(&s.pool)
            .await
            .expect("page size");
        assert_eq!(page, 1024);
        // One commit after another for two seconds, watching the WAL's
        // checkpoint sequence number (header bytes 12..16), which SQLite
        // bumps each time the log starts over from its beginning.
        let wal = dir.path().join("kefu.db-wal");
        let sequence = || -> Option<u32> {
            let header = std::fs::read(&wal).ok()?;
            Some(u32::from_be_bytes(header.get(12..16)?.try_into().ok()?))
        };
        let started = std::time::Instant::now();
        let mut commits = 0u64;
        let mut seen = std::collections::BTreeSet::new();
        while started.elapsed() < Duration::from_secs(2) || commits < 3_000 {
            let id = MessageId(format!("m{commits}"));
            s.append(c, text(&id, "a message of ordinary length, for the WAL"))
                .await
                .expect("append");
            commits += 1;
            if commits.is_multiple_of(20) {
                seen.extend(sequence());
            }
        }
        // Checkpoints run every 250 ms: a WAL that starts over would do so
        // several times in two seconds, one that never does keeps one number.
        assert!(
            seen.len() >= 3,
            "the WAL started over {} times in {commits} commits ({} bytes now)",
            seen.len().saturating_sub(1),
            std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0)
        );
    }
}
