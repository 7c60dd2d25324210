//! The words of the agent's desk, in each language (part of the console's
//! strings tables): canned replies, closed conversations and search.

/// The desk's texts.
#[derive(Debug, Clone, Copy)]
pub struct DeskStrings {
    /// The button that opens the canned-replies panel, and its heading.
    pub canned_heading: &'static str,
    /// How canned replies work.
    pub canned_hint: &'static str,
    /// Shortcut field.
    pub shortcut: &'static str,
    /// Text field.
    pub text: &'static str,
    /// Shared checkbox (admins).
    pub shared: &'static str,
    /// Tag of a shared reply.
    pub shared_tag: &'static str,
    /// Add button.
    pub add: &'static str,
    /// Save button of a reply.
    pub save: &'static str,
    /// Remove button of a reply.
    pub remove: &'static str,
    /// No replies yet.
    pub no_canned: &'static str,
    /// In the composer's list when nothing matches what was typed.
    pub no_match: &'static str,
    /// The button that opens the history panel, and its heading.
    pub history_heading: &'static str,
    /// The search field's placeholder.
    pub search_placeholder: &'static str,
    /// Search button.
    pub search: &'static str,
    /// A search found nothing.
    pub no_results: &'static str,
    /// Heading of the search results.
    pub results: &'static str,
    /// A hit on the visitor's name or email.
    pub name_hit: &'static str,
    /// Heading of the closed conversations.
    pub closed_heading: &'static str,
    /// No closed conversation yet.
    pub no_closed: &'static str,
    /// Button loading the next page of closed conversations.
    pub more: &'static str,
    /// Tag of a conversation still open.
    pub open_tag: &'static str,
    /// The read-only view's note.
    pub read_only: &'static str,
    /// Button closing the read-only view.
    pub back: &'static str,
}

/// English.
pub const EN: DeskStrings = DeskStrings {
    canned_heading: "Canned replies",
    canned_hint: "Type / and a shortcut in the reply box to use one. {visitor_name} and {agent_name} are filled in when chosen.",
    shortcut: "Shortcut",
    text: "Text",
    shared: "Shared with all agents",
    shared_tag: "shared",
    add: "Add",
    save: "Save",
    remove: "Remove",
    no_canned: "No canned replies yet.",
    no_match: "No canned reply matches.",
    history_heading: "History",
    search_placeholder: "Search messages, names and emails",
    search: "Search",
    no_results: "Nothing found.",
    results: "Results",
    name_hit: "Visitor's name or email",
    closed_heading: "Closed conversations",
    no_closed: "No closed conversations yet.",
    more: "More",
    open_tag: "open",
    read_only: "Read only",
    back: "Back",
};

/// Simplified Chinese.
pub const ZH_CN: DeskStrings = DeskStrings {
    canned_heading: "快捷回复",
    canned_hint: "在回复框中输入 / 和快捷词即可使用。选中时会填入 {visitor_name} 和 {agent_name}。",
    shortcut: "快捷词",
    text: "内容",
    shared: "与所有客服共享",
    shared_tag: "共享",
    add: "添加",
    save: "保存",
    remove: "删除",
    no_canned: "还没有快捷回复。",
    no_match: "没有匹配的快捷回复。",
    history_heading: "历史记录",
    search_placeholder: "搜索消息、姓名和邮箱",
    search: "搜索",
    no_results: "没有找到结果。",
    results: "搜索结果",
    name_hit: "访客姓名或邮箱",
    closed_heading: "已结束的会话",
    no_closed: "还没有已结束的会话。",
    more: "更多",
    open_tag: "进行中",
    read_only: "只读",
    back: "返回",
};
