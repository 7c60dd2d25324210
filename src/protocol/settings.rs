//! What admins set in the console for the widget (look, words, pre-chat
//! form) and which sites may embed it, with the rules every value must
//! follow. Shared: the server checks before storing, the console shows the
//! same codes in the form.

use serde::{Deserialize, Serialize};

use super::hours::BusinessHours;
use super::ErrorCode;

/// Longest widget title, in characters.
pub const MAX_TITLE_CHARS: usize = 60;
/// Longest greeting or offline text, in characters.
pub const MAX_WORDS_CHARS: usize = 500;
/// Most allowed sites.
pub const MAX_ORIGINS: usize = 50;
/// The brand colour until an admin picks one.
pub const DEFAULT_COLOR: &str = "#2563eb";

/// Which side of the page the launcher sits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    /// Bottom right (the default).
    #[default]
    Right,
    /// Bottom left.
    Left,
}

/// Whether a pre-chat form field is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldRule {
    /// Not asked.
    #[default]
    Off,
    /// Asked; may be left empty.
    Optional,
    /// Asked; the chat starts only once it is filled.
    Required,
}

impl FieldRule {
    /// Reads a form value (`off`, `optional`, `required`).
    pub fn parse(value: &str) -> Option<FieldRule> {
        match value {
            "off" => Some(FieldRule::Off),
            "optional" => Some(FieldRule::Optional),
            "required" => Some(FieldRule::Required),
            _ => None,
        }
    }

    /// The form value.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldRule::Off => "off",
            FieldRule::Optional => "optional",
            FieldRule::Required => "required",
        }
    }

    /// Whether the form shows the field.
    pub fn asked(self) -> bool {
        self != FieldRule::Off
    }
}

/// What the visitor's widget looks like and says. Empty texts mean "the
/// widget's own words, in the visitor's language".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WidgetSettings {
    /// Brand colour, `#rrggbb`.
    pub color: String,
    /// Panel title.
    pub title: String,
    /// Shown before the first message; the visitor's to see, never stored
    /// as a message.
    pub greeting: String,
    /// Launcher side.
    pub position: Position,
    /// Shown when no agent is online, above the leave-a-message form.
    pub offline_text: String,
    /// Pre-chat form: the visitor's name.
    pub prechat_name: FieldRule,
    /// Pre-chat form: the visitor's email.
    pub prechat_email: FieldRule,
}

impl Default for WidgetSettings {
    fn default() -> Self {
        Self {
            color: DEFAULT_COLOR.to_owned(),
            title: String::new(),
            greeting: String::new(),
            position: Position::Right,
            offline_text: String::new(),
            prechat_name: FieldRule::Off,
            prechat_email: FieldRule::Off,
        }
    }
}

impl WidgetSettings {
    /// Whether the widget asks for anything before the chat starts.
    pub fn prechat(&self) -> bool {
        self.prechat_name.asked() || self.prechat_email.asked()
    }

    /// Checks every value (the first refusal found), trimming texts.
    pub fn checked(mut self) -> Result<Self, ErrorCode> {
        self.color = color(&self.color).ok_or(ErrorCode::BadColor)?;
        self.title = self.title.trim().to_owned();
        self.greeting = self.greeting.trim().to_owned();
        self.offline_text = self.offline_text.trim().to_owned();
        if self.title.chars().count() > MAX_TITLE_CHARS
            || self.greeting.chars().count() > MAX_WORDS_CHARS
            || self.offline_text.chars().count() > MAX_WORDS_CHARS
        {
            return Err(ErrorCode::SettingTooLong);
        }
        Ok(self)
    }
}

/// Everything admins set for the site: the widget, the sites that may
/// embed it (beside those the `--allow-origin` flag names), whether
/// agents see visitors' unsent drafts, and the team's hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SiteSettings {
    /// The widget's look and words.
    pub widget: WidgetSettings,
    /// Origins (`scheme://host[:port]`) that may embed the widget.
    pub allowed_origins: Vec<String>,
    /// Agents see a live preview of what the visitor is typing (on unless
    /// an admin turns it off; off, no draft text leaves the server, and
    /// agents still see "typing…").
    pub draft_preview: bool,
    /// When the team is in: outside these hours the widget offers the
    /// leave-a-message form and says when they are back.
    pub hours: BusinessHours,
}

impl Default for SiteSettings {
    fn default() -> Self {
        Self {
            widget: WidgetSettings::default(),
            allowed_origins: Vec::new(),
            draft_preview: true,
            hours: BusinessHours::default(),
        }
    }
}

impl SiteSettings {
    /// Checks every value; origins come back in their canonical form,
    /// without duplicates.
    pub fn checked(self) -> Result<Self, ErrorCode> {
        let mut allowed_origins: Vec<String> = Vec::new();
        for raw in &self.allowed_origins {
            let origin = origin(raw).ok_or(ErrorCode::BadOrigin)?;
            if !allowed_origins.contains(&origin) {
                allowed_origins.push(origin);
            }
        }
        if allowed_origins.len() > MAX_ORIGINS {
            return Err(ErrorCode::BadOrigin);
        }
        Ok(Self {
            widget: self.widget.checked()?,
            allowed_origins,
            draft_preview: self.draft_preview,
            hours: self.hours.checked()?,
        })
    }
}

