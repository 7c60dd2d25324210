//! The words of deleting a visitor and of the visitor's id, in each
//! language (part of the console's strings tables).

/// Visitor deletion texts.
#[derive(Debug, Clone, Copy)]
pub struct PrivacyStrings {
    /// Row of the visitor panel: the visitor's id (for `kefu visitor export`).
    pub visitor_id: &'static str,
    /// The button that starts deleting a visitor (admins).
    pub delete: &'static str,
    /// What deleting means, asked before it is done.
    pub confirm: &'static str,
    /// The button that deletes.
    pub confirm_button: &'static str,
    /// The button that does not.
    pub cancel: &'static str,
    /// Told once the visitor is gone.
    pub deleted: &'static str,
}

/// English.
pub const EN: PrivacyStrings = PrivacyStrings {
    visitor_id: "Visitor id",
    delete: "Delete visitor",
    confirm: "Delete this visitor and everything stored about them (every conversation, message, note and rating, their page and browser)? This cannot be undone.",
    confirm_button: "Delete for good",
    cancel: "Cancel",
    deleted: "The visitor and everything stored about them were deleted.",
};

/// Simplified Chinese.
pub const ZH_CN: PrivacyStrings = PrivacyStrings {
    visitor_id: "访客编号",
    delete: "删除访客",
    confirm: "删除该访客及其全部数据（所有会话、消息、备注和评价，以及其浏览页面和浏览器信息）？此操作无法撤销。",
    confirm_button: "永久删除",
    cancel: "取消",
    deleted: "该访客及其全部数据已删除。",
};
