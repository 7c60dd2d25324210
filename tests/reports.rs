#![cfg(feature = "ssr")]
//! Reports (issue 14, item 4), against the real server and a real
//! database (SQLite, or PostgreSQL: [`common::engines`]): known conversations give known figures, in the server function
//! and in the CSV download alike; only admins get them; a bad range gets
//! its error code; and the live path stores what reports read (a message
//! left while no agent is online counts as offline, a close stores the
//! first-response time).
//!
//! Run with `cargo test --features ssr --test reports` (on PostgreSQL:
//! `KEFU_TEST_BACKEND=postgres scripts/engines.sh run -- cargo test …`).

use kefu::error::AppError;
use kefu::protocol::report::Report;
use kefu::protocol::{ClientMsg, ConversationStatus, ErrorCode};
use kefu::server::config::Security;
use sqlx::AnyPool;

mod common;
use common::engines::param;
use common::*;

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
/// 2026-11-01T00:00:00Z in ms.
const NOV_1: i64 = 1_793_491_200_000;
const DAY: i64 = 24 * HOUR;

/// A second connection to the server's database, either backend.
async fn pool(server: &Server) -> AnyPool {
    common::engines::raw(&server.db_url).await
}

/// `n` placeholders, from the first: `?, ?` or `$1, $2`.
fn params(n: usize) -> String {
    (1..=n).map(param).collect::<Vec<_>>().join(", ")
}

/// One seeded conversation: created at `at`, closed after `open_for`
/// (none: still queued), first reply after `first` ms, served by `agent`.
struct Seed {
    at: i64,
    open_for: Option<i64>,
    first: Option<i64>,
    offline: bool,
    agent: Option<i64>,
    score: Option<i64>,
}

async fn seed(db: &AnyPool, rows: &[Seed]) {
    let visitor: i64 = sqlx::query_scalar(&format!(
        "INSERT INTO visitors (token_hash, created_at) VALUES ({}) RETURNING id",
        params(2)
    ))
    .bind(b"a seeded visitor's token hash".to_vec())
    .bind(0_i64)
    .fetch_one(db)
    .await
    .expect("a visitor");
    for r in rows {
        let id: i64 = sqlx::query_scalar(&format!(
            "INSERT INTO conversations
                (visitor_id, agent_id, status, created_at, queued_at, closed_at, first_response_ms, offline)
             VALUES ({}) RETURNING id",
            params(8)
        ))
        .bind(visitor)
        .bind(r.agent)
        .bind(if r.open_for.is_some() { "closed" } else { "queued" })
        .bind(r.at)
        .bind(r.at)
        .bind(r.open_for.map(|d| r.at + d))
        .bind(r.first)
        .bind(r.offline)
        .fetch_one(db)
        .await
        .expect("a conversation");
        if let Some(score) = r.score {
            sqlx::query(&format!(
                "INSERT INTO ratings (conversation_id, score, created_at) VALUES ({})",
                params(3)
            ))
            .bind(id)
            .bind(score)
            .bind(r.at)
            .execute(db)
            .await
            .expect("a rating");
        }
    }
}

