//! The words of the reports page and of ratings in the console, in each
//! language (part of the console's strings tables).

/// Reports and ratings texts.
#[derive(Debug, Clone, Copy)]
pub struct ReportStrings {
    /// The header button and the page's heading.
    pub heading: &'static str,
    /// The first day's field.
    pub from: &'static str,
    /// The last day's field.
    pub to: &'static str,
    /// Shows the report of the chosen days.
    pub show: &'static str,
    /// The CSV download link.
    pub csv: &'static str,
    /// Conversations started.
    pub conversations: &'static str,
    /// Conversations opened while no agent was available.
    pub offline: &'static str,
    /// Chart: conversations per day.
    pub per_day: &'static str,
    /// Median first response.
    pub first_response_median: &'static str,
    /// 90th percentile of first responses.
    pub first_response_p90: &'static str,
    /// Median resolution time.
    pub resolution_median: &'static str,
    /// Per-agent section heading.
    pub per_agent: &'static str,
    /// Column: the agent.
    pub agent: &'static str,
    /// Column: average rating.
    pub rating_average: &'static str,
    /// Chart: how many ratings gave each score.
    pub ratings: &'static str,
    /// No figure (nothing to measure).
    pub none: &'static str,
    /// A duration in words, from milliseconds.
    pub duration: fn(i64) -> String,
    /// On a closed conversation: "Rated {n} of 5".
    pub rated: fn(u8) -> String,
}

/// English.
pub const EN: ReportStrings = ReportStrings {
    heading: "Reports",
    from: "From",
    to: "To",
    show: "Show",
    csv: "Download CSV",
    conversations: "Conversations",
    offline: "Messages left offline",
    per_day: "Conversations per day (offline in the darker part)",
    first_response_median: "Median first response",
    first_response_p90: "90% answered within",
    resolution_median: "Median resolution time",
    per_agent: "Per agent",
    agent: "Agent",
    rating_average: "Average rating",
    ratings: "Ratings",
    none: "—",
    duration: |ms| duration(ms, ["h", "min", "s"]),
    rated: |n| format!("Rated {n} of 5"),
};

/// Simplified Chinese.
pub const ZH_CN: ReportStrings = ReportStrings {
    heading: "报表",
    from: "开始日期",
    to: "结束日期",
    show: "查看",
    csv: "下载 CSV",
    conversations: "对话数",
    offline: "离线留言",
    per_day: "每日对话数（深色部分为离线留言）",
    first_response_median: "首次响应时间中位数",
    first_response_p90: "90% 的首次响应时间在",
    resolution_median: "解决时间中位数",
    per_agent: "按客服",
    agent: "客服",
    rating_average: "平均评分",
    ratings: "评分分布",
    none: "—",
    duration: |ms| duration(ms, ["小时", "分", "秒"]),
    rated: |n| format!("评分：{n} 分（满分 5 分）"),
};

/// `ms` as hours, minutes and seconds with these unit words (`1 h 5 min`,
/// `42 s`): the two largest non-zero units.
fn duration(ms: i64, units: [&str; 3]) -> String {
    let secs = (ms.max(0) + 500) / 1000;
    let parts = [secs / 3600, secs / 60 % 60, secs % 60];
    let shown: Vec<String> = parts
        .iter()
        .zip(units)
        .skip_while(|(n, _)| **n == 0)
        .take(2)
        .filter(|(n, _)| **n > 0)
        .map(|(n, u)| format!("{n} {u}"))
        .collect();
    if shown.is_empty() {
        format!("0 {}", units[2])
    } else {
        shown.join(" ")
    }
}
