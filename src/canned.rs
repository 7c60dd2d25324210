//! Canned replies' rules: what a shortcut and a text may be (checked by the
//! server, which is the one that counts), how the console fills the
//! placeholders, and which replies match what the agent typed after `/`.

use crate::protocol::canned::CannedReply;
use crate::protocol::ErrorCode;

/// Longest shortcut, in characters.
pub const MAX_SHORTCUT_CHARS: usize = 32;
/// Longest text, in characters.
pub const MAX_CANNED_CHARS: usize = 2000;
/// Most replies one owner (an agent, or the shared list) keeps.
pub const MAX_CANNED_PER_OWNER: i64 = 200;

/// The placeholder filled with the visitor's name.
pub const VISITOR_NAME: &str = "{visitor_name}";
/// The placeholder filled with the agent's name.
pub const AGENT_NAME: &str = "{agent_name}";

/// The shortcut as stored (trimmed, a leading `/` dropped, lower case), or
/// `canned_shortcut`: blank, too long, or anything but letters, digits,
/// `-` and `_`.
pub fn clean_shortcut(shortcut: &str) -> Result<String, ErrorCode> {
    let shortcut = shortcut.trim();
    let shortcut = shortcut
        .strip_prefix('/')
        .unwrap_or(shortcut)
        .to_lowercase();
    let count = shortcut.chars().count();
    if count == 0
        || count > MAX_SHORTCUT_CHARS
        || !shortcut
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ErrorCode::CannedShortcut);
    }
    Ok(shortcut)
}

/// The text as stored (line breaks as `\n`, trimmed), or `canned_text`:
/// blank, too long, or with control or invisible characters other than
/// line breaks and tabs. Plain text: it is sent as the agent's message,
/// which every UI draws as text.
pub fn clean_text(text: &str) -> Result<String, ErrorCode> {
    let text = text.replace("\r\n", "\n");
    let text = text.trim();
    let count = text.chars().count();
    if count == 0
        || count > MAX_CANNED_CHARS
        || text
            .chars()
            .any(|c| (c.is_control() && c != '\n' && c != '\t') || crate::accounts::is_invisible(c))
    {
        return Err(ErrorCode::CannedText);
    }
    Ok(text.to_owned())
}

/// `text` with its placeholders filled.
pub fn fill(text: &str, visitor_name: &str, agent_name: &str) -> String {
    text.replace(VISITOR_NAME, visitor_name)
        .replace(AGENT_NAME, agent_name)
}

/// The `/word` being typed at the end of `text` (after a space or at its
/// start), without its `/`: what the canned-reply list is filtered by.
pub fn typed_shortcut(text: &str) -> Option<&str> {
    let start = text
        .rfind(|c: char| c.is_whitespace())
        .map(|i| i + text[i..].chars().next().map_or(1, char::len_utf8))
        .unwrap_or(0);
    let word = text[start..].strip_prefix('/')?;
    word.chars()
        .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
        .then_some(word)
}

/// The replies whose shortcut holds `typed` (case-insensitive), those
/// that start with it first, then by shortcut; the agent's own before
/// shared ones of the same shortcut.
pub fn matching<'a>(replies: &'a [CannedReply], typed: &str) -> Vec<&'a CannedReply> {
    let typed = typed.to_lowercase();
    let mut found: Vec<&CannedReply> = replies
        .iter()
        .filter(|r| r.shortcut.contains(&typed))
        .collect();
    found.sort_by_key(|r| {
        (
            !r.shortcut.starts_with(&typed),
            r.shortcut.clone(),
            r.shared,
        )
    });
    found
}

/// `text` with the `/word` being typed at its end replaced by `reply`.
pub fn replace_typed(text: &str, reply: &str) -> String {
    match typed_shortcut(text) {
        Some(word) => format!("{}{reply}", &text[..text.len() - word.len() - 1]),
        None => format!("{text}{reply}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(shortcut: &str, shared: bool) -> CannedReply {
        CannedReply {
            id: 0,
            shortcut: shortcut.into(),
            text: String::new(),
            shared,
        }
    }

    #[test]
    fn shortcuts_are_words_in_lower_case() {
        assert_eq!(clean_shortcut(" /Refund ").as_deref(), Ok("refund"));
        assert_eq!(clean_shortcut("退款").as_deref(), Ok("退款"));
        assert_eq!(clean_shortcut("a-b_c1").as_deref(), Ok("a-b_c1"));
        for bad in ["", "/", "two words", "a/b", "<b>", &"x".repeat(33)] {
            assert_eq!(
                clean_shortcut(bad),
                Err(ErrorCode::CannedShortcut),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn texts_are_plain_and_bounded() {
        assert_eq!(
            clean_text(" Hi\r\nthere\t! ").as_deref(),
            Ok("Hi\nthere\t!")
        );
        for bad in ["", "  ", "a\u{0}b", "a\u{200b}b", &"x".repeat(2001)] {
            assert_eq!(clean_text(bad), Err(ErrorCode::CannedText), "{bad:?}");
        }
        assert!(clean_text(&"好".repeat(2000)).is_ok());
    }

    #[test]
    fn the_typed_word_is_found_filtered_and_replaced() {
        assert_eq!(typed_shortcut("/ref"), Some("ref"));
        assert_eq!(typed_shortcut("hello /re"), Some("re"));
        assert_eq!(typed_shortcut("hello　/退"), Some("退"));
        assert_eq!(typed_shortcut("/"), Some(""));
        assert_eq!(typed_shortcut("a/ref"), None);
        assert_eq!(typed_shortcut("/ref done"), None);
        let all = [
            reply("thanks", false),
            reply("refund", true),
            reply("prefer", false),
        ];
        let names = |v: Vec<&CannedReply>| v.iter().map(|r| r.shortcut.clone()).collect::<Vec<_>>();
        assert_eq!(names(matching(&all, "RE")), ["refund", "prefer"]);
        assert_eq!(names(matching(&all, "")), ["prefer", "refund", "thanks"]);
        assert_eq!(replace_typed("ok /re", "Refund"), "ok Refund");
        assert_eq!(
            fill("Hi {visitor_name}, {agent_name} here", "Ann", "Bo"),
            "Hi Ann, Bo here"
        );
    }
}
