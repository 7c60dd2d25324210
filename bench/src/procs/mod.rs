//! Processes and the OS: the kefu server and the relay as child processes
//! (pinned with `taskset` when it exists), `kefu agent add`, readings from
//! /proc, and a tiny HTTP/1.1 client for the server functions and pages.
//!
//! host.rs: the machine and the tools on it; usage.rs: what a process uses,
//! from /proc; server.rs: the servers the bench starts and `kefu agent add`;
//! http.rs: the HTTP client.

mod host;
mod http;
mod server;
mod usage;

pub use host::{
    cores, free_addr, gzip_size, has_taskset, load_average, open_files_limit, pin_self,
};
pub use http::{http, sign_in, transferred};
pub use server::{add_agent, Server, UNLIMITED};
pub use usage::{counters, cpu_secs, listen_overflows, rss_kib, socket_count, CLOCK_TICKS};
