//! Where a request comes from: the console's own origin, and the sites
//! that may embed the widget (the `--allow-origin` flag and the admins'
//! list in the console), in the form browsers send them.

use axum::http::{header, HeaderMap};

use crate::protocol::settings::{self, SiteSettings};
use crate::server::config::Security;

/// Paths a widget embedded on an allowed site may call from that site.
fn visitor_path(path: &str) -> bool {
    matches!(
        path,
        "/ws/visitor" | "/api/agent_availability" | "/api/widget_boot" | "/api/visitor_history"
    )
}

/// Whether `origin` is this server's own (same host as the request).
pub fn same_origin(origin: &str, headers: &HeaderMap) -> bool {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| !host.is_empty() && rest.eq_ignore_ascii_case(host))
}

/// The sites that may embed the widget: those the `--allow-origin` flag
/// names and those admins listed in the console, as browsers send them.
pub fn embedding_sites(config: &Security, site: &SiteSettings) -> Vec<String> {
    let mut sites: Vec<String> = Vec::new();
    let flag = config
        .allow_origins
        .iter()
        .filter_map(|o| settings::origin(o));
    for origin in flag.chain(site.allowed_origins.iter().cloned()) {
        if !sites.contains(&origin) {
            sites.push(origin);
        }
    }
    sites
}

/// Whether a page of `origin` may embed the widget (see [`embedding_sites`]).
/// Checked on every visitor socket upgrade: no list is built for it.
pub fn may_embed(config: &Security, site: &SiteSettings, origin: &str) -> bool {
    settings::origin(origin).is_some_and(|o| {
        site.allowed_origins.contains(&o)
            || config
                .allow_origins
                .iter()
                .any(|a| settings::origin(a).as_ref() == Some(&o))
    })
}

/// Checks Origin on server functions and socket upgrades: the console's own
/// origin always, the sites that may embed the widget on visitor endpoints.
/// Requests without an Origin header (not from a browser) pass: they carry
/// no ambient cookies a page could abuse.
pub fn origin_allowed(
    config: &Security,
    site: &SiteSettings,
    path: &str,
    headers: &HeaderMap,
) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return true;
    };
    same_origin(origin, headers) || (visitor_path(path) && may_embed(config, site, origin))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_str(host).expect("host"));
        if let Some(o) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_str(o).expect("origin"));
        }
        h
    }

    #[test]
    fn origins() {
        let config = Security {
            allow_origins: vec!["https://shop.example".into()],
            ..Security::default()
        };
        let own = headers(Some("http://127.0.0.1:3000"), "127.0.0.1:3000");
        let shop = headers(Some("https://shop.example"), "127.0.0.1:3000");
        let evil = headers(Some("https://evil.example"), "127.0.0.1:3000");
        let none = headers(None, "127.0.0.1:3000");
        let listed = headers(Some("https://listed.example"), "127.0.0.1:3000");
        let site = SiteSettings {
            allowed_origins: vec!["https://listed.example".into()],
            ..SiteSettings::default()
        };
        let none_listed = SiteSettings::default();
        assert!(origin_allowed(&config, &site, "/ws/agent", &own));
        assert!(origin_allowed(&config, &site, "/ws/agent", &none));
        assert!(!origin_allowed(&config, &site, "/ws/agent", &shop));
        assert!(origin_allowed(&config, &site, "/ws/visitor", &shop));
        assert!(!origin_allowed(&config, &site, "/ws/visitor", &evil));
        assert!(!origin_allowed(&config, &site, "/api/sign_in", &evil));
        assert!(origin_allowed(&config, &site, "/ws/visitor", &listed));
        assert!(!origin_allowed(
            &config,
            &none_listed,
            "/ws/visitor",
            &listed
        ));
        assert!(!origin_allowed(&config, &site, "/ws/agent", &listed));
    }

    #[test]
    fn the_flag_and_the_admins_list_both_allow_a_site_in_its_canonical_form() {
        let config = Security {
            allow_origins: vec!["https://Shop.example/".into(), "not an origin".into()],
            ..Security::default()
        };
        let site = SiteSettings {
            allowed_origins: vec![
                "http://localhost:8080".into(),
                "https://shop.example".into(),
            ],
            ..SiteSettings::default()
        };
        assert_eq!(
            embedding_sites(&config, &site),
            vec!["https://shop.example", "http://localhost:8080"]
        );
        assert!(may_embed(&config, &site, "http://localhost:8080"));
        assert!(may_embed(&config, &site, "https://shop.example:443"));
        assert!(!may_embed(&config, &site, "http://localhost:8081"));
        assert!(!may_embed(&config, &site, "https://shop.example.evil"));
        assert!(!may_embed(&config, &site, "null"));
    }
}
