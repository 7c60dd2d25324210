//! The words of the console's webhooks panel, in each language (part of
//! the console's strings tables).

use crate::protocol::webhooks::{DeliveryStatus, WebhookEvent};

/// The webhooks panel's texts.
#[derive(Debug, Clone, Copy)]
pub struct WebhookStrings {
    /// Heading.
    pub heading: &'static str,
    /// What webhooks do and how they are signed.
    pub hint: &'static str,
    /// URL field.
    pub url: &'static str,
    /// Each event's name in the form and the list.
    pub event: fn(WebhookEvent) -> &'static str,
    /// Add button.
    pub add: &'static str,
    /// After a webhook was added.
    pub added: &'static str,
    /// No webhook yet.
    pub none: &'static str,
    /// Label before a webhook's signing key.
    pub secret: &'static str,
    /// Rotate-key button.
    pub rotate: &'static str,
    /// Remove button.
    pub remove: &'static str,
    /// Heading of the deliveries.
    pub deliveries: &'static str,
    /// Refresh button of the deliveries.
    pub refresh: &'static str,
    /// No delivery yet.
    pub no_deliveries: &'static str,
    /// Column: event.
    pub event_column: &'static str,
    /// Column: status.
    pub status_column: &'static str,
    /// Column: tries.
    pub attempts_column: &'static str,
    /// Column: last error.
    pub error_column: &'static str,
    /// Each status's word.
    pub status: fn(DeliveryStatus) -> &'static str,
}

/// English.
pub const EN: WebhookStrings = WebhookStrings {
    heading: "Webhooks",
    hint: "kefu POSTs each chosen event as JSON to the URL, signed in the X-Kefu-Signature header with the key below, and retries for 24 hours until the receiver answers 2xx.",
    url: "URL",
    event: |e| match e {
        WebhookEvent::ConversationCreated => "Conversation started",
        WebhookEvent::MessageCreated => "Message written",
        WebhookEvent::ConversationClosed => "Conversation closed",
        WebhookEvent::RatingGiven => "Rating given",
    },
    add: "Add webhook",
    added: "Webhook added.",
    none: "No webhook yet.",
    secret: "Signing key",
    rotate: "New key",
    remove: "Remove",
    deliveries: "Recent deliveries",
    refresh: "Refresh",
    no_deliveries: "Nothing sent yet.",
    event_column: "Event",
    status_column: "Status",
    attempts_column: "Tries",
    error_column: "Last error",
    status: |s| match s {
        DeliveryStatus::Pending => "Pending",
        DeliveryStatus::Delivered => "Delivered",
        DeliveryStatus::Failed => "Failed",
    },
};

/// Simplified Chinese.
pub const ZH_CN: WebhookStrings = WebhookStrings {
    heading: "Webhook",
    hint: "kefu 会把所选事件以 JSON 格式 POST 到该地址，用下方密钥在 X-Kefu-Signature 请求头中签名；接收方未返回 2xx 时会在 24 小时内不断重试。",
    url: "地址",
    event: |e| match e {
        WebhookEvent::ConversationCreated => "会话开始",
        WebhookEvent::MessageCreated => "新消息",
        WebhookEvent::ConversationClosed => "会话关闭",
        WebhookEvent::RatingGiven => "收到评价",
    },
    add: "添加 Webhook",
    added: "Webhook 已添加。",
    none: "尚无 Webhook。",
    secret: "签名密钥",
    rotate: "更换密钥",
    remove: "删除",
    deliveries: "最近的投递",
    refresh: "刷新",
    no_deliveries: "尚未发送任何事件。",
    event_column: "事件",
    status_column: "状态",
    attempts_column: "尝试次数",
    error_column: "最近错误",
    status: |s| match s {
        DeliveryStatus::Pending => "等待中",
        DeliveryStatus::Delivered => "已送达",
        DeliveryStatus::Failed => "失败",
    },
};
