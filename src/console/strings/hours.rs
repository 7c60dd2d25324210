//! The business-hours panel's words, in each language (part of the
//! console's strings tables).

/// The business-hours panel's texts.
#[derive(Debug, Clone, Copy)]
pub struct HoursStrings {
    /// Heading.
    pub heading: &'static str,
    /// What the hours do.
    pub hint: &'static str,
    /// The switch that turns hours on.
    pub enabled: &'static str,
    /// Time zone field.
    pub time_zone: &'static str,
    /// Under the time zone field.
    pub time_zone_hint: &'static str,
    /// Weekday names, Monday first.
    pub days: [&'static str; 7],
    /// A day's "open" checkbox.
    pub open: &'static str,
    /// Opening time field.
    pub from: &'static str,
    /// Closing time field.
    pub to: &'static str,
    /// The switch that keeps live chat open outside hours.
    pub keep_chat_open: &'static str,
    /// What that switch does.
    pub keep_chat_open_hint: &'static str,
    /// After a save.
    pub saved: &'static str,
}

/// English.
pub const EN: HoursStrings = HoursStrings {
    heading: "Business hours",
    hint: "Outside these hours the widget offers the leave-a-message form, even when an agent is signed in, and says when the team is back.",
    enabled: "Use business hours",
    time_zone: "Time zone",
    time_zone_hint: "A name such as Asia/Shanghai, Europe/London or UTC.",
    days: [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ],
    open: "Open",
    from: "From",
    to: "To",
    keep_chat_open: "Keep live chat open outside hours while an agent is signed in",
    keep_chat_open_hint: "Visitors still see when the team is back when nobody is online.",
    saved: "Business hours saved.",
};

/// Simplified Chinese.
pub const ZH_CN: HoursStrings = HoursStrings {
    heading: "工作时间",
    hint: "在工作时间以外，即使有客服在线，访客窗口也只显示留言表单，并告知访客何时恢复服务。",
    enabled: "启用工作时间",
    time_zone: "时区",
    time_zone_hint: "例如 Asia/Shanghai、Europe/London 或 UTC。",
    days: [
        "星期一",
        "星期二",
        "星期三",
        "星期四",
        "星期五",
        "星期六",
        "星期日",
    ],
    open: "营业",
    from: "开始",
    to: "结束",
    keep_chat_open: "工作时间以外，有客服在线时仍可实时对话",
    keep_chat_open_hint: "没有客服在线时，访客仍会看到恢复服务的时间。",
    saved: "工作时间已保存。",
};
