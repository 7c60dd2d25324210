//! What faces the network: each request or socket is checked here (origin,
//! limits, session), then becomes one call into the hub or storage.
//!
//! - [`api`]: the bodies of the server functions declared in `crate::api`;
//! - [`accounts`]: first-start setup (its one-time code) and password changes;
//! - [`canned`]: canned replies; [`archive`]: closed conversations and search;
//! - [`assets`]: the chat's code and style under `/pkg`, precompressed;
//! - [`ws`]: the WebSocket endpoints, `hello`, and each socket's reader loop;
//! - [`settings`]: admins' settings (server functions) and `/embed/config`;
//! - [`origins`]: the console's own origin and the sites that may embed the widget;
//! - [`security`]: origin checks, CSP and other headers, per-address limits;
//! - [`limits`]: the token buckets and counters behind those limits;
//! - [`auth`]: agent sessions and their cookie;
//! - [`visitors`]: who a visitor is, by token or signed identity;
//! - [`visits`]: the visitor's browser and pages, for the console's visitor panel;
//! - [`ops`]: `/healthz`, `/readyz`, `/metrics`; [`trace`]: each request's and socket's log span;
//! - [`reports`]: the admins' reports and their CSV;
//! - [`privacy`]: admins deleting a visitor.

pub mod accounts;
pub mod api;
pub mod archive;
pub mod assets;
pub mod auth;
pub mod canned;
pub mod limits;
pub mod ops;
pub mod origins;
pub mod privacy;
pub mod reports;
pub mod security;
pub mod settings;
pub mod trace;
pub mod transfer;
pub mod visitors;
pub mod visits;
pub mod webhooks;
pub mod ws;
