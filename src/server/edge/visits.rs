//! Who an agent is talking to: a visitor's browser read from their socket's
//! upgrade request, their `page_view` frames checked, and the server
//! functions behind the console's visitor panel and notification switch.

use axum::http::{header, HeaderMap};

use crate::error::AppError;
use crate::protocol::{
    AgentInfo, ConversationId, ErrorCode, HistoryPage, PageSeen, VisitorContext,
    MAX_PAGE_TITLE_CHARS, MAX_PAGE_URL_BYTES, MAX_TIME_ZONE_CHARS,
};
use crate::server::state;
use crate::server::storage::{now_ms, ClientFacts, ConversationRow, PageViewRow};

/// Longest User-Agent read; longer ones are cut (woothee needs the start).
const MAX_USER_AGENT_BYTES: usize = 512;
/// Earlier conversations listed in the visitor panel.
const EARLIER_LISTED: i64 = 20;
/// Messages shown of an earlier conversation (read-only, newest last).
const EARLIER_MESSAGES: i64 = 500;

/// What the visitor's browser says of itself in the upgrade request: its
/// name and OS from `User-Agent` (woothee's rules), its language from
/// `Accept-Language`. Nothing from the browser is trusted beyond display.
pub fn client_facts(headers: &HeaderMap) -> ClientFacts {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    fn known(s: &str) -> Option<&str> {
        (!s.is_empty() && s != woothee::woothee::VALUE_UNKNOWN).then_some(s)
    }
    let (browser, os) = match text(header::USER_AGENT) {
        Some(ua) => {
            let ua = cut(ua, MAX_USER_AGENT_BYTES);
            match woothee::parser::Parser::new().parse(ua) {
                Some(r) => (
                    known(r.name).map(|name| match known(r.version) {
                        Some(v) => format!("{name} {v}"),
                        None => name.to_owned(),
                    }),
                    // "Windows 10" names its version already (woothee's
                    // os_version is then the NT kernel's: "NT 10.0").
                    known(r.os).map(|os| match known(&r.os_version) {
                        Some(v) if !os.bytes().any(|b| b.is_ascii_digit()) => {
                            format!("{os} {v}")
                        }
                        _ => os.to_owned(),
                    }),
                ),
                None => (None, None),
            }
        }
        None => (None, None),
    };
    let language = text(header::ACCEPT_LANGUAGE)
        .and_then(|l| l.split([',', ';']).next())
        .map(str::trim)
        .filter(|t| {
            !t.is_empty()
                && t.len() <= 35
                && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        .map(str::to_owned);
    ClientFacts {
        browser,
        os,
        language,
    }
}

/// `s` cut to at most `max` bytes, on a character boundary.
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Checks a `page_view`: an `http(s)` URL within [`MAX_PAGE_URL_BYTES`]
/// without control characters, a title within [`MAX_PAGE_TITLE_CHARS`], a
/// referrer as the URL (an empty one is none), a time zone name within
/// [`MAX_TIME_ZONE_CHARS`] of `A-Za-z0-9/_+-`, an offset within ±18 h.
pub fn check_page_view(
    url: String,
    title: String,
    referrer: Option<String>,
    time_zone: Option<String>,
    utc_offset: Option<i32>,
) -> Result<PageViewRow, ErrorCode> {
    let web_url = |u: &str| {
        u.len() <= MAX_PAGE_URL_BYTES
            && (u.starts_with("https://") || u.starts_with("http://"))
            && !u.chars().any(char::is_control)
    };
    let referrer = referrer.filter(|r| !r.is_empty());
    let time_zone = time_zone.filter(|t| !t.is_empty());
    let fine = web_url(&url)
        && title.chars().count() <= MAX_PAGE_TITLE_CHARS
        && referrer.as_deref().is_none_or(web_url)
        && time_zone.as_deref().is_none_or(|t| {
            t.len() <= MAX_TIME_ZONE_CHARS
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b))
        })
        && utc_offset.is_none_or(|m| m.abs() <= 18 * 60);
    if !fine {
        return Err(ErrorCode::PageViewInvalid);
    }
    let title: String = title.chars().filter(|c| !c.is_control()).collect();
    Ok(PageViewRow {
        page: PageSeen {
            url,
            title: title.trim().to_owned(),
            at: now_ms(),
        },
        referrer,
        time_zone,
        utc_offset,
    })
}

