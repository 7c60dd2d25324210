//! Golden tests for ratings and reports (issue 14).

use super::pin;
use crate::protocol::rating::Rating;
use crate::protocol::report::{AgentFigures, DayFigures, Report};
use crate::protocol::*;
use serde_json::json;

#[test]
fn rating_frames_have_pinned_json() {
    pin(
        ClientMsg::Rate {
            conversation: ConversationId(3),
            score: 5,
            comment: "quick".into(),
        },
        json!({"type":"rate","data":{"conversation":3,"score":5,"comment":"quick"}}),
    );
    pin(
        ClientMsg::Rate {
            conversation: ConversationId(3),
            score: 2,
            comment: String::new(),
        },
        json!({"type":"rate","data":{"conversation":3,"score":2}}),
    );
    pin(
        ServerMsg::Rated {
            conversation: ConversationId(3),
            rating: Rating {
                score: 4,
                comment: String::new(),
                at: 9,
            },
        },
        json!({"type":"rated","data":{"conversation":3,"rating":{"score":4,"at":9}}}),
    );
    pin(
        ServerMsg::error(ErrorCode::AlreadyRated, None),
        json!({"type":"error","data":{"code":"already_rated","message":"already_rated"}}),
    );
    for (code, name) in [
        (ErrorCode::RatingScore, "rating_score"),
        (ErrorCode::RatingCommentTooLong, "rating_comment_too_long"),
        (ErrorCode::ConversationOpen, "conversation_open"),
        (ErrorCode::ReportRange, "report_range"),
    ] {
        assert_eq!(code.name(), name);
    }
}

/// A summary without a rating reads and writes as before.
#[test]
fn a_summary_rating_is_additive() {
    let json = json!({"id":2,"status":"closed","visitor_label":"Visitor 7","rating":3});
    let summary: ConversationSummary = serde_json::from_value(json).expect("parses");
    assert_eq!(summary.rating, Some(3));
    let old: ConversationSummary =
        serde_json::from_value(json!({"id":2,"status":"closed","visitor_label":"Visitor 7"}))
            .expect("parses");
    assert_eq!(old.rating, None);
    assert!(!serde_json::to_string(&old)
        .expect("encodes")
        .contains("rating"));
}

#[test]
fn a_report_has_pinned_json() {
    pin(
        Report {
            from: "2026-11-01".into(),
            to: "2026-11-01".into(),
            days: vec![DayFigures {
                day: "2026-11-01".into(),
                conversations: 2,
                offline: 1,
            }],
            conversations: 2,
            offline: 1,
            first_response_median_ms: Some(1000),
            first_response_p90_ms: Some(2000),
            resolution_median_ms: None,
            agents: vec![AgentFigures {
                name: "Ann".into(),
                conversations: 1,
                first_response_median_ms: Some(1000),
                rating_average: Some(4.5),
                rated: 2,
            }],
            ratings: [0, 0, 0, 1, 1],
        },
        json!({"from":"2026-11-01","to":"2026-11-01",
               "days":[{"day":"2026-11-01","conversations":2,"offline":1}],
               "conversations":2,"offline":1,
               "first_response_median_ms":1000,"first_response_p90_ms":2000,
               "resolution_median_ms":null,
               "agents":[{"name":"Ann","conversations":1,"first_response_median_ms":1000,
                          "rating_average":4.5,"rated":2}],
               "ratings":[0,0,0,1,1]}),
    );
}
