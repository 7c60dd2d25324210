//! What the integration tests share: the real app served on 127.0.0.1 over
//! a temporary SQLite file (or a fresh PostgreSQL database: [`engines`]),
//! a tiny HTTP/1.1 client for pages and server
//! functions, and agent accounts with sessions; in [`client`], the WebSocket
//! client, in [`chat`], the chats the tests set up, in [`process`], the
//! real binary as a child process, in [`resilient`], a client that gets
//! back after its node dies, and in [`stored`], what the server
//! stored, read straight from its file.
//!
//! Each test crate that says `mod common;` uses a part of it.
#![allow(dead_code)]

pub mod chat;
pub mod client;
pub mod engines;
pub mod process;
pub mod resilient;
pub mod stored;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use axum::serve::ListenerExt;
use kefu::error::AppError;
use kefu::protocol::AgentId;
use kefu::routes::router;
use kefu::server::config::{Limits, Security};
use kefu::server::edge::assets::AssetNames;
use kefu::server::edge::auth;
use kefu::server::storage::sqlite;
use kefu::server::{secrets, AppState};
use serde::de::DeserializeOwned;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Agent grace period (long enough never to expire in these tests).
pub const GRACE: Duration = Duration::from_secs(60);
/// Every agent's password.
pub const PASSWORD: &str = "correct horse battery";

/// The argon2 hash of [`PASSWORD`], computed once (it is slow in debug builds).
pub async fn password_hash() -> String {
    static HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    HASH.get_or_init(|| async {
        secrets::hash_password(PASSWORD.to_owned())
            .await
            .expect("hashing a password")
    })
    .await
    .clone()
}

/// A running server: the real app on 127.0.0.1, backed by a temporary database.
pub struct Server {
    pub addr: SocketAddr,
    pub state: AppState,
    /// The SQLite file (unused on PostgreSQL).
    pub db: PathBuf,
    /// The database's URL, for [`engines::raw`]: `sqlite://…` or `postgres://…`.
    pub db_url: String,
    pub _dir: TempDir,
}

/// How a test server is set up; [`Setup::default`] is `kefu serve`'s
/// defaults with a long grace period.
pub struct Setup {
    /// Security settings (limits, allowed origins).
    pub security: Security,
    /// How long an agent may be away before losing their conversations.
    pub grace: Duration,
    /// Storage opened with this busy timeout instead of the default.
    pub busy_timeout: Option<Duration>,
    /// Whether the app learns client addresses (as `kefu serve` does), so
    /// per-address limits apply.
    pub client_addresses: bool,
    /// Whether accepted connections get TCP_NODELAY, so an answer and a
    /// frame right behind it are not held back by Nagle's algorithm.
    pub nodelay: bool,
    /// The site root (with `pkg/`) instead of Leptos' default.
    pub site_root: Option<PathBuf>,
    /// The bundles' names (as from a build's hash file) instead of the
    /// unhashed ones.
    pub assets: Option<AssetNames>,
    /// This PostgreSQL database instead of the backend `engines` chooses.
    pub db_url: Option<String>,
    /// Joins the other nodes on `db_url` through this Redis (`--redis`).
    pub redis: Option<String>,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            security: Security::default(),
            grace: GRACE,
            busy_timeout: None,
            client_addresses: true,
            nodelay: false,
            site_root: None,
            assets: None,
            db_url: None,
            redis: None,
        }
    }
}

/// The default settings with no message rate in the way: for bursts of
/// pipelined messages and clients that resend.
pub fn unlimited_messages() -> Security {
    let security = Security::default();
    Security {
        limits: Limits {
            msg_burst: 100_000,
            msg_rate: 100_000.0,
            addr_msg_burst: 100_000,
            addr_msg_rate: 100_000.0,
            ..security.limits
        },
        ..security
    }
}

/// Starts the app with `security`, serving with client addresses, like `kefu serve`.
pub async fn start(security: Security) -> Server {
    start_with(Setup {
        security,
        ..Setup::default()
    })
    .await
}