/// The conversation, if `agent` may look at it: they serve it, or are an admin.
async fn visible(agent: &AgentInfo, id: ConversationId) -> Result<ConversationRow, AppError> {
    let state = state();
    if !agent.is_admin && !state.hub.serves(agent.id, id) {
        return Err(AppError::NotFound);
    }
    state
        .storage
        .conversation(id)
        .await?
        .ok_or(AppError::NotFound)
}

/// See [`crate::api::visitor_context`].
pub async fn visitor_context(
    agent: &AgentInfo,
    conversation: ConversationId,
) -> Result<VisitorContext, AppError> {
    let row = visible(agent, conversation).await?;
    let storage = state().storage;
    let visitor = row.visitor_id;
    let facts = storage
        .visitor_facts(visitor)
        .await?
        .ok_or(AppError::NotFound)?;
    let earlier = storage
        .visitor_conversations(visitor, EARLIER_LISTED + 1)
        .await?
        .into_iter()
        .filter(|c| c.id != conversation)
        .take(EARLIER_LISTED as usize)
        .collect();
    let page = facts.page;
    Ok(VisitorContext {
        visitor_number: visitor.0,
        name: row.visitor.name,
        email: row.visitor.email,
        verified: row.visitor.verified,
        referrer: page.as_ref().and_then(|p| p.referrer.clone()),
        time_zone: page.as_ref().and_then(|p| p.time_zone.clone()),
        utc_offset: page.as_ref().and_then(|p| p.utc_offset),
        page: page.map(|p| p.page),
        browser: facts.client.browser,
        os: facts.client.os,
        language: facts.client.language,
        first_seen: facts.first_seen,
        earlier,
    })
}

/// See [`crate::api::earlier_conversation`].
pub async fn earlier_conversation(
    agent: &AgentInfo,
    conversation: ConversationId,
    earlier: ConversationId,
) -> Result<HistoryPage, AppError> {
    let row = visible(agent, conversation).await?;
    let storage = state().storage;
    let past = storage
        .conversation(earlier)
        .await?
        .filter(|p| p.visitor_id == row.visitor_id)
        .ok_or(AppError::NotFound)?;
    let messages = storage
        .messages_after(past.id, 0, EARLIER_MESSAGES + 1)
        .await?;
    let more = messages.len() > EARLIER_MESSAGES as usize;
    let messages = messages
        .into_iter()
        .take(EARLIER_MESSAGES as usize)
        .collect();
    // The panel's read-only view shows what the visitor and agents said;
    // private notes stay in the conversation's own history.
    Ok(HistoryPage {
        messages,
        more,
        notes: Vec::new(),
        rating: None,
    })
}

/// See [`crate::api::set_notify`].
pub async fn set_notify(agent: &AgentInfo, on: bool) -> Result<(), AppError> {
    state().storage.set_agent_notify(agent.id, on).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_browser_and_its_system_are_read_from_the_user_agent() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::USER_AGENT,
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
                .parse()
                .expect("header"),
        );
        headers.insert(
            header::ACCEPT_LANGUAGE,
            "zh-CN,zh;q=0.9,en;q=0.8".parse().expect("header"),
        );
        let facts = client_facts(&headers);
        assert_eq!(facts.browser.as_deref(), Some("Chrome 120.0.0.0"));
        assert_eq!(facts.os.as_deref(), Some("Windows 10"));
        assert_eq!(facts.language.as_deref(), Some("zh-CN"));
        assert_eq!(client_facts(&HeaderMap::new()), ClientFacts::default());
    }

    #[test]
    fn page_views_are_limited_in_size_and_kind() {
        let ok = |url: &str, title: &str| {
            check_page_view(url.into(), title.into(), None, None, None).is_ok()
        };
        assert!(ok("https://shop.example/cart?x=1", "Cart"));
        assert!(!ok("javascript:alert(1)", ""));
        assert!(!ok("https://a.example/\n", ""));
        let long = format!("https://a.example/{}", "x".repeat(MAX_PAGE_URL_BYTES));
        assert!(!ok(&long, ""));
        assert!(!ok(
            "https://a.example/",
            &"t".repeat(MAX_PAGE_TITLE_CHARS + 1)
        ));
        let zone = |tz: &str| {
            check_page_view(
                "https://a.example/".into(),
                String::new(),
                None,
                Some(tz.into()),
                None,
            )
            .is_ok()
        };
        assert!(zone("Asia/Shanghai") && zone("Etc/GMT+8"));
        assert!(!zone("<script>"));
    }
}
