#![cfg(feature = "ssr")]
//! Accounts an agent can live with (issue 13, item 11): changing one's own
//! password (the current one required; the other sessions end, this one
//! stays), admins setting an agent's password (every session of theirs ends
//! and their sockets close), and the first-start setup guarded by a one-time
//! code from the log, throttled like sign-in. Each test fails without its rule.
//!
//! Run with `cargo test --features ssr --test accounts`.

use kefu::api::ConsoleView;
use kefu::error::AppError;
use kefu::protocol::AgentInfo;
use kefu::server::config::Security;
use tokio_tungstenite::tungstenite::http::StatusCode;

mod common;
use common::*;

const NEW_PASSWORD: &str = "a brand new secret";

impl Server {
    /// Signs in over HTTP; the session cookie, or why not.
    async fn sign_in(&self, name: &str, password: &str) -> Result<String, AppError> {
        let response = self
            .call("sign_in", &[("name", name), ("password", password)], None)
            .await;
        if response.ok() {
            Ok(cookie_of(
                response
                    .header("set-cookie")
                    .expect("sign-in sets a cookie"),
            ))
        } else {
            Err(response.app_error())
        }
    }

    /// What `/console` shows for `cookie`.
    async fn view(&self, cookie: &str) -> ConsoleView {
        self.call("console_session", &[], Some(cookie)).await.json()
    }

    /// `name`'s old password no longer signs in; [`NEW_PASSWORD`] does.
    async fn only_the_new_password_works(&self, name: &str) {
        assert_eq!(
            self.sign_in(name, PASSWORD).await.err(),
            Some(AppError::WrongCredentials)
        );
        self.sign_in(name, NEW_PASSWORD)
            .await
            .expect("the new password works");
    }
}

#[tokio::test]
async fn changing_ones_password_needs_the_current_one_and_ends_the_other_sessions() {
    let server = start(Security::default()).await;
    server.add_agent("Ann", false).await;
    let here = server.sign_in("Ann", PASSWORD).await.expect("signs in");
    let elsewhere = server.sign_in("Ann", PASSWORD).await.expect("signs in");
    let (mut here_tab, _) = server.agent(&here, vec![]).await;
    let (mut other_tab, _) = server.agent(&elsewhere, vec![]).await;

    // A wrong current password changes nothing.
    let response = server
        .call(
            "change_password",
            &[("current", "not my password"), ("new", NEW_PASSWORD)],
            Some(&here),
        )
        .await;
    assert_eq!(response.app_error(), AppError::WrongPassword);
    assert!(matches!(
        server.view(&elsewhere).await,
        ConsoleView::SignedIn(_)
    ));
    server
        .sign_in("Ann", PASSWORD)
        .await
        .expect("the old password still works");

    // Too short a new one is refused before anything is checked.
    let response = server
        .call(
            "change_password",
            &[("current", PASSWORD), ("new", "short")],
            Some(&here),
        )
        .await;
    assert_eq!(
        response.app_error(),
        AppError::Invalid(kefu::error::Invalid::PasswordLength)
    );

    // Not signed in: nothing to change.
    let response = server
        .call(
            "change_password",
            &[("current", PASSWORD), ("new", NEW_PASSWORD)],
            None,
        )
        .await;
    assert_eq!(response.app_error(), AppError::Unauthorized);

    let () = server
        .call(
            "change_password",
            &[("current", PASSWORD), ("new", NEW_PASSWORD)],
            Some(&here),
        )
        .await
        .json();
    assert_eq!(
        other_tab.expect_close().await.code,
        4001,
        "the other session's socket closes"
    );
    assert_eq!(server.view(&elsewhere).await, ConsoleView::SignedOut);
    assert_eq!(
        server.refused("/ws/agent", &[("Cookie", &elsewhere)]).await,
        StatusCode::UNAUTHORIZED
    );
    // This session stays, socket and all.
    here_tab.ping_until_pong().await;
    assert!(matches!(server.view(&here).await, ConsoleView::SignedIn(_)));
    server.only_the_new_password_works("Ann").await;
}

#[tokio::test]
async fn wrong_current_passwords_are_throttled_like_sign_ins() {
    let server = start(Security::default()).await;
    server.add_agent("Ann", false).await;
    let cookie = server.sign_in("Ann", PASSWORD).await.expect("signs in");
    let attempt = |current: &'static str| {
        let cookie = cookie.clone();
        let server = &server;
        async move {
            server
                .call(
                    "change_password",
                    &[("current", current), ("new", NEW_PASSWORD)],
                    Some(&cookie),
                )
                .await
        }
    };
    for _ in 0..Security::default().limits.signin_failures {
        assert_eq!(attempt("guess").await.app_error(), AppError::WrongPassword);
    }
    assert!(
        matches!(
            attempt(PASSWORD).await.app_error(),
            AppError::TooManyAttempts { .. }
        ),
        "even the right password waits once the account is throttled"
    );
}

