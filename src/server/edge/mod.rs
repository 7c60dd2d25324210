//! What faces the network: each request or socket is checked here (origin,
//! limits, session), then becomes one call into the hub or storage.
//!
//! - [`api`]: the bodies of the server functions declared in `crate::api`;
//! - [`assets`]: the chat's code and style under `/pkg`, precompressed;
//! - [`ws`]: the WebSocket endpoints, `hello`, and each socket's reader loop;
//! - [`security`]: origin checks, CSP and other headers, per-address limits;
//! - [`limits`]: the token buckets and counters behind those limits;
//! - [`auth`]: agent sessions and their cookie;
//! - [`visitors`]: who a visitor is, by token or signed identity.

pub mod api;
pub mod assets;
pub mod auth;
pub mod limits;
pub mod security;
pub mod visitors;
pub mod ws;
