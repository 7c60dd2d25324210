//! Why the server refused something ([`ErrorCode`]): the codes on error
//! frames and server-function errors, each translated by both UIs.

use serde::{Deserialize, Serialize};

/// Why the server refused something: on every error frame and every
/// server-function error. Each UI's strings table has words for each code;
/// no English from the server reaches a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not JSON, or not a known message.
    BadFrame,
    /// Over [`super::MAX_FRAME_BYTES`].
    FrameTooLarge,
    /// The first frame must be `hello`.
    HelloFirst,
    /// Message text is blank.
    EmptyText,
    /// Message text is over [`super::MAX_TEXT_CHARS`].
    TextTooLong,
    /// The message id is empty or over [`super::MAX_MESSAGE_ID_LEN`].
    BadMessageId,
    /// Not yours to read or write.
    Forbidden,
    /// The conversation is closed.
    ConversationClosed,
    /// This action is not available to this side of the chat.
    WrongRole,
    /// The message could not be stored; it was not delivered. Retry it.
    Storage,
    /// Over a rate limit (messages, or new conversations): nothing was done. Retry later.
    SlowDown,
    /// The signed identity in `hello` is malformed, its signature does not
    /// match, a field is too long, or it expires more than 30 days ahead:
    /// the visitor carries on anonymous.
    IdentityInvalid,
    /// The signed identity in `hello` has expired: the visitor carries on anonymous.
    IdentityExpired,
    /// The signed identity in `hello` was signed with a secret an admin has
    /// since rotated out: the visitor carries on anonymous.
    IdentityRetired,
    /// A `profile` name is over [`crate::profile::MAX_PROFILE_NAME_CHARS`].
    ProfileNameTooLong,
    /// A `profile` name has control or invisible characters.
    ProfileNameControl,
    /// A `profile` email is not shaped like one, or is too long.
    ProfileEmailInvalid,
    /// A `page_view` is refused: its URL is not `http(s)` or is over
    /// [`super::MAX_PAGE_URL_BYTES`], or its title, referrer or time zone is too long.
    PageViewInvalid,
    /// A transfer's receiver has no account (or not any more).
    AgentUnknown,
    /// A transfer's receiver is disabled.
    AgentDisabled,
    /// A transfer's receiver has no console open.
    AgentOffline,
    /// A transfer's receiver chose away: they take no new conversations.
    AgentAway,
    /// A transfer's receiver serves as many conversations as their capacity.
    AgentAtCapacity,
    // ---- server functions (see `crate::error::AppError`) ----
    /// Not signed in, or the session ended.
    Unauthorized,
    /// No such thing, or not yours.
    NotFound,
    /// Name and password do not match an enabled account.
    WrongCredentials,
    /// The first admin exists already.
    AlreadySetUp,
    /// Too many failed sign-ins: wait (`retry_after_secs` says how long).
    TooManyAttempts,
    /// A name is blank.
    NameEmpty,
    /// A name is over [`crate::accounts::MAX_NAME_CHARS`].
    NameTooLong,
    /// A name has control or invisible characters.
    NameControl,
    /// A password is too short (or absurdly long).
    PasswordLength,
    /// A capacity is out of range.
    Capacity,
    /// Another agent has that name.
    NameTaken,
    /// Admins cannot disable or remove themselves.
    SelfLockout,
    /// A form could not be read.
    BadForm,
    /// A colour is not `#rrggbb` (settings).
    BadColor,
    /// A site is not `scheme://host[:port]`, or there are too many (settings).
    BadOrigin,
    /// A title, greeting or offline text is over its length limit (settings).
    SettingTooLong,
    /// A business-hours window is empty, backwards or outside the day, or
    /// a day is missing (settings).
    BadHours,
    /// The business hours' time zone is not an IANA name the server knows,
    /// such as `Asia/Shanghai` (settings).
    BadTimeZone,
    /// This site may not embed the chat: an admin adds it to the allowed
    /// sites in the console.
    OriginNotAllowed,
    /// The current password given to change one's own password is wrong.
    WrongPassword,
    /// The first-start setup code is missing or wrong (it is printed in
    /// kefu's log at start while no account exists).
    WrongSetupCode,
    /// A canned reply's shortcut is blank, over
    /// [`crate::canned::MAX_SHORTCUT_CHARS`], or has something other than
    /// letters, digits, `-` and `_`.
    CannedShortcut,
    /// A canned reply's text is blank, over [`crate::canned::MAX_CANNED_CHARS`],
    /// or has control characters other than line breaks and tabs.
    CannedText,
    /// The owner (the agent, or the shared replies) has a reply with that shortcut.
    ShortcutTaken,
    /// The owner has [`crate::canned::MAX_CANNED_PER_OWNER`] replies already.
    TooManyCanned,
    /// A search query is over [`crate::protocol::archive::MAX_SEARCH_CHARS`].
    SearchTooLong,
    /// A visitor cannot be deleted now: they are connected or have an open
    /// conversation (close it, and try again once they left).
    VisitorActive,
    /// A webhook URL is not `http(s)://host…`, has a user or password in
    /// it, or is over [`crate::protocol::webhooks::MAX_WEBHOOK_URL_BYTES`].
    WebhookUrl,
    /// A webhook URL points at kefu's own listener.
    WebhookSelf,
    /// A webhook URL's host is (or resolves to) a loopback, private or
    /// link-local address, and kefu runs with `--webhooks-deny-private`.
    WebhookPrivate,
    /// A webhook must get at least one event.
    WebhookEvents,
    /// There are [`crate::protocol::webhooks::MAX_WEBHOOKS`] webhooks already.
    TooManyWebhooks,
    /// A rating's score is not 1 to 5.
    RatingScore,
    /// A rating's comment is over [`crate::protocol::rating::MAX_RATING_COMMENT_CHARS`].
    RatingCommentTooLong,
    /// The conversation was rated already (once per conversation).
    AlreadyRated,
    /// The conversation is still open: it is rated once closed.
    ConversationOpen,
    /// A report's dates are not `YYYY-MM-DD`, the first is after the
    /// last, or the range is over [`crate::protocol::report::MAX_REPORT_DAYS`] days.
    ReportRange,
    /// The server failed; details are in its log.
    Internal,
    /// The request did not reach the server, or its answer could not be
    /// read (set by the browser, never sent by the server).
    Unreachable,
    /// A code this build does not know.
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// The code as it is on the wire, e.g. `"text_too_long"`.
    pub fn name(self) -> String {
        serde_json::to_string(&self)
            .ok()
            .and_then(|json| Some(json.strip_prefix('"')?.strip_suffix('"')?.to_owned()))
            .unwrap_or_else(|| String::from("unknown"))
    }
}
