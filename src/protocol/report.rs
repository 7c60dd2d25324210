//! What the admins' reports page gets from its server function (issue 14):
//! the figures of the conversations started in a date range. The CSV
//! download carries the same figures.

use serde::{Deserialize, Serialize};

/// Longest date range a report covers, in days.
pub const MAX_REPORT_DAYS: i64 = 366;

/// The figures of one date range (days are UTC days, `YYYY-MM-DD`,
/// both ends included). Durations are milliseconds; medians and the 90th
/// percentile are nearest-rank values over the closed conversations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The first day.
    pub from: String,
    /// The last day.
    pub to: String,
    /// Every day of the range, in order.
    pub days: Vec<DayFigures>,
    /// Conversations started in the range.
    pub conversations: u32,
    /// Of those, opened while no agent was available (messages left: missed chats).
    pub offline: u32,
    /// Median time from the visitor's first message to the first agent reply.
    #[serde(default)]
    pub first_response_median_ms: Option<i64>,
    /// Its 90th percentile.
    #[serde(default)]
    pub first_response_p90_ms: Option<i64>,
    /// Median time from the start to the close of closed conversations.
    #[serde(default)]
    pub resolution_median_ms: Option<i64>,
    /// Per agent who closed conversations in the range, by name.
    pub agents: Vec<AgentFigures>,
    /// How many ratings gave 1, 2, 3, 4 and 5.
    pub ratings: [u32; 5],
}

/// One day's counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayFigures {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    /// Conversations started that day.
    pub conversations: u32,
    /// Of those, opened while no agent was available.
    pub offline: u32,
}

/// One agent's figures: the conversations they closed (served last).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentFigures {
    /// The agent's name.
    pub name: String,
    /// Conversations handled.
    pub conversations: u32,
    /// Median first response in them.
    #[serde(default)]
    pub first_response_median_ms: Option<i64>,
    /// Average rating given to them (none: no rating).
    #[serde(default)]
    pub rating_average: Option<f64>,
    /// How many of them were rated.
    pub rated: u32,
}