#[tokio::test]
async fn an_admin_setting_a_password_ends_every_session_of_that_agent() {
    let server = start(Security::default()).await;
    let (_, admin) = server.signed_in_agent("Boss", true).await;
    let bob = server.add_agent("Bob", false).await;
    let bob_id = bob.0.to_string();
    let one = server.sign_in("Bob", PASSWORD).await.expect("signs in");
    let two = server.sign_in("Bob", PASSWORD).await.expect("signs in");
    let (mut tab1, _) = server.agent(&one, vec![]).await;
    let (mut tab2, _) = server.agent(&two, vec![]).await;
    let (mut boss_tab, _) = server.agent(&admin, vec![]).await;

    // Only admins, and only valid passwords.
    let response = server
        .call(
            "reset_password",
            &[("id", &bob_id), ("password", NEW_PASSWORD)],
            Some(&one),
        )
        .await;
    assert_eq!(response.app_error(), AppError::Forbidden);
    let response = server
        .call(
            "reset_password",
            &[("id", &bob_id), ("password", "short")],
            Some(&admin),
        )
        .await;
    assert_eq!(
        response.app_error(),
        AppError::Invalid(kefu::error::Invalid::PasswordLength)
    );
    let response = server
        .call(
            "reset_password",
            &[("id", "99999"), ("password", NEW_PASSWORD)],
            Some(&admin),
        )
        .await;
    assert_eq!(response.app_error(), AppError::NotFound);
    tab1.ping_until_pong().await;

    let info: AgentInfo = server
        .call(
            "reset_password",
            &[("id", &bob_id), ("password", NEW_PASSWORD)],
            Some(&admin),
        )
        .await
        .json();
    assert_eq!(info.name, "Bob");
    assert_eq!(tab1.expect_close().await.code, 4001);
    assert_eq!(tab2.expect_close().await.code, 4001);
    for cookie in [&one, &two] {
        assert_eq!(server.view(cookie).await, ConsoleView::SignedOut);
    }
    boss_tab.ping_until_pong().await;
    server.only_the_new_password_works("Bob").await;
}

#[tokio::test]
async fn first_start_setup_needs_the_code_from_the_log_and_is_throttled() {
    let server = start(Security::default()).await;
    let code = server
        .state
        .setup
        .code()
        .expect("a fresh server without accounts has a setup code");
    let setup = |code: String| {
        let server = &server;
        async move {
            server
                .call(
                    "setup_admin",
                    &[
                        ("name", "Owner"),
                        ("password", PASSWORD),
                        ("setup_code", &code),
                    ],
                    None,
                )
                .await
        }
    };
    // Without the code (an old form), and with a wrong one: refused.
    let response = server
        .call(
            "setup_admin",
            &[("name", "Owner"), ("password", PASSWORD)],
            None,
        )
        .await;
    assert_eq!(response.app_error(), AppError::WrongSetupCode);
    let allowed = Security::default().limits.signin_failures * 4;
    for _ in 1..allowed {
        assert_eq!(
            setup("0000-0000-0000-0000".into()).await.app_error(),
            AppError::WrongSetupCode
        );
    }
    assert_eq!(server.state.storage.agent_count().await.expect("count"), 0);
    // The address is throttled now: even the right code waits.
    assert!(matches!(
        setup(code.clone()).await.app_error(),
        AppError::TooManyAttempts { .. }
    ));
    assert_eq!(server.state.storage.agent_count().await.expect("count"), 0);
}

#[tokio::test]
async fn the_right_setup_code_creates_the_admin_once() {
    let server = start(Security::default()).await;
    let code = server.state.setup.code().expect("a setup code");
    // Case and spacing do not matter.
    let typed = format!(" {} ", code.to_uppercase());
    let response = server
        .call(
            "setup_admin",
            &[
                ("name", "Owner"),
                ("password", PASSWORD),
                ("setup_code", &typed),
            ],
            None,
        )
        .await;
    let info: AgentInfo = response.json();
    assert!(info.is_admin);
    let cookie = cookie_of(response.header("set-cookie").expect("signed in"));
    assert!(matches!(
        server.view(&cookie).await,
        ConsoleView::SignedIn(_)
    ));
    assert_eq!(server.state.setup.code(), None, "the code is spent");
    let response = server
        .call(
            "setup_admin",
            &[
                ("name", "Other"),
                ("password", PASSWORD),
                ("setup_code", &code),
            ],
            None,
        )
        .await;
    assert_eq!(response.app_error(), AppError::AlreadySetUp);
}

#[tokio::test]
async fn a_server_started_with_accounts_has_no_setup_code() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("kefu.db");
    let storage = kefu::server::storage::sqlite::open(&db)
        .await
        .expect("opens");
    storage
        .create_agent("Ann", &password_hash().await, 5, true, false)
        .await
        .expect("an account, as `kefu agent add --admin` makes it");
    let options = leptos::prelude::LeptosOptions::builder()
        .output_name("kefu")
        .build();
    let state = kefu::server::AppState::with_storage(options, storage, GRACE)
        .await
        .expect("state");
    assert_eq!(state.setup.code(), None);
}
