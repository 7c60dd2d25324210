//! The server's guards: who the client is (address), where the request
//! comes from (Origin allow-list), response headers that keep browsers
//! safe, the abuse limiters, and revocation of agent sockets.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::broadcast;

use super::limits::{Counter, KeyedBuckets, SignInThrottle};
pub use super::origins::{embedding_sites, may_embed, origin_allowed};
use crate::protocol::settings::SiteSettings;
use crate::protocol::AgentId;
use crate::server::config::Security;
use crate::server::storage::VisitorId;
use crate::server::AppState;

/// The client's address, as the guards see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub IpAddr);

/// Sockets to close at once (on every node: [`AppState::revoke`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Revoked {
    /// The session with this token hash signed out or ended.
    Session(Vec<u8>),
    /// The agent was disabled or removed, or an admin set their password:
    /// all their sessions.
    Agent(AgentId),
    /// The agent changed their password: every session of theirs but the
    /// one with this token hash.
    OtherSessions {
        /// Whose.
        agent: AgentId,
        /// The session that stays.
        keep: Vec<u8>,
    },
}

/// Configuration plus the live limiters.
#[derive(Clone, Debug)]
pub struct SecurityState {
    /// What was configured.
    pub config: Arc<Security>,
    /// Open sockets per address.
    pub conns_per_addr: Counter<IpAddr>,
    /// Open sockets per visitor.
    pub conns_per_visitor: Counter<VisitorId>,
    /// Messages per address.
    pub addr_messages: KeyedBuckets<IpAddr>,
    /// Failed sign-ins.
    pub sign_in: SignInThrottle,
    revoked: broadcast::Sender<Revoked>,
}

impl SecurityState {
    /// Limiters sized by `config`.
    pub fn new(config: Security) -> Self {
        let l = &config.limits;
        Self {
            conns_per_addr: Counter::new(l.max_conns_per_addr),
            conns_per_visitor: Counter::new(l.max_conns_per_visitor),
            addr_messages: KeyedBuckets::new(l.addr_msg_burst, l.addr_msg_rate),
            sign_in: SignInThrottle::new(l.signin_failures),
            revoked: broadcast::channel(64).0,
            config: Arc::new(config),
        }
    }

    /// Closes the sockets of a session or of an agent.
    pub fn revoke(&self, what: Revoked) {
        let _ = self.revoked.send(what);
    }

    /// Revocations from now on (agent sockets listen).
    pub fn revocations(&self) -> broadcast::Receiver<Revoked> {
        self.revoked.subscribe()
    }

    /// Whether the session cookie should be marked Secure for this request.
    pub fn secure_cookie(&self, headers: &HeaderMap) -> bool {
        self.config.secure_cookies
            || (self.config.trust_proxy
                && headers
                    .get("x-forwarded-proto")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.eq_ignore_ascii_case("https")))
    }
}

fn client_addr(config: &Security, req: &Request) -> ClientAddr {
    let forwarded = config
        .trust_proxy
        .then(|| {
            // The last header line: a proxy that appends its own line
            // (HAProxy's `option forwardfor`) leaves the client's above it.
            req.headers()
                .get_all("x-forwarded-for")
                .iter()
                .next_back()?
                .to_str()
                .ok()?
                // The rightmost entry is the one our proxy appended; entries
                // to its left come from the client and can be forged.
                .rsplit(',')
                .next()?
                .trim()
                .parse::<IpAddr>()
                .ok()
        })
        .flatten();
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    ClientAddr(
        forwarded
            .or(peer)
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
    )
}

/// Middleware: records the client address, refuses foreign origins, and
/// adds the headers every response carries.
pub async fn guard(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let config = state.security.config.clone();
    let addr = client_addr(&config, &req);
    req.extensions_mut().insert(addr);
    let path = req.uri().path().to_owned();
    let checked =
        req.method() != Method::GET && req.method() != Method::HEAD || path.starts_with("/ws/");
    if checked && !origin_allowed(&config, &state.site.get(), &path, req.headers()) {
        tracing::warn!(path = %path, "refused a request from a foreign origin");
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if path != "/widget" && !headers.contains_key(header::X_FRAME_OPTIONS) {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    response
}

/// The Content-Security-Policy of an HTML page: scripts only with this
/// response's nonce (so injected markup cannot run), wasm allowed, and
/// framing only for the widget, by the allowed sites.
pub fn content_security_policy(
    nonce: &str,
    path: &str,
    config: &Security,
    site: &SiteSettings,
) -> String {
    let ancestors = if path == "/widget" {
        std::iter::once("'self'".to_owned())
            .chain(embedding_sites(config, site))
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        "'none'".to_owned()
    };
    format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
    )
}

/// Sets the page's Content-Security-Policy (with this response's nonce,
/// which Leptos puts on its own inline scripts). Called while rendering.
pub fn set_page_headers() {
    use leptos::prelude::use_context;
    let response = use_context::<leptos_axum::ResponseOptions>();
    let parts = use_context::<axum::http::request::Parts>();
    let state = use_context::<AppState>();
    let nonce = leptos::nonce::use_nonce();
    if let (Some(response), Some(parts), Some(state), Some(nonce)) = (response, parts, state, nonce)
    {
        let csp = content_security_policy(
            &nonce,
            parts.uri.path(),
            &state.security.config,
            &state.site.get(),
        );
        if let Ok(value) = HeaderValue::from_str(&csp) {
            response.insert_header(header::CONTENT_SECURITY_POLICY, value);
        }
    }
}

impl AppState {
    /// Closes the sockets `what` names, on this node and, in a cluster, on
    /// every other (their sessions are gone from the database already).
    pub fn revoke(&self, what: Revoked) {
        if let Ok(json) = serde_json::to_string(&what) {
            self.hub.revoke_elsewhere(json);
        }
        self.security.revoke(what);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_widget_may_be_framed() {
        let config = Security {
            allow_origins: vec!["https://shop.example".into()],
            ..Security::default()
        };
        let site = SiteSettings {
            allowed_origins: vec!["http://localhost:8080".into()],
            ..SiteSettings::default()
        };
        assert!(content_security_policy("n", "/console", &config, &site)
            .ends_with("frame-ancestors 'none'"));
        assert!(content_security_policy("n", "/widget", &config, &site)
            .ends_with("frame-ancestors 'self' https://shop.example http://localhost:8080"));
    }
}
