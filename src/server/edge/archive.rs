//! Closed conversations and search (server functions): agents see the
//! conversations they have served, admins all. A query is taken
//! literally, whatever quotes or operators it holds.

use crate::error::{AppError, Invalid};
use crate::protocol::archive::{ClosedPage, SearchHit, CLOSED_PAGE, MAX_SEARCH_CHARS, SEARCH_HITS};
use crate::protocol::{AgentInfo, ConversationId};
use crate::server::state;
use crate::server::storage::Reader;

/// Most words of a query that count (the rest are left out).
const MAX_TERMS: usize = 8;
/// Conversations found by the visitor's name or email, at most.
const VISITOR_HITS: i64 = 10;
/// Characters of context kept before a match, and after it.
const BEFORE_CHARS: usize = 40;
const AFTER_CHARS: usize = 80;

/// Whose conversations `agent` may see.
pub fn reader(agent: &AgentInfo) -> Reader {
    if agent.is_admin {
        Reader::All
    } else {
        Reader::Served(agent.id)
    }
}

/// Whether `agent` may read `conversation` (serves it now, served it
/// once, or is an admin).
pub async fn may_read(agent: &AgentInfo, conversation: ConversationId) -> Result<bool, AppError> {
    let state = state();
    Ok(agent.is_admin
        || state.hub.serves(agent.id, conversation)
        || state.storage.has_served(agent.id, conversation).await?)
}

/// See [`crate::api::closed_conversations`].
pub async fn closed_conversations(
    agent: &AgentInfo,
    before_closed_at: Option<i64>,
    before_id: Option<i64>,
) -> Result<ClosedPage, AppError> {
    let before = before_closed_at.zip(before_id.map(ConversationId));
    let mut conversations = state()
        .storage
        .closed_conversations(reader(agent), before, CLOSED_PAGE + 1)
        .await?;
    let more = conversations.len() > CLOSED_PAGE as usize;
    conversations.truncate(CLOSED_PAGE as usize);
    Ok(ClosedPage {
        conversations,
        more,
    })
}

/// The words of a query (split on white space, each taken literally), or
/// `search_too_long`.
pub fn terms(query: &str) -> Result<Vec<String>, AppError> {
    if query.chars().count() > MAX_SEARCH_CHARS {
        return Err(AppError::Invalid(Invalid::SearchTooLong));
    }
    let mut terms: Vec<String> = Vec::new();
    // Control characters (a NUL among them) separate words like spaces.
    let words = query
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty());
    for word in words {
        if !terms.iter().any(|t| t == word) && terms.len() < MAX_TERMS {
            terms.push(word.to_owned());
        }
    }
    Ok(terms)
}

/// See [`crate::api::search_conversations`]: conversations whose visitor's
/// name or email holds the query, then messages holding all its words,
/// newest first.
pub async fn search(agent: &AgentInfo, query: &str) -> Result<Vec<SearchHit>, AppError> {
    let terms = terms(query)?;
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let storage = state().storage;
    let reader = reader(agent);
    let whole = query.trim();
    let mut hits: Vec<SearchHit> = storage
        .search_visitors(reader, whole, VISITOR_HITS)
        .await?
        .into_iter()
        .map(|found| {
            let label = &found.visitor;
            let field = [&label.name, &label.email]
                .into_iter()
                .flatten()
                .find(|f| find_ci(f, whole).is_some())
                .cloned()
                .unwrap_or_default();
            let (before, matched, after) = excerpt(&field, &[whole.to_owned()]);
            SearchHit {
                conversation: found.conversation,
                status: found.status,
                visitor: found.visitor,
                seq: None,
                author: None,
                sent_at: 0,
                before,
                matched,
                after,
            }
        })
        .collect();
    let messages = storage.search_messages(reader, &terms, SEARCH_HITS).await?;
    hits.extend(messages.into_iter().map(|m| {
        let (before, matched, after) = excerpt(&m.text, &terms);
        SearchHit {
            conversation: m.conversation,
            status: m.status,
            visitor: m.visitor,
            seq: Some(m.seq),
            author: Some(m.author),
            sent_at: m.sent_at,
            before,
            matched,
            after,
        }
    }));
    Ok(hits)
}

/// Where `needle` first occurs in `hay`, ignoring case, as byte offsets
/// into `hay`.
fn find_ci(hay: &str, needle: &str) -> Option<(usize, usize)> {
    let needle: Vec<char> = needle.chars().flat_map(char::to_lowercase).collect();
    if needle.is_empty() {
        return None;
    }
    let chars: Vec<(usize, char)> = hay.char_indices().collect();
    'start: for i in 0..chars.len() {
        let mut k = 0;
        let mut j = i;
        while k < needle.len() {
            let Some(&(_, c)) = chars.get(j) else {
                continue 'start;
            };
            for lower in c.to_lowercase() {
                if needle.get(k) != Some(&lower) {
                    continue 'start;
                }
                k += 1;
            }
            j += 1;
        }
        let end = chars.get(j).map_or(hay.len(), |&(b, _)| b);
        return Some((chars[i].0, end));
    }
    None
}

/// The words around the earliest match of any of `terms` in `text`:
/// (before, match, after), shortened with "…". No match: the start of the
/// text as "before".
pub fn excerpt(text: &str, terms: &[String]) -> (String, String, String) {
    let found = terms
        .iter()
        .filter_map(|t| find_ci(text, t))
        .min_by_key(|&(start, _)| start);
    let Some((start, end)) = found else {
        return (shorten_end(text, AFTER_CHARS), String::new(), String::new());
    };
    let before = &text[..start];
    let count = before.chars().count();
    let before = if count > BEFORE_CHARS {
        let skip: String = before.chars().skip(count - BEFORE_CHARS).collect();
        format!("…{skip}")
    } else {
        before.to_owned()
    };
    (
        before,
        text[start..end].to_owned(),
        shorten_end(&text[end..], AFTER_CHARS),
    )
}

fn shorten_end(text: &str, max: usize) -> String {
    if text.chars().count() > max {
        let kept: String = text.chars().take(max).collect();
        format!("{kept}…")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_excerpt_keeps_the_words_around_the_match_as_written() {
        let t = |s: &str| vec![s.to_owned()];
        assert_eq!(
            excerpt("Where is my REFUND please", &t("refund")),
            ("Where is my ".into(), "REFUND".into(), " please".into())
        );
        assert_eq!(
            excerpt("我想申请退款，谢谢", &t("退款")),
            ("我想申请".into(), "退款".into(), "，谢谢".into())
        );
        let long = format!("{}needle{}", "a".repeat(100), "b".repeat(100));
        let (before, matched, after) = excerpt(&long, &t("NEEDLE"));
        assert_eq!(before, format!("…{}", "a".repeat(40)));
        assert_eq!(matched, "needle");
        assert_eq!(after, format!("{}…", "b".repeat(80)));
        assert_eq!(excerpt("no match", &t("zzz")).1, "");
    }

    #[test]
    fn queries_are_words_taken_literally() {
        assert_eq!(
            terms(" \"refund\"  OR  NEAR( x* \"refund\" ").expect("terms"),
            ["\"refund\"", "OR", "NEAR(", "x*"]
        );
        assert!(terms("   ").expect("terms").is_empty());
        assert_eq!(
            terms(&"x".repeat(201)),
            Err(AppError::Invalid(Invalid::SearchTooLong))
        );
    }
}
