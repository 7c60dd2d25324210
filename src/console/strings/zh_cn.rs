//! The console in Simplified Chinese.

use super::ConsoleStrings;
use crate::chat::{ChatStrings, Notice};
use crate::protocol::{ErrorCode, SystemEvent};

/// Words for each error code, from a socket or a server function.
fn error_zh(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::Unauthorized => "登录已过期，请重新登录。",
        ErrorCode::Forbidden => "您无权这样做：这需要管理员权限，或不属于您。",
        ErrorCode::NotFound => "未找到。",
        ErrorCode::WrongCredentials => "用户名或密码错误。",
        ErrorCode::AlreadySetUp => "初始设置已完成，请登录。",
        ErrorCode::TooManyAttempts => "失败次数过多，请稍后再试。",
        ErrorCode::NameEmpty => "请输入名字。",
        ErrorCode::NameTooLong => "名字最多 40 个字符。",
        ErrorCode::NameControl => "名字不能包含控制字符或不可见字符。",
        ErrorCode::PasswordLength => "密码长度为 8 到 256 个字符。",
        ErrorCode::Capacity => "接待上限为 1 到 100 之间的数字。",
        ErrorCode::NameTaken => "已有同名客服。",
        ErrorCode::SelfLockout => "不能停用或删除自己的账号。",
        ErrorCode::BadForm => "请正确填写每一项。",
        ErrorCode::BadColor => "颜色须为十六进制颜色，例如 #2563eb。",
        ErrorCode::BadOrigin => {
            "每个网站须写成 scheme://host 或 scheme://host:port，例如 https://shop.example（最多 50 个）。"
        }
        ErrorCode::SettingTooLong => "标题最多 60 个字符，问候语和离线提示最多 500 个字符。",
        ErrorCode::BadHours => "每个工作日的开始时间须早于结束时间（最晚 24:00）。",
        ErrorCode::BadTimeZone => "时区须为 Asia/Shanghai、Europe/London 或 UTC 这样的名称。",
        ErrorCode::OriginNotAllowed => "该网站不在允许嵌入的网站列表中。",
        ErrorCode::WrongPassword => "当前密码错误。",
        ErrorCode::WrongSetupCode => "设置码错误。设置码在 kefu 启动时打印在日志中。",
        ErrorCode::CannedShortcut => "快捷词为 1 到 32 个字母、数字、- 或 _（不含空格）。",
        ErrorCode::CannedText => "回复内容为 1 到 2000 个字符的纯文本。",
        ErrorCode::ShortcutTaken => "已有使用该快捷词的回复。",
        ErrorCode::TooManyCanned => "一个列表最多保存 200 条快捷回复。",
        ErrorCode::SearchTooLong => "搜索内容最多 200 个字符。",
        ErrorCode::VisitorActive => "该访客在线或有未结束的会话：请先结束会话，待其离开后再试。",
        ErrorCode::WebhookUrl => {
            "Webhook 地址须以 http:// 或 https:// 开头、带主机名、不含用户名或密码，且最多 2000 个字符。"
        }
        ErrorCode::WebhookSelf => "Webhook 不能指向 kefu 自身。",
        ErrorCode::WebhookPrivate => "此 kefu 拒绝发往私有、回环和链路本地地址的 Webhook。",
        ErrorCode::WebhookEvents => "请至少选择一个事件。",
        ErrorCode::TooManyWebhooks => "Webhook 数量已达上限（20 个）。",
        ErrorCode::RatingScore => "评分须为 1 到 5 分。",
        ErrorCode::RatingCommentTooLong => "评价内容最多 1000 个字符。",
        ErrorCode::AlreadyRated => "此对话已评价过。",
        ErrorCode::ConversationOpen => "对话尚未结束。",
        ErrorCode::ReportRange => "请选择开始和结束日期（YYYY-MM-DD），开始不晚于结束，最多相隔 366 天。",
        ErrorCode::Internal => "服务器出错，请重试。",
        ErrorCode::Unreachable => "无法连接服务器，请重试。",
        ErrorCode::EmptyText => "请输入消息内容。",
        ErrorCode::TextTooLong => "每条消息最多 4000 个字符。",
        ErrorCode::ConversationClosed => "此对话已结束。",
        ErrorCode::SlowDown => "消息发送过多，请稍候。",
        ErrorCode::Storage => "服务器未能保存，请重试。",
        ErrorCode::WrongRole => "您无法使用此功能。",
        ErrorCode::IdentityInvalid => "签名身份被拒绝：格式错误或签名不符。",
        ErrorCode::IdentityExpired => "签名身份已过期。",
        ErrorCode::IdentityRetired => "签名身份使用的是已轮换作废的密钥。",
        ErrorCode::ProfileNameTooLong => "访客名字最多 80 个字符。",
        ErrorCode::ProfileNameControl => "访客名字不能包含控制字符或不可见字符。",
        ErrorCode::ProfileEmailInvalid => "邮箱地址无效。",
        ErrorCode::PageViewInvalid => "页面地址或标题过长，无法显示。",
        ErrorCode::AgentUnknown => "该客服不存在。",
        ErrorCode::AgentDisabled => "该客服已被停用。",
        ErrorCode::AgentOffline => "该客服不在线。",
        ErrorCode::AgentAway => "该客服处于离开状态。",
        ErrorCode::AgentAtCapacity => "该客服的接待量已满。",
        ErrorCode::BadFrame
        | ErrorCode::FrameTooLarge
        | ErrorCode::HelloFirst
        | ErrorCode::BadMessageId
        | ErrorCode::Unknown => "出了点问题，请刷新页面。",
    }
}

