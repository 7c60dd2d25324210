//! The words of notifications and of the visitor panel, in each language
//! (part of the console's strings tables).

/// Notification and visitor-panel texts.
#[derive(Debug, Clone, Copy)]
pub struct VisitStrings {
    /// The notification switch's label.
    pub notify: &'static str,
    /// Its tooltip.
    pub notify_hint: &'static str,
    /// The browser refused notifications: only the sound plays.
    pub notify_blocked: &'static str,
    /// A notification's title for a new conversation: "New chat: {visitor}".
    pub new_conversation: fn(&str) -> String,
    /// A notification's title for a new message: "{visitor} wrote".
    pub new_message: fn(&str) -> String,
    /// The visitor panel's heading.
    pub heading: &'static str,
    /// Row: the page the visitor is on.
    pub page: &'static str,
    /// Row: where they came from.
    pub referrer: &'static str,
    /// Row: browser.
    pub browser: &'static str,
    /// Row: operating system.
    pub os: &'static str,
    /// Row: language.
    pub language: &'static str,
    /// Row: the visitor's local time.
    pub local_time: &'static str,
    /// Row: first seen.
    pub first_seen: &'static str,
    /// Row: name.
    pub name: &'static str,
    /// Row: email.
    pub email: &'static str,
    /// Not known.
    pub unknown: &'static str,
    /// Heading of the earlier conversations.
    pub earlier: &'static str,
    /// No earlier conversations.
    pub no_earlier: &'static str,
    /// An earlier conversation's line: "{date} · {n} messages".
    pub earlier_item: fn(&str, i64) -> String,
    /// Closes the read-only view of an earlier conversation.
    pub back: &'static str,
    /// Above a read-only earlier conversation.
    pub read_only: &'static str,
}

/// English.
pub const EN: VisitStrings = VisitStrings {
    notify: "Notify me",
    notify_hint: "A sound and a browser notification for a new chat, and for a new message while you look elsewhere",
    notify_blocked: "The browser blocks notifications for this site: only the sound plays.",
    new_conversation: |who| format!("New chat: {who}"),
    new_message: |who| format!("{who} wrote"),
    heading: "Visitor",
    page: "Page",
    referrer: "Came from",
    browser: "Browser",
    os: "System",
    language: "Language",
    local_time: "Local time",
    first_seen: "First seen",
    name: "Name",
    email: "Email",
    unknown: "—",
    earlier: "Earlier conversations",
    no_earlier: "None",
    earlier_item: |date, n| {
        if n == 1 {
            format!("{date} · 1 message")
        } else {
            format!("{date} · {n} messages")
        }
    },
    back: "Back",
    read_only: "Read only",
};

/// 简体中文.
pub const ZH_CN: VisitStrings = VisitStrings {
    notify: "通知我",
    notify_hint: "有新对话，或在您看别处时有新消息，播放提示音并弹出浏览器通知",
    notify_blocked: "浏览器已禁止本站的通知：只会播放提示音。",
    new_conversation: |who| format!("新对话：{who}"),
    new_message: |who| format!("{who} 发来消息"),
    heading: "访客",
    page: "当前页面",
    referrer: "来源",
    browser: "浏览器",
    os: "操作系统",
    language: "语言",
    local_time: "当地时间",
    first_seen: "首次访问",
    name: "姓名",
    email: "邮箱",
    unknown: "—",
    earlier: "以往对话",
    no_earlier: "无",
    earlier_item: |date, n| format!("{date} · {n} 条消息"),
    back: "返回",
    read_only: "只读",
};
