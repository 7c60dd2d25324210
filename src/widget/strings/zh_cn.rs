//! The widget in Simplified Chinese.

use super::{Refusal, WidgetStrings};
use crate::chat::{ChatStrings, Notice};
use crate::protocol::{ErrorCode, SystemEvent};

/// Words for each refusal a visitor can meet (see [`Refusal`]).
fn error_zh(code: ErrorCode) -> &'static str {
    match Refusal::from(code) {
        Refusal::EmptyText => "请输入消息内容。",
        Refusal::TextTooLong => "每条消息最多 4000 个字符。",
        Refusal::Closed => "此对话已结束。",
        Refusal::SlowDown => "发送过快，请稍候再试。",
        Refusal::Storage => "消息暂未保存，将自动重试。",
        Refusal::Unreachable => "无法连接服务器，请稍后再试。",
        Refusal::IdentityRefused => "无法确认您的账号，您将以访客身份咨询。",
        Refusal::IdentityExpired => "您的登录已过期，您将以访客身份咨询。刷新页面即可恢复。",
        Refusal::ProfileNameTooLong => "名字最多 80 个字符。",
        Refusal::ProfileNameControl => "名字不能包含控制字符或不可见字符。",
        Refusal::ProfileEmail => "请输入有效的邮箱地址。",
        Refusal::RatingInvalid => "请选择 1 到 5 分；评价内容最多 1000 个字符。",
        Refusal::AlreadyRated => "您已经评价过此对话。",
        Refusal::ConversationOpen => "对话结束后才能评价。",
        Refusal::Other => "出了点问题，请重试。",
    }
}

fn event_zh(event: &SystemEvent) -> String {
    match event {
        SystemEvent::Assigned { agent } => format!("{agent} 将为您服务"),
        SystemEvent::Closed { agent } => format!("{agent} 结束了对话"),
        SystemEvent::Transferred { agent } => format!("您现在正在与 {agent} 对话"),
        SystemEvent::Requeued { agent } | SystemEvent::Returned { agent } => {
            format!("{agent} 暂时无法服务，其他客服将尽快为您服务")
        }
        SystemEvent::Unknown => String::new(),
    }
}

fn notice_zh(notice: Notice) -> &'static str {
    match notice {
        Notice::AgentOffline => "客服已离线",
        Notice::AgentBack => "客服已回来",
        Notice::VisitorLeft | Notice::VisitorBack => "",
    }
}

/// 简体中文.
pub const ZH_CN: WidgetStrings = WidgetStrings {
    chat: ChatStrings {
        placeholder: "请输入消息…",
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
        // Visitors never see a note.
        note: "",
        event: event_zh,
        notice: notice_zh,
        error: error_zh,
        locale: "zh-CN",
    },
    open_chat: "在线咨询",
    online: "客服在线",
    offline: "客服不在线 — 请留言",
    title: "在线客服",
    minimize: "最小化",
    mute: "静音",
    connecting: "正在连接…",
    reconnecting: "正在重新连接…",
    no_agent: "当前没有客服在线。",
    leave_message: "请留言，客服上线后会尽快回复您。",
    after_hours: "现在是非工作时间。",
    back_at: |when| format!("我们将于{when}恢复服务。"),
    message_left: "谢谢，您的留言已保存。客服会在这里回复您。",
    waiting: "正在等待客服…",
    agent_away: "客服暂时离线…",
    closed: "此对话已结束。发送消息即可开始新的对话。",
    serving: |agent| format!("{agent} 正在为您服务"),
    queue_position: |n| format!("客服都在忙。您当前排在第 {n} 位。"),
    prechat_intro: "开始之前，请告诉我们您是谁。",
    your_name: "您的姓名",
    your_email: "您的邮箱",
    optional: "（选填）",
    start_chat: "开始聊天",
    not_allowed: "此网站不能显示聊天窗口。",
    rate_prompt: "您对本次服务满意吗？（1 分最差，5 分最好）",
    rate_comment: "还有什么想说的吗？（选填）",
    rate_send: "提交评价",
    rated: "感谢您的评价！",
};
