//! The words of an agent's own account (password, status) and of admins'
//! password resets, in each language (part of the console's strings tables).

/// Account texts.
#[derive(Debug, Clone, Copy)]
pub struct AccountStrings {
    /// Setup form: the setup code field.
    pub setup_code: &'static str,
    /// Setup form: where the setup code is found.
    pub setup_code_hint: &'static str,
    /// The button that opens the password form, and its heading.
    pub password_heading: &'static str,
    /// Current password field.
    pub current_password: &'static str,
    /// New password field.
    pub new_password: &'static str,
    /// Change-password button.
    pub change_password: &'static str,
    /// After one's own password was changed.
    pub password_changed: &'static str,
    /// Admins: a new password for an agent (field and button).
    pub set_password: &'static str,
    /// Admins: after an agent's password was set: "{name}'s password was set".
    pub password_set: fn(&str) -> String,
    /// The status picker's label.
    pub status: &'static str,
    /// Online: gets new conversations.
    pub online: &'static str,
    /// Away: keeps their conversations, gets no new ones.
    pub away: &'static str,
    /// Offline (no console open), in the agents panel.
    pub offline: &'static str,
}

/// English.
pub const EN: AccountStrings = AccountStrings {
    setup_code: "Setup code",
    setup_code_hint: "kefu printed a one-time setup code in its log when it started. Enter it to prove this server is yours.",
    password_heading: "Password",
    current_password: "Current password",
    new_password: "New password",
    change_password: "Change password",
    password_changed: "Your password was changed. Your other sessions were signed out.",
    set_password: "New password",
    password_set: |name| format!("{name}'s password was set; their sessions were signed out."),
    status: "Status",
    online: "Online",
    away: "Away",
    offline: "Offline",
};

/// 简体中文.
pub const ZH_CN: AccountStrings = AccountStrings {
    setup_code: "设置码",
    setup_code_hint: "kefu 启动时在日志中打印了一次性设置码。请输入它，以证明这台服务器属于您。",
    password_heading: "密码",
    current_password: "当前密码",
    new_password: "新密码",
    change_password: "修改密码",
    password_changed: "密码已修改。您在其他地方的登录已退出。",
    set_password: "新密码",
    password_set: |name| format!("已为 {name} 设置新密码，其所有登录已退出。"),
    status: "状态",
    online: "在线",
    away: "离开",
    offline: "离线",
};