#[tokio::test]
async fn known_conversations_give_known_figures_in_the_page_and_the_csv() {
    let server = start(Security::default()).await;
    let (ann, admin) = server.signed_in_agent("Ann", true).await;
    let (bo, bo_cookie) = server.signed_in_agent("Bo", false).await;
    let db = pool(&server).await;
    let s = |at, open_for, first, offline, agent, score| Seed {
        at,
        open_for,
        first,
        offline,
        agent,
        score,
    };
    let (ann, bo) = (Some(ann.0), Some(bo.0));
    seed(
        &db,
        &[
            s(
                NOV_1 + 10 * HOUR,
                Some(10 * MIN),
                Some(30_000),
                false,
                ann,
                Some(5),
            ),
            s(
                NOV_1 + 11 * HOUR,
                Some(20 * MIN),
                Some(60_000),
                false,
                ann,
                Some(4),
            ),
            s(
                NOV_1 + 12 * HOUR,
                Some(30 * MIN),
                Some(90_000),
                true,
                bo,
                Some(1),
            ),
            // Never answered: counts for resolution, not first response.
            s(NOV_1 + DAY + 9 * HOUR, Some(40 * MIN), None, true, bo, None),
            // Still waiting: counted, no times.
            s(NOV_1 + DAY + 10 * HOUR, None, None, false, None, None),
            // Just outside the range on both sides.
            s(NOV_1 - 1, Some(MIN), Some(1), false, ann, Some(1)),
            s(NOV_1 + 3 * DAY, Some(MIN), Some(1), false, ann, Some(1)),
        ],
    )
    .await;

    let range = [("from", "2026-11-01"), ("to", "2026-11-03")];
    let report: Report = server
        .call("load_report", &range, Some(&admin))
        .await
        .json();
    assert_eq!(
        (report.from.as_str(), report.to.as_str()),
        ("2026-11-01", "2026-11-03")
    );
    let per_day: Vec<(&str, u32, u32)> = report
        .days
        .iter()
        .map(|d| (d.day.as_str(), d.conversations, d.offline))
        .collect();
    assert_eq!(
        per_day,
        [
            ("2026-11-01", 3, 1),
            ("2026-11-02", 2, 1),
            ("2026-11-03", 0, 0)
        ]
    );
    assert_eq!((report.conversations, report.offline), (5, 2));
    assert_eq!(report.first_response_median_ms, Some(60_000));
    assert_eq!(report.first_response_p90_ms, Some(90_000));
    assert_eq!(report.resolution_median_ms, Some(20 * MIN));
    assert_eq!(report.ratings, [1, 0, 0, 1, 1]);
    let agents: Vec<_> = report
        .agents
        .iter()
        .map(|a| {
            (
                a.name.as_str(),
                a.conversations,
                a.first_response_median_ms,
                a.rating_average,
                a.rated,
            )
        })
        .collect();
    assert_eq!(
        agents,
        [
            ("Ann", 2, Some(30_000), Some(4.5), 2),
            ("Bo", 2, Some(90_000), Some(1.0), 1)
        ]
    );

    // The CSV carries the same figures.
    let csv = http_request(
        server.addr,
        None,
        "GET",
        "/console/reports.csv?from=2026-11-01&to=2026-11-03",
        &[("Cookie", admin.as_str())],
        "",
    )
    .await;
    assert_eq!(csv.status, 200, "{csv:?}");
    assert!(csv
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/csv")));
    for line in [
        "figure,key,value",
        "conversations,,5",
        "offline,,2",
        "first_response_median_ms,,60000",
        "first_response_p90_ms,,90000",
        "resolution_median_ms,,1200000",
        "day_conversations,2026-11-01,3",
        "day_offline,2026-11-02,1",
        "day_conversations,2026-11-03,0",
        "agent_conversations,Ann,2",
        "agent_first_response_median_ms,Bo,90000",
        "agent_rating_average,Ann,4.50",
        "agent_rating_average,Bo,1.00",
        "ratings,1,1",
        "ratings,2,0",
        "ratings,5,1",
    ] {
        assert!(
            csv.body.lines().any(|l| l == line),
            "no {line:?} in\n{}",
            csv.body
        );
    }

    // Admins only, a sane range only.
    let refused = server.call("load_report", &range, Some(&bo_cookie)).await;
    assert_eq!(refused.app_error(), AppError::Forbidden);
    let signed_out = server.call("load_report", &range, None).await;
    assert_eq!(signed_out.app_error(), AppError::Unauthorized);
    for (from, to) in [
        ("2026-11-03", "2026-11-01"),
        ("2026-02-30", "2026-03-01"),
        ("2025-01-01", "2026-11-01"),
        ("yesterday", ""),
    ] {
        let bad = server
            .call("load_report", &[("from", from), ("to", to)], Some(&admin))
            .await;
        assert_eq!(
            bad.app_error().code(),
            ErrorCode::ReportRange,
            "{from}..{to}"
        );
    }
    let path = "/console/reports.csv?from=2026-11-01&to=2026-11-03";
    let signed_out = http_request(server.addr, None, "GET", path, &[], "").await;
    let agent = http_request(
        server.addr,
        None,
        "GET",
        path,
        &[("Cookie", &bo_cookie)],
        "",
    )
    .await;
    assert_eq!((signed_out.status, agent.status), (401, 403));
}

#[tokio::test]
async fn the_live_path_stores_offline_and_first_response_figures() {
    let server = start(Security::default()).await;
    let db = pool(&server).await;
    // No agent online: the visitor leaves a message.
    let (mut visitor, _) = server.visitor(None, vec![]).await;
    visitor.say("v-1", "Anyone there?").await;
    let (c, _) = visitor.expect_ack("v-1").await;
    // An agent comes, answers, closes.
    let (_, cookie) = server.signed_in_agent("Ann", true).await;
    let (mut ann, _) = server.agent(&cookie, vec![]).await;
    ann.expect_conversation("the waiting conversation", |s| {
        s.id == c && s.status == ConversationStatus::Assigned
    })
    .await;
    ann.say_in(c, "a-1", "Here now").await;
    ann.expect_ack("a-1").await;
    ann.send(&ClientMsg::Close { conversation: c }).await;
    visitor
        .expect_conversation("the close", |s| {
            s.id == c && s.status == ConversationStatus::Closed
        })
        .await;

    let sent = |id: &'static str| {
        let db = db.clone();
        async move {
            let sql = format!(
                "SELECT sent_at FROM messages WHERE client_id = {}",
                param(1)
            );
            sqlx::query_scalar::<_, i64>(&sql)
                .bind(id)
                .fetch_one(&db)
                .await
                .expect("the message")
        }
    };
    let expected = sent("a-1").await - sent("v-1").await;
    // A flag is an INTEGER on SQLite, a BOOLEAN on PostgreSQL: read as 0 or 1.
    let (offline, first): (i64, Option<i64>) = sqlx::query_as(&format!(
        "SELECT CASE WHEN offline THEN 1 ELSE 0 END, first_response_ms
         FROM conversations WHERE id = {}",
        param(1)
    ))
    .bind(c.0)
    .fetch_one(&db)
    .await
    .expect("the conversation");
    assert_eq!(
        offline, 1,
        "a message left while no agent was online counts as offline"
    );
    assert_eq!(first, Some(expected));

    // Today's report counts it.
    let report: Report = server.call("load_report", &[], Some(&cookie)).await.json();
    assert_eq!((report.conversations, report.offline), (1, 1));
    assert_eq!(report.first_response_median_ms, Some(expected));
    assert_eq!(report.agents.len(), 1);
    assert_eq!(report.agents[0].name, "Ann");
}
