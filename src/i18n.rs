//! Which language a page speaks: English or Simplified Chinese.
//!
//! The server decides while rendering (the console's `kefu_lang` cookie,
//! else the browser's `Accept-Language`) and writes it into `<html lang>`;
//! the browser hydrates with whatever that attribute says, so both sides
//! always pick the same strings table. Each UI's tables are typed structs
//! (`widget::strings`, `console::strings`): a missing translation does not
//! compile.

/// A language kefu speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Simplified Chinese.
    ZhCn,
}

/// The cookie holding an agent's chosen console language (path `/console`,
/// so it never changes what a visitor's widget speaks).
pub const LANG_COOKIE: &str = "kefu_lang";

impl Lang {
    /// Every language, in the order a picker shows them.
    pub const ALL: [Lang; 2] = [Lang::ZhCn, Lang::En];

    /// The BCP 47 tag: `en` or `zh-CN`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
        }
    }

    /// The language's own name, as a picker shows it.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::ZhCn => "简体中文",
        }
    }

    /// Reads a tag: any `zh` is Chinese, any `en` English.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "zh" => Some(Lang::ZhCn),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The first language kefu speaks among the browser's, by preference
    /// (`Accept-Language`, e.g. `zh-CN,zh;q=0.9,en;q=0.8`); English if none.
    pub fn from_accept_language(header: &str) -> Lang {
        let mut ranked: Vec<(f32, Lang)> = header
            .split(',')
            .filter_map(|item| {
                let mut parts = item.split(';');
                let lang = Lang::parse(parts.next()?)?;
                let q = parts
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0);
                (q > 0.0).then_some((q, lang))
            })
            .collect();
        // Stable: among equal weights the header's order stands.
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        ranked.first().map(|(_, l)| *l).unwrap_or_default()
    }

    /// The language of the page being rendered or hydrated.
    pub fn current() -> Lang {
        #[cfg(feature = "ssr")]
        {
            request_lang()
        }
        #[cfg(not(feature = "ssr"))]
        {
            document_lang()
        }
    }
}

/// The request's language: the snippet's `data-lang` (the embedded
/// widget's `lang` query), else the console cookie, else `Accept-Language`.
#[cfg(feature = "ssr")]
fn request_lang() -> Lang {
    let Some(parts) = leptos::prelude::use_context::<axum::http::request::Parts>() else {
        return Lang::En;
    };
    let chosen = parts.uri.query().and_then(|q| {
        crate::widget::embed::form_pairs(q)
            .find(|(k, _)| k == "lang")
            .and_then(|(_, v)| Lang::parse(&v))
    });
    if let Some(lang) = chosen.filter(|_| parts.uri.path() == "/widget") {
        return lang;
    }
    let headers = &parts.headers;
    let cookie = crate::server::edge::auth::cookie(headers, LANG_COOKIE).and_then(Lang::parse);
    cookie.unwrap_or_else(|| {
        headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map(Lang::from_accept_language)
            .unwrap_or_default()
    })
}

/// What the server wrote into `<html lang>`.
#[cfg(not(feature = "ssr"))]
fn document_lang() -> Lang {
    #[cfg(feature = "hydrate")]
    {
        leptos::web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
            .and_then(|e| e.get_attribute("lang"))
            .and_then(|tag| Lang::parse(&tag))
            .unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        Lang::En
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browsers_first_language_that_kefu_speaks_wins() {
        assert_eq!(
            Lang::from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"),
            Lang::ZhCn
        );
        assert_eq!(
            Lang::from_accept_language("en-US,en;q=0.9,zh;q=0.8"),
            Lang::En
        );
        assert_eq!(
            Lang::from_accept_language("fr-FR,zh-TW;q=0.7,en;q=0.5"),
            Lang::ZhCn
        );
        assert_eq!(Lang::from_accept_language("en;q=0.2,zh;q=0.9"), Lang::ZhCn);
        assert_eq!(Lang::from_accept_language("de"), Lang::En);
        assert_eq!(Lang::from_accept_language(""), Lang::En);
        assert_eq!(Lang::from_accept_language("zh;q=0"), Lang::En);
    }

    #[test]
    fn tags_read_back() {
        for lang in Lang::ALL {
            assert_eq!(Lang::parse(lang.tag()), Some(lang));
        }
        assert_eq!(Lang::parse("zh_Hans"), Some(Lang::ZhCn));
        assert_eq!(Lang::parse("xx"), None);
    }
}
