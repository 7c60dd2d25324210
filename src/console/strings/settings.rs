//! The settings panel's words, in each language (part of the console's
//! strings tables).

use crate::protocol::settings::FieldRule;

/// The settings panel's texts.
#[derive(Debug, Clone, Copy)]
pub struct SettingsStrings {
    /// The button that opens the panel, and its heading.
    pub heading: &'static str,
    /// Look and words group.
    pub look: &'static str,
    /// Brand colour field.
    pub color: &'static str,
    /// Title field.
    pub title: &'static str,
    /// Greeting field.
    pub greeting: &'static str,
    /// Placeholder: no greeting.
    pub no_greeting: &'static str,
    /// Offline text field.
    pub offline_text: &'static str,
    /// Placeholder: the widget's own words are used.
    pub default_words: &'static str,
    /// Launcher position field.
    pub position: &'static str,
    /// Bottom right.
    pub right: &'static str,
    /// Bottom left.
    pub left: &'static str,
    /// Pre-chat form group.
    pub prechat: &'static str,
    /// Pre-chat name field.
    pub prechat_name: &'static str,
    /// Pre-chat email field.
    pub prechat_email: &'static str,
    /// Each field's rule.
    pub rule: fn(FieldRule) -> &'static str,
    /// Allowed sites group.
    pub sites: &'static str,
    /// How to list them.
    pub sites_hint: &'static str,
    /// Agents group (what agents see of visitors).
    pub agents_see: &'static str,
    /// The draft preview checkbox.
    pub draft_preview: &'static str,
    /// What the draft preview is, and what turning it off does.
    pub draft_preview_hint: &'static str,
    /// After a save.
    pub saved: &'static str,
}

/// English.
pub const EN: SettingsStrings = SettingsStrings {
    heading: "Widget settings",
    look: "Look and words",
    color: "Brand colour",
    title: "Title",
    greeting: "Greeting (shown before the first message)",
    no_greeting: "No greeting",
    offline_text: "Text when no agent is online",
    default_words: "kefu's own words, in the visitor's language",
    position: "Launcher position",
    right: "Bottom right",
    left: "Bottom left",
    prechat: "Pre-chat form",
    prechat_name: "Name",
    prechat_email: "Email",
    rule: |r| match r {
        FieldRule::Off => "Not asked",
        FieldRule::Optional => "Optional",
        FieldRule::Required => "Required",
    },
    sites: "Sites that may embed the chat",
    sites_hint: "One per line, as scheme://host[:port], e.g. https://shop.example. Sites given with --allow-origin are allowed too.",
    agents_see: "What agents see",
    draft_preview: "Show agents what visitors are typing before they send it",
    draft_preview_hint: "Off, agents still see \"typing…\" but never the unsent text: it does not leave the server.",
    saved: "Settings saved. The widget uses them from its next open.",
};

/// Simplified Chinese.
pub const ZH_CN: SettingsStrings = SettingsStrings {
    heading: "聊天窗口设置",
    look: "外观与文字",
    color: "品牌颜色",
    title: "标题",
    greeting: "问候语（在第一条消息之前显示）",
    no_greeting: "不显示问候语",
    offline_text: "无客服在线时的提示",
    default_words: "使用 kefu 默认文字（按访客语言显示）",
    position: "按钮位置",
    right: "右下角",
    left: "左下角",
    prechat: "聊天前表单",
    prechat_name: "姓名",
    prechat_email: "邮箱",
    rule: |r| match r {
        FieldRule::Off => "不询问",
        FieldRule::Optional => "选填",
        FieldRule::Required => "必填",
    },
    sites: "允许嵌入聊天的网站",
    sites_hint: "每行一个，格式为 scheme://host[:port]，例如 https://shop.example。通过 --allow-origin 指定的网站同样允许。",
    agents_see: "客服可见内容",
    draft_preview: "向客服显示访客尚未发送的输入内容",
    draft_preview_hint: "关闭后，客服仍会看到“正在输入…”，但看不到未发送的文字：这些文字不会离开服务器。",
    saved: "设置已保存。聊天窗口下次打开时生效。",
};
