//! The words of the transfer control and the composer's reply/note switch,
//! in each language (part of the console's strings tables).

/// Transfer and note texts.
#[derive(Debug, Clone, Copy)]
pub struct TransferStrings {
    /// The transfer button.
    pub transfer: &'static str,
    /// The receiver picker's label.
    pub transfer_to: &'static str,
    /// The picker's first entry, until someone is chosen.
    pub choose: &'static str,
    /// The picker's entry for the queue.
    pub queue: &'static str,
    /// The optional note for the receiver.
    pub note_for_receiver: &'static str,
    /// The composer mode picker's label.
    pub mode: &'static str,
    /// Composer mode: a reply the visitor reads.
    pub reply: &'static str,
    /// Composer mode: a private note only agents read.
    pub note: &'static str,
    /// Admins: the heading over every open conversation.
    pub open_conversations: &'static str,
    /// Admins: a conversation no agent serves yet.
    pub queued: &'static str,
    /// Admins: reloads the list of open conversations.
    pub refresh: &'static str,
    /// Admins: no conversation is open.
    pub none_open: &'static str,
}

/// English.
pub const EN: TransferStrings = TransferStrings {
    transfer: "Transfer",
    transfer_to: "Transfer to",
    choose: "Choose…",
    queue: "Back to the queue",
    note_for_receiver: "Note for the receiver (optional)",
    mode: "Write",
    reply: "Reply to the visitor",
    note: "Private note (agents only)",
    open_conversations: "Open conversations",
    queued: "Waiting in the queue",
    refresh: "Refresh",
    none_open: "No conversation is open.",
};

/// Simplified Chinese.
pub const ZH_CN: TransferStrings = TransferStrings {
    transfer: "转接",
    transfer_to: "转接给",
    choose: "请选择…",
    queue: "交回排队",
    note_for_receiver: "给接收人的备注（可选）",
    mode: "撰写",
    reply: "回复访客",
    note: "内部备注（仅客服可见）",
    open_conversations: "进行中的对话",
    queued: "排队等待中",
    refresh: "刷新",
    none_open: "当前没有进行中的对话。",
};
