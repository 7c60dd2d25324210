//! Every word the agent console shows: one typed table per language
//! (`en.rs`, `zh_cn.rs`), so a missing translation does not compile.

pub mod accounts;
pub mod desk;
mod en;
pub mod hours;
pub mod privacy;
pub mod reports;
pub mod settings;
pub mod transfer;
pub mod visits;
pub mod webhooks;
mod zh_cn;

use crate::chat::ChatStrings;
use crate::error::AppError;
use crate::i18n::Lang;

pub use en::EN;
pub use zh_cn::ZH_CN;

/// The console's texts.
#[derive(Debug, Clone, Copy)]
pub struct ConsoleStrings {
    /// Shared chat pieces.
    pub chat: ChatStrings,
    /// The settings panel.
    pub settings: settings::SettingsStrings,
    /// The business-hours panel.
    pub hours: hours::HoursStrings,
    /// Own account (password, status) and password resets.
    pub accounts: accounts::AccountStrings,
    /// Notifications and the visitor panel.
    pub visits: visits::VisitStrings,
    /// Canned replies, closed conversations and search.
    pub desk: desk::DeskStrings,
    /// Transfers and private notes.
    pub transfer: transfer::TransferStrings,
    /// Deleting a visitor, and their id.
    pub privacy: privacy::PrivacyStrings,
    /// The webhooks panel.
    pub webhooks: webhooks::WebhookStrings,
    /// Reports and ratings.
    pub reports: reports::ReportStrings,
    /// Page title without unread count.
    pub title: &'static str,
    /// Setup form heading.
    pub setup_title: &'static str,
    /// Setup form explanation.
    pub setup_hint: &'static str,
    /// Setup form button.
    pub create_admin: &'static str,
    /// Sign-in heading.
    pub sign_in_title: &'static str,
    /// Name field.
    pub name: &'static str,
    /// Password field.
    pub password: &'static str,
    /// Capacity field.
    pub capacity: &'static str,
    /// Admin checkbox.
    pub admin: &'static str,
    /// Sign-in button.
    pub sign_in: &'static str,
    /// Sign-out button.
    pub sign_out: &'static str,
    /// While the page loads.
    pub loading: &'static str,
    /// Banner while the connection is down.
    pub reconnecting: &'static str,
    /// No conversation yet.
    pub no_conversations: &'static str,
    /// Pick a tab.
    pub pick_conversation: &'static str,
    /// Close-conversation button.
    pub close: &'static str,
    /// Visitor online marker.
    pub visitor_online: &'static str,
    /// Visitor offline marker.
    pub visitor_offline: &'static str,
    /// Agents panel toggle and heading.
    pub agents: &'static str,
    /// Add-agent button.
    pub add_agent: &'static str,
    /// Disabled checkbox of an agent.
    pub disabled: &'static str,
    /// Save button of an agent row.
    pub save: &'static str,
    /// Remove button of an agent row.
    pub remove: &'static str,
    /// After an agent was added: "{name} was added".
    pub agent_added: fn(&str) -> String,
    /// A conversation's capacity summary: "{n} of {cap} conversations".
    pub load: fn(usize, u32) -> String,
    /// A visitor's label: "Visitor {n}".
    pub visitor: fn(i64) -> String,
    /// A tab's preview of the agent's own last reply: "You: {text}".
    pub you_said: fn(&str) -> String,
    /// The language picker's label.
    pub language: &'static str,
    /// After too many failed sign-ins: "try again in {secs} seconds".
    pub too_many_attempts: fn(u64) -> String,
    /// Tag of a visitor whose name and email the website signed.
    pub verified: &'static str,
    /// Tooltip of [`ConsoleStrings::verified`].
    pub verified_hint: &'static str,
    /// Tag of a visitor's own, unchecked name or email.
    pub unverified: &'static str,
    /// Tooltip of [`ConsoleStrings::unverified`].
    pub unverified_hint: &'static str,
    /// Identity panel heading.
    pub identity_title: &'static str,
    /// What the identity secret is for, and how to keep it.
    pub identity_hint: &'static str,
    /// Rotate button of the identity secret.
    pub rotate_secret: &'static str,
    /// After a rotation.
    pub secret_rotated: &'static str,
}

impl ConsoleStrings {
    /// The table for `lang`: a reference, so that the closures of every
    /// component that capture it stay small (the server renders pages on
    /// worker threads with 2 MiB stacks; tests/pages.rs).
    pub fn of(lang: Lang) -> &'static ConsoleStrings {
        match lang {
            Lang::En => &EN,
            Lang::ZhCn => &ZH_CN,
        }
    }

    /// The label of the visitor in `summary`, in this language: the name
    /// they are known by (signed or told), else "Visitor {n}".
    pub fn visitor_label(&self, summary: &crate::protocol::ConversationSummary) -> String {
        if let Some(name) = &summary.visitor_name {
            return name.clone();
        }
        match summary.visitor_number {
            0 => summary.visitor_label.clone(),
            n => (self.visitor)(n),
        }
    }

    /// The tag and its tooltip saying whether the visitor's name and email
    /// are signed by the website or told by the visitor (none if neither
    /// is known).
    pub fn visitor_tag(
        &self,
        summary: &crate::protocol::ConversationSummary,
    ) -> Option<(&'static str, &'static str)> {
        if summary.verified {
            Some((self.verified, self.verified_hint))
        } else if summary.visitor_name.is_some() || summary.visitor_email.is_some() {
            Some((self.unverified, self.unverified_hint))
        } else {
            None
        }
    }

    /// Words for a server function's error.
    pub fn error_text(&self, error: &AppError) -> String {
        match error {
            AppError::TooManyAttempts { retry_after_secs } => {
                (self.too_many_attempts)(*retry_after_secs)
            }
            other => (self.chat.error)(other.code()).to_owned(),
        }
    }
}
