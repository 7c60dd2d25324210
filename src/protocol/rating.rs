//! A visitor's rating of a closed conversation (issue 14): what the
//! visitor sends, what agents are shown, and its limits.

use serde::{Deserialize, Serialize};

/// Longest rating comment, in Unicode scalar values.
pub const MAX_RATING_COMMENT_CHARS: usize = 1000;

/// Lowest and highest score.
pub const RATING_SCORES: std::ops::RangeInclusive<u8> = 1..=5;

/// A stored rating, as agents see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    /// 1 (bad) to 5 (very good).
    pub score: u8,
    /// The visitor's words, if any.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub comment: String,
    /// When it was given (ms since the epoch).
    pub at: i64,
}