/// Starts the app as `setup` says, on an ephemeral port.
pub async fn start_with(setup: Setup) -> Server {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db: PathBuf = dir.path().join("kefu.db");
    let mut options = leptos::prelude::LeptosOptions::builder()
        .output_name("kefu")
        .build();
    if let Some(root) = &setup.site_root {
        options.site_root = root.to_string_lossy().as_ref().into();
    }
    let postgres = match (setup.db_url.clone(), engines::postgres_server()) {
        (Some(url), _) => Some(url),
        (None, Some(server)) => Some(engines::fresh_postgres(&server).await),
        (None, None) => None,
    };
    let db_url = match &postgres {
        Some(url) => url.clone(),
        None => format!("sqlite://{}", db.display()),
    };
    let state = match (&postgres, setup.busy_timeout) {
        (Some(url), _) if setup.redis.is_some() => {
            let redis = setup.redis.as_deref().unwrap_or_default();
            AppState::open_clustered(options, url, setup.grace, redis).await
        }
        // A busy timeout is SQLite's; PostgreSQL runs as `kefu serve` opens it.
        (Some(url), _) => AppState::open(options, url, setup.grace).await,
        (None, None) => AppState::open(options, &db.to_string_lossy(), setup.grace).await,
        (None, Some(timeout)) => {
            let storage = sqlite::open_with(&db, timeout)
                .await
                .expect("the storage opens on a fresh database");
            AppState::with_storage(options, storage, setup.grace).await
        }
    }
    .expect("the app state opens on a fresh database")
    .with_security(setup.security);
    let state = match setup.assets {
        Some(assets) => state.with_assets(assets),
        None => state,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding an ephemeral port");
    let addr = listener.local_addr().expect("the listener has an address");
    // As `kefu serve` does: webhooks may not point at this listener.
    state.webhooks.set_own_addr(addr);
    let nodelay = setup.nodelay;
    let listener = listener.tap_io(move |tcp| {
        if nodelay {
            let _ = tcp.set_nodelay(true);
        }
    });
    let router = router(state.clone());
    tokio::spawn(async move {
        let served = if setup.client_addresses {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
        } else {
            axum::serve(listener, router).await
        };
        served.expect("the server runs");
    });
    Server {
        addr,
        state,
        db,
        db_url,
        _dir: dir,
    }
}

/// `kefu_session=<token>` from a Set-Cookie value.
pub fn cookie_of(set_cookie: &str) -> String {
    let pair = set_cookie
        .split(';')
        .next()
        .expect("Set-Cookie has a name=value pair")
        .trim();
    let token = pair
        .strip_prefix("kefu_session=")
        .unwrap_or_else(|| panic!("the cookie is kefu_session: {set_cookie:?}"));
    assert!(!token.is_empty(), "the session token is not empty");
    pair.to_owned()
}

/// A TCP connection to `to`, from `from` (any local address when `None`).
pub async fn connect(to: SocketAddr, from: Option<IpAddr>) -> TcpStream {
    match from {
        None => TcpStream::connect(to).await.expect("connecting"),
        Some(ip) => {
            let socket = TcpSocket::new_v4().expect("a socket");
            socket
                .bind(SocketAddr::new(ip, 0))
                .unwrap_or_else(|e| panic!("binding the client to {ip}: {e}"));
            socket
                .connect(to)
                .await
                .unwrap_or_else(|e| panic!("connecting from {ip}: {e}"))
        }
    }
}

/// Percent-encodes for application/x-www-form-urlencoded.
pub fn form(args: &[(&str, &str)]) -> String {
    fn encode(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    }
    args.iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// An HTTP response, read to the end.
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Whether the body arrived to its end (the last chunk, or all of
    /// Content-Length), rather than being cut off by a closed connection.
    pub complete: bool,
}

impl std::fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let body: String = self.body.chars().take(600).collect();
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("complete", &self.complete)
            .field("headers", &self.headers)
            .field("body", &body)
            .finish()
    }
}

impl HttpResponse {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The answer of a successful server function.
    pub fn json<T: DeserializeOwned>(&self) -> T {
        assert!(self.ok(), "expected success, got {self:?}");
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("the answer does not parse ({e}): {self:?}"))
    }

    /// The error of a failed server function (a non-2xx status, the AppError as JSON).
    pub fn app_error(&self) -> AppError {
        assert!(!self.ok(), "expected an error, got {self:?}");
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("the error body is not an AppError ({e}): {self:?}"))
    }
}

pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub fn parse_response(raw: &[u8]) -> HttpResponse {
    let head_end = find(raw, b"\r\n\r\n").unwrap_or_else(|| {
        panic!(
            "no header end in the response: {:?}",
            String::from_utf8_lossy(raw)
        )
    });
    let head = std::str::from_utf8(&raw[..head_end]).expect("headers are UTF-8");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("a status line");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a bad status line {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[head_end + 4..].to_vec();
    let chunked = headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("transfer-encoding") && v.to_ascii_lowercase().contains("chunked")
    });
    let complete = if chunked {
        let (whole, ended) = dechunk(&body);
        body = whole;
        ended
    } else {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .is_none_or(|len| len == body.len())
    };
    HttpResponse {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        complete,
    }
}

/// The body of a chunked response, and whether its last chunk arrived.
pub fn dechunk(mut raw: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    while let Some(line_end) = find(raw, b"\r\n") {
        let Some(size) = std::str::from_utf8(&raw[..line_end])
            .ok()
            .and_then(|l| l.split(';').next())
            .and_then(|s| usize::from_str_radix(s.trim(), 16).ok())
        else {
            return (out, false);
        };
        raw = &raw[line_end + 2..];
        if size == 0 {
            return (out, true);
        }
        if raw.len() < size {
            out.extend_from_slice(raw);
            return (out, false);
        }
        out.extend_from_slice(&raw[..size]);
        raw = &raw[(size + 2).min(raw.len())..];
    }
    (out, false)
}

/// One HTTP/1.1 request to `to` from `from` (any local address when
/// `None`), with `Connection: close`; the whole response, within 30 s.
pub async fn http_request(
    to: SocketAddr,
    from: Option<IpAddr>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> HttpResponse {
    let mut stream = connect(to, from).await;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {to}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream
        .write_all(request.as_bytes())
        .await
        .expect("writing the request");
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut raw))
        .await
        .unwrap_or_else(|_| panic!("{method} {path}: no complete answer within 30 s"))
        .expect("reading the response");
    parse_response(&raw)
}

impl Server {
    /// Creates an agent account (password [`PASSWORD`], capacity 5).
    pub async fn add_agent(&self, name: &str, is_admin: bool) -> AgentId {
        self.add_agent_with(name, 5, is_admin).await
    }

    /// Creates an agent account (password [`PASSWORD`]) serving up to `capacity` chats.
    pub async fn add_agent_with(&self, name: &str, capacity: u32, is_admin: bool) -> AgentId {
        self.state
            .storage
            .create_agent(name, &password_hash().await, capacity, is_admin, false)
            .await
            .expect("creating an agent")
            .expect("the agent row is returned")
            .id
    }

    /// Starts a session for `agent` directly in storage; returns the `Cookie` header value.
    pub async fn session_for(&self, agent: AgentId) -> String {
        let storage = &self.state.storage;
        let row = storage
            .agent_by_id(agent)
            .await
            .expect("reading an agent")
            .expect("the agent exists");
        let set_cookie = auth::start_session(storage, &row, &Security::default().limits, false)
            .await
            .expect("starting a session");
        cookie_of(set_cookie.to_str().expect("Set-Cookie is ASCII"))
    }

    /// A new agent (not an admin) signed in: the `Cookie` header value.
    pub async fn agent_cookie(&self, name: &str, capacity: u32) -> String {
        let id = self.add_agent_with(name, capacity, false).await;
        self.session_for(id).await
    }

    /// `ws://` URL of `path` on this server.
    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{}", self.addr, path)
    }

    /// An agent with a session: (id, cookie).
    pub async fn signed_in_agent(&self, name: &str, is_admin: bool) -> (AgentId, String) {
        let id = self.add_agent(name, is_admin).await;
        (id, self.session_for(id).await)
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> HttpResponse {
        http_request(self.addr, None, "GET", path, &[], "").await
    }

    /// Calls the server function `name` with form `args`, from `from`, with extra headers.
    pub async fn call_with(
        &self,
        from: Option<IpAddr>,
        name: &str,
        args: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> HttpResponse {
        let mut all = vec![("Content-Type", "application/x-www-form-urlencoded")];
        all.extend_from_slice(headers);
        http_request(
            self.addr,
            from,
            "POST",
            &format!("/api/{name}"),
            &all,
            &form(args),
        )
        .await
    }

    /// Calls the server function `name` with form `args` and, if given, a cookie.
    pub async fn call(
        &self,
        name: &str,
        args: &[(&str, &str)],
        cookie: Option<&str>,
    ) -> HttpResponse {
        match cookie {
            Some(cookie) => {
                self.call_with(None, name, args, &[("Cookie", cookie)])
                    .await
            }
            None => self.call_with(None, name, args, &[]).await,
        }
    }
}