fn event_zh(event: &SystemEvent) -> String {
    match event {
        SystemEvent::Assigned { agent } => format!("已分配给 {agent}"),
        SystemEvent::Closed { agent } => format!("{agent} 结束了对话"),
        SystemEvent::Requeued { agent } => {
            format!("{agent} 离开过久，对话已回到排队")
        }
        SystemEvent::Transferred { agent } => format!("已转接给 {agent}"),
        SystemEvent::Returned { agent } => format!("{agent} 将对话交回排队"),
        SystemEvent::Unknown => String::new(),
    }
}

fn notice_zh(notice: Notice) -> &'static str {
    match notice {
        Notice::VisitorLeft => "访客已离开",
        Notice::VisitorBack => "访客已回来",
        Notice::AgentOffline | Notice::AgentBack => "",
    }
}

/// 简体中文.
pub const ZH_CN: ConsoleStrings = ConsoleStrings {
    chat: ChatStrings {
        placeholder: "回复…（Enter 发送，Shift+Enter 换行）",
        send: "发送",
        pending: "发送中…",
        sent: "已发送",
        seen: "已读",
        typing: |name| match name {
            Some(name) => format!("{name} 正在输入…"),
            None => "正在输入…".to_owned(),
        },
        new_messages: "新消息 ↓",
        earlier: "更早的消息",
        too_long: "每条消息最多 4000 个字符。",
        note: "内部备注",
        event: event_zh,
        notice: notice_zh,
        error: error_zh,
        locale: "zh-CN",
    },
    settings: super::settings::ZH_CN,
    hours: super::hours::ZH_CN,
    accounts: super::accounts::ZH_CN,
    visits: super::visits::ZH_CN,
    desk: super::desk::ZH_CN,
    webhooks: super::webhooks::ZH_CN,
    transfer: super::transfer::ZH_CN,
    privacy: super::privacy::ZH_CN,
    reports: super::reports::ZH_CN,
    title: "kefu 客服",
    setup_title: "欢迎使用 kefu",
    setup_hint: "请创建第一个管理员账号，之后可以再添加客服。",
    create_admin: "创建管理员",
    sign_in_title: "客服登录",
    name: "名字",
    password: "密码",
    capacity: "接待上限",
    admin: "管理员",
    sign_in: "登录",
    sign_out: "退出",
    loading: "加载中…",
    reconnecting: "正在重新连接…",
    no_conversations: "暂无对话。新访客会出现在这里。",
    pick_conversation: "请在左侧选择一个对话。",
    close: "结束对话",
    visitor_online: "在线",
    visitor_offline: "已离开",
    agents: "客服管理",
    add_agent: "添加客服",
    disabled: "已停用",
    save: "保存",
    remove: "删除",
    agent_added: |name| format!("已添加 {name}。"),
    load: |n, cap| format!("{n} / {cap} 个对话"),
    visitor: |n| format!("访客 {n}"),
    you_said: |text| format!("我：{text}"),
    language: "语言",
    too_many_attempts: |secs| format!("失败次数过多，请在 {secs} 秒后重试。"),
    verified: "已验证",
    verified_hint: "由您的网站签名：这是网站上已登录的用户。",
    unverified: "未验证",
    unverified_hint: "访客自己填写，未经核实。",
    identity_title: "身份验证",
    identity_hint: "您网站的后端用此密钥（HMAC-SHA256）为每位已登录用户的身份签名，用户在任何设备上都能找到自己的对话。请只保存在服务器上，切勿放进网页。",
    rotate_secret: "更换密钥",
    secret_rotated: "已生成新密钥。用旧密钥签名的身份从现在起会被拒绝：请把新密钥交给您的网站。",
};
