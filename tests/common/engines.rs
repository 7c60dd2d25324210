//! Which database the integration tests run on: SQLite (a temporary file,
//! the default) or, with `KEFU_TEST_BACKEND=postgres`, a fresh database
//! on the PostgreSQL server at `KEFU_TEST_POSTGRES` (scripts/engines.sh
//! starts one and sets both; `make unit` runs the chat, delivery and
//! security tests that way too).

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;

/// The PostgreSQL server's URL when the tests run on PostgreSQL.
pub fn postgres_server() -> Option<String> {
    if std::env::var("KEFU_TEST_BACKEND").ok()?.as_str() != "postgres" {
        return None;
    }
    Some(std::env::var("KEFU_TEST_POSTGRES").expect(
        "KEFU_TEST_BACKEND=postgres needs KEFU_TEST_POSTGRES, the server's URL \
         (scripts/engines.sh run -- cargo test … sets both)",
    ))
}

/// Whether the tests run on PostgreSQL.
pub fn on_postgres() -> bool {
    postgres_server().is_some()
}

/// Creates an empty database on the server at `server` (a URL naming any
/// database on it) and returns its URL: one per test server, so tests never
/// see each other's rows.
pub async fn fresh_postgres(server: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "kefu_test_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    );
    let mut admin = sqlx::PgConnection::connect(server)
        .await
        .expect("connecting to the test PostgreSQL server");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("creating a test database");
    let mut url = reqwest::Url::parse(server).expect("KEFU_TEST_POSTGRES is a URL");
    url.set_path(&name);
    url.to_string()
}

/// A second connection to a test server's database, for tests that change
/// rows behind the server's back (ageing a session, say): SQLite or
/// PostgreSQL alike. Write statements with [`param`] placeholders.
pub async fn raw(db_url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::AnyPool::connect(db_url)
        .await
        .expect("a second connection to the test database")
}

/// The `n`th (from 1) statement parameter, as the backend writes it.
pub fn param(n: usize) -> String {
    if on_postgres() {
        format!("${n}")
    } else {
        "?".to_owned()
    }
}