/// A colour as `#rrggbb` (lower case), from `#rgb` or `#rrggbb`.
pub fn color(value: &str) -> Option<String> {
    let hex = value.trim().strip_prefix('#')?;
    if !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let full = match hex.len() {
        3 => hex.chars().flat_map(|c| [c, c]).collect(),
        6 => hex.to_owned(),
        _ => return None,
    };
    Some(format!("#{}", full.to_ascii_lowercase()))
}

/// An origin as browsers send it (`scheme://host[:port]`, lower case, no
/// path, no default port), from what an admin typed; `None` if it is not
/// one. Only `http` and `https` pages can embed the widget.
pub fn origin(value: &str) -> Option<String> {
    let value = value.trim().trim_end_matches('/');
    let (scheme, rest) = value.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (inside, after) = v6.split_once(']')?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?),
        };
        let ok = !inside.is_empty() && inside.chars().all(|c| c.is_ascii_hexdigit() || c == ':');
        (ok.then_some(rest.get(..inside.len() + 2)?)?, port)
    } else {
        match rest.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        }
    };
    let host_ok = host.starts_with('[')
        || host
            .split('.')
            .all(|label| !label.is_empty() && label.len() <= 63 && label_chars(label));
    if !host_ok || host.len() > 253 {
        return None;
    }
    let port = match port {
        Some(p) => {
            let n: u16 = p.parse().ok().filter(|n| *n != 0 && !p.starts_with('+'))?;
            (n != default_port).then(|| n.to_string())
        }
        None => None,
    };
    let host = host.to_ascii_lowercase();
    Some(match port {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    })
}

fn label_chars(label: &str) -> bool {
    label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_host_and_port_in_the_form_browsers_send() {
        for (typed, canonical) in [
            ("https://shop.example", "https://shop.example"),
            ("https://Shop.Example/", "https://shop.example"),
            ("HTTP://localhost:8080", "http://localhost:8080"),
            ("https://shop.example:443", "https://shop.example"),
            ("http://shop.example:80", "http://shop.example"),
            ("http://127.0.0.1:5173", "http://127.0.0.1:5173"),
            (
                "  https://xn--fiq228c.example  ",
                "https://xn--fiq228c.example",
            ),
            ("http://[::1]:3000", "http://[::1]:3000"),
        ] {
            assert_eq!(origin(typed).as_deref(), Some(canonical), "{typed}");
        }
        for bad in [
            "",
            "shop.example",
            "ftp://shop.example",
            "javascript://x",
            "https://",
            "https://shop.example/path",
            "https://shop.example:0",
            "https://shop.example:99999",
            "https://shop.example:+80",
            "https://sh op.example",
            "https://shop..example",
            "https://-shop.example",
            "https://shop.example?x=1",
            "https://user@shop.example",
            "https://*.example",
            "https://a:b:c",
        ] {
            assert_eq!(origin(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn drafts_are_previewed_unless_turned_off_also_for_settings_stored_before() {
        assert!(SiteSettings::default().draft_preview);
        let older: SiteSettings =
            serde_json::from_str(r##"{"widget":{"color":"#112233"},"allowed_origins":[]}"##)
                .expect("reads");
        assert!(older.draft_preview);
    }

    #[test]
    fn colours_are_hex() {
        assert_eq!(color("#1A73E8").as_deref(), Some("#1a73e8"));
        assert_eq!(color("#abc").as_deref(), Some("#aabbcc"));
        assert_eq!(color(" #1a73e8 ").as_deref(), Some("#1a73e8"));
        for bad in [
            "",
            "1a73e8",
            "#12345",
            "#ggg",
            "red",
            "#1a73e8;x",
            "#+12345",
        ] {
            assert_eq!(color(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_wrong_value_refuses_the_whole_save() {
        let good = SiteSettings {
            allowed_origins: vec!["https://a.example/".into(), "https://A.example".into()],
            ..SiteSettings::default()
        };
        assert_eq!(
            good.checked().map(|s| s.allowed_origins),
            Ok(vec!["https://a.example".to_owned()])
        );
        let mut bad_colour = SiteSettings::default();
        bad_colour.widget.color = "blue".into();
        assert_eq!(bad_colour.checked(), Err(ErrorCode::BadColor));
        let mut long = SiteSettings::default();
        long.widget.title = "题".repeat(MAX_TITLE_CHARS + 1);
        assert_eq!(long.checked(), Err(ErrorCode::SettingTooLong));
        let mut fits = SiteSettings::default();
        fits.widget.title = "题".repeat(MAX_TITLE_CHARS);
        assert!(fits.checked().is_ok());
        let bad_origin = SiteSettings {
            allowed_origins: vec!["https://a.example".into(), "a.example".into()],
            ..SiteSettings::default()
        };
        assert_eq!(bad_origin.checked(), Err(ErrorCode::BadOrigin));
    }
}
