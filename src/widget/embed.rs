//! The widget inside an iframe on a customer's site (`/widget?embed=1&origin=…`):
//! which host page it serves, and the messages it exchanges with
//! `embed.js` there. Both directions are checked: the widget only posts to
//! the host page's exact origin (never `'*'`), and only reads messages from
//! its parent window at that origin.
//!
//! Host page → widget: `init` (`open`, what the widget saved in the host
//! page's storage, the visitor's identity if the site gave one, and the
//! page's `url`, `title`, `referrer`), `open`, `close`, `page` (`url`,
//! `title`, `referrer`: a single-page site moved on). (A later `kefu('identify', …)` makes
//! `embed.js` load the widget afresh, so that the socket's `hello` says it.)
//! Widget → host page: `ready`, `size` (`width`, `height`: the panel's
//! size in CSS pixels, so that it is the widget's to choose, not the
//! cached script's), `unread` (`count`), `active` (`open`: the
//! visitor has an open conversation), `message` (an agent's new message:
//! `name`, `text`), `close` (the visitor minimized the panel), `save`
//! (`key`, `value`: keep this in the host page's storage).
//!
//! Why the host page keeps the widget's few saved values (the visitor's
//! token, whether the pre-chat form was filled in): browsers block or
//! discard a third-party iframe's storage (private windows, Safari,
//! Firefox), and a visitor must find their conversation again on the next
//! page of the site.
//! Every message is a JSON string with `"kefu": 1` and a `type`.

/// The page the widget is embedded in, from the iframe's query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Embed {
    /// The host page's origin (as `embed.js` read it from `location`).
    pub origin: String,
}

impl Embed {
    /// The embedding named in a query string (`embed=1&origin=…`), if any.
    pub fn from_query(query: &str) -> Option<Embed> {
        let mut embed = false;
        let mut origin = None;
        for (key, value) in form_pairs(query) {
            match key.as_str() {
                "embed" => embed = value == "1",
                "origin" => origin = Some(value),
                _ => {}
            }
        }
        Some(Embed {
            origin: origin.filter(|_| embed)?,
        })
    }

    /// The embedding of the page being rendered or hydrated.
    pub fn current() -> Option<Embed> {
        #[cfg(feature = "ssr")]
        {
            let parts = leptos::prelude::use_context::<axum::http::request::Parts>()?;
            Embed::from_query(parts.uri.query()?)
        }
        #[cfg(not(feature = "ssr"))]
        {
            #[cfg(feature = "hydrate")]
            {
                let search = leptos::web_sys::window()?.location().search().ok()?;
                Embed::from_query(search.strip_prefix('?').unwrap_or(&search))
            }
            #[cfg(not(feature = "hydrate"))]
            {
                None
            }
        }
    }
}

/// `key=value` pairs of a query string, percent-decoded.
pub fn form_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(k), decode(v))
    })
}

/// Percent-decoding (`+` as a space), lossy on invalid UTF-8.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) if hex.bytes().all(|c| c.is_ascii_hexdigit()) => {
                        out.push(b);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What the host page sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FromHost {
    /// The host is ready: whether the panel shows, and the identity.
    Init {
        /// The panel is shown.
        open: bool,
        /// What the widget saved in the host page's storage (key, value).
        saved: Vec<(String, String)>,
        /// The site's identify data, if any.
        identity: Option<Identity>,
        /// The host page.
        page: Option<HostPage>,
    },
    /// The host page moved on (a single-page site changed its address).
    Page(HostPage),
    /// The panel was shown.
    Open,
    /// The panel was hidden.
    Close,
}

/// What the site said about the visitor through `kefu('identify', …)`: a
/// signed token from its backend, and/or unsigned details that only label
/// the visitor for agents.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Identity {
    /// The signed token (see docs/EMBED.md).
    pub token: Option<String>,
    /// Unsigned name.
    pub name: Option<String>,
    /// Unsigned email.
    pub email: Option<String>,
}

/// The page the widget is embedded in, as `embed.js` reads it (sent flat,
/// as `url`, `title`, `referrer` beside the message's other fields: one
/// deserializer less in the visitor's bundle than a nested object).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPage {
    /// `location.href`.
    pub url: String,
    /// `document.title`.
    pub title: String,
    /// `document.referrer` (none when empty).
    pub referrer: Option<String>,
}

/// A host page's message as it arrives (typed fields, read in one pass:
/// no generic JSON value in the visitor's bundle). `saved` is a list of
/// `[key, value]` pairs.
#[derive(serde::Deserialize)]
struct Incoming {
    kefu: u8,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    open: bool,
    #[serde(default)]
    saved: Vec<(String, String)>,
    #[serde(default)]
    identity: Option<IncomingIdentity>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    title: String,
    #[serde(default)]
    referrer: String,
}

