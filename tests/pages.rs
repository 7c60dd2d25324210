#![cfg(feature = "ssr")]
//! Server-rendered pages under the runtime `kefu serve` uses: many worker
//! threads, so a response's rendering may start on one thread and end on
//! another. A page must then still arrive whole, every time.
//!
//! Run with `cargo test --features ssr --test pages`.

use kefu::server::config::Security;

mod common;
use common::*;

/// Requests per page and path.
const ROUNDS: usize = 40;
/// Requests in flight at once.
const CONCURRENCY: usize = 8;

/// Each page (the console signed in and out, the widget, the demo page)
/// rendered `ROUNDS` times, `CONCURRENCY` at a time: every answer is a 200
/// with the whole document, to its last chunk. (State held only by the browser side, such as
/// the socket's outbox, once lived in thread-bound storage during rendering;
/// dropping it on another worker thread panicked mid-response and the page
/// never finished loading.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pages_render_whole_on_a_multi_threaded_runtime() {
    let server = std::sync::Arc::new(start(Security::default()).await);
    let (_, cookie) = server.signed_in_agent("Ann", false).await;
    let cookie = std::sync::Arc::new(cookie);
    let mut tasks = Vec::new();
    for worker in 0..CONCURRENCY {
        let server = server.clone();
        let cookie = cookie.clone();
        tasks.push(tokio::spawn(async move {
            for round in 0..ROUNDS / CONCURRENCY * 4 {
                let (path, headers): (&str, Vec<(&str, &str)>) = match (worker + round) % 4 {
                    0 => ("/console", vec![("Cookie", cookie.as_str())]),
                    1 => ("/console", vec![]),
                    2 => ("/widget", vec![]),
                    _ => ("/", vec![]),
                };
                let page = http_request(server.addr, None, "GET", path, &headers, "").await;
                assert_eq!(page.status, 200, "{path}: {page:?}");
                assert!(
                    page.complete && page.body.contains("</html>"),
                    "{path} was cut off after {} bytes",
                    page.body.len()
                );
            }
        }));
    }
    for task in tasks {
        task.await.expect("every request got a whole page");
    }
}