#[derive(serde::Deserialize)]
struct IncomingIdentity {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

impl FromHost {
    /// Reads a message's data (a JSON string); `None` if it is not ours.
    pub fn parse(data: &str) -> Option<FromHost> {
        let msg: Incoming = serde_json::from_str(data).ok()?;
        if msg.kefu != 1 {
            return None;
        }
        let given = |t: Option<String>| t.filter(|t| !t.is_empty());
        let page = given(msg.url).map(|url| HostPage {
            url,
            title: msg.title,
            referrer: Some(msg.referrer).filter(|r| !r.is_empty()),
        });
        let identity = msg.identity.and_then(|i| {
            let id = Identity {
                token: given(i.token),
                name: given(i.name),
                email: given(i.email),
            };
            (id != Identity::default()).then_some(id)
        });
        match msg.kind.as_str() {
            "init" => Some(FromHost::Init {
                open: msg.open,
                saved: msg.saved,
                identity,
                page,
            }),
            "page" => page.map(FromHost::Page),
            "open" => Some(FromHost::Open),
            "close" => Some(FromHost::Close),
            _ => None,
        }
    }
}

/// What the widget tells the host page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToHost {
    /// Hydrated: send `init`.
    Ready,
    /// The panel's size, in CSS pixels.
    Size {
        /// Width.
        width: u32,
        /// Height.
        height: u32,
    },
    /// Agent messages unread while the panel is hidden.
    Unread(u32),
    /// Whether the visitor has an open conversation (the host page then
    /// loads the chat at once on its next page, for the unread badge).
    Active(bool),
    /// An agent's new message.
    Message {
        /// The agent's name.
        name: String,
        /// The text.
        text: String,
    },
    /// The visitor minimized the panel.
    Close,
    /// Keep `value` under `key` in the host page's storage.
    Save {
        /// One of the widget's keys (`kefu.…`).
        key: String,
        /// What to keep.
        value: String,
    },
}

/// The panel's size on a wide screen, in CSS pixels (on a narrow one the
/// host page shows it full screen).
pub const PANEL_SIZE: (u32, u32) = (384, 560);

/// A widget's message as it is sent.
#[derive(serde::Serialize)]
struct Outgoing<'a> {
    kefu: u8,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    open: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    height: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    author: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<&'a str>,
}

impl ToHost {
    /// The message's data: a JSON string.
    pub fn to_json(&self) -> String {
        let mut out = Outgoing {
            kefu: 1,
            kind: "",
            count: None,
            open: None,
            width: None,
            height: None,
            author: None,
            name: None,
            text: None,
            key: None,
            value: None,
        };
        match self {
            ToHost::Ready => out.kind = "ready",
            ToHost::Size { width, height } => {
                out.kind = "size";
                (out.width, out.height) = (Some(*width), Some(*height));
            }
            ToHost::Unread(count) => (out.kind, out.count) = ("unread", Some(*count)),
            ToHost::Active(open) => (out.kind, out.open) = ("active", Some(*open)),
            ToHost::Message { name, text } => {
                out.kind = "message";
                (out.author, out.name, out.text) =
                    (Some("agent"), Some(name.as_str()), Some(text.as_str()));
            }
            ToHost::Close => out.kind = "close",
            ToHost::Save { key, value } => {
                out.kind = "save";
                (out.key, out.value) = (Some(key.as_str()), Some(value.as_str()));
            }
        }
        serde_json::to_string(&out).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_iframe_query_names_the_host_page() {
        assert_eq!(
            Embed::from_query("embed=1&origin=http%3A%2F%2Flocalhost%3A8080&lang=zh-CN"),
            Some(Embed {
                origin: "http://localhost:8080".into()
            })
        );
        assert_eq!(Embed::from_query("origin=http%3A%2F%2Fa.example"), None);
        assert_eq!(Embed::from_query("embed=1"), None);
        assert_eq!(Embed::from_query(""), None);
        assert_eq!(
            form_pairs("a=%E4%BD%A0%E5%A5%BD+x&b=%zz&c").collect::<Vec<_>>(),
            vec![
                ("a".into(), "你好 x".into()),
                ("b".into(), "%zz".into()),
                ("c".into(), String::new())
            ]
        );
    }

    #[test]
    fn only_well_formed_messages_of_ours_are_read() {
        assert_eq!(
            FromHost::parse(
                r#"{"kefu":1,"type":"init","open":true,"saved":[["kefu.a","1"]],"identity":{"token":"t.s"}}"#
            ),
            Some(FromHost::Init {
                open: true,
                saved: vec![("kefu.a".into(), "1".into())],
                identity: Some(Identity {
                    token: Some("t.s".into()),
                    ..Identity::default()
                }),
                page: None,
            })
        );
        assert_eq!(
            FromHost::parse(r#"{"kefu":1,"type":"init"}"#),
            Some(FromHost::Init {
                open: false,
                saved: vec![],
                identity: None,
                page: None,
            })
        );
        let page = HostPage {
            url: "https://shop.example/cart".into(),
            title: "Cart".into(),
            referrer: None,
        };
        assert_eq!(
            FromHost::parse(
                r#"{"kefu":1,"type":"page","url":"https://shop.example/cart","title":"Cart","referrer":""}"#
            ),
            Some(FromHost::Page(page))
        );
        assert_eq!(FromHost::parse(r#"{"kefu":1,"type":"page"}"#), None);
        assert_eq!(
            FromHost::parse(r#"{"kefu":1,"type":"open"}"#),
            Some(FromHost::Open)
        );
        for foreign in [
            "",
            "hello",
            r#"{"type":"open"}"#,
            r#"{"kefu":2,"type":"open"}"#,
            r#"{"kefu":1,"type":"explode"}"#,
            r#"{"kefu":1,"type":"identify","identity":{"token":"t"}}"#,
        ] {
            assert_eq!(FromHost::parse(foreign), None, "{foreign}");
        }
        assert_eq!(
            ToHost::Unread(2).to_json(),
            r#"{"kefu":1,"type":"unread","count":2}"#
        );
        assert_eq!(
            ToHost::Save {
                key: "kefu.visitor_token".into(),
                value: "t".into()
            }
            .to_json(),
            r#"{"kefu":1,"type":"save","key":"kefu.visitor_token","value":"t"}"#
        );
    }
}
