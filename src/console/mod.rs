//! The agent console at `/console`: first-run setup, sign-in, and the
//! workspace with one tab per conversation.

pub mod account;
pub mod admin;
pub mod canned;
pub mod history;
pub mod hours;
pub mod identity;
mod lang;
pub mod notify;
pub mod privacy;
pub mod read_only;
pub mod reports;
pub mod settings;
pub mod state;
pub mod strings;
pub mod transfer;
pub mod visitor;
pub mod webhooks;
pub mod workspace;

use leptos::prelude::*;

use crate::api::{console_session, ConsoleView, SetupAdmin, SignIn, SignOut};
use strings::ConsoleStrings;
use workspace::Workspace;

/// The page at `/console`.
#[component]
pub fn ConsolePage() -> impl IntoView {
    let s = ConsoleStrings::of(crate::i18n::Lang::current());
    let setup = ServerAction::<SetupAdmin>::new();
    let login = ServerAction::<SignIn>::new();
    let logout = ServerAction::<SignOut>::new();
    let session = Resource::new(
        move || {
            (
                setup.version().get(),
                login.version().get(),
                logout.version().get(),
            )
        },
        |_| console_session(),
    );
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <main class="console" data-hydrated=move || hydrated.get().to_string()>
            <Transition fallback=move || view! { <p class="loading">{s.loading}</p> }>
                {move || {
                    session
                        .get()
                        .map(|result| match result {
                            Ok(ConsoleView::NeedsSetup) => view! { <SetupForm action=setup /> }.into_any(),
                            Ok(ConsoleView::SignedOut) => view! { <LoginForm action=login /> }.into_any(),
                            Ok(ConsoleView::SignedIn(me)) => view! { <Workspace me logout /> }.into_any(),
                            Err(e) => view! { <p class="error" role="alert">{s.error_text(&e)}</p> }.into_any(),
                        })
                }}
            </Transition>
        </main>
    }
}

/// The error of the last submission of a form, if it failed.
fn form_error<T>(
    s: &ConsoleStrings,
    result: Option<&Result<T, crate::error::AppError>>,
) -> Option<String> {
    result
        .and_then(|r| r.as_ref().err())
        .map(|e| s.error_text(e))
}

/// The one-time form that creates the first admin.
#[component]
fn SetupForm(action: ServerAction<SetupAdmin>) -> impl IntoView {
    let s = ConsoleStrings::of(crate::i18n::Lang::current());
    let value = action.value();
    let error = move || value.with(|v| form_error(s, v.as_ref()));
    view! {
        <section class="auth-card">
            <h1>{s.setup_title}</h1>
            <p>{s.setup_hint}</p>
            <ActionForm action=action attr:data-testid="setup-form">
                <label>{s.name}<input name="name" required autocomplete="username" /></label>
                <label>{s.password}<input name="password" type="password" required minlength="8" autocomplete="new-password" /></label>
                <label>{s.accounts.setup_code}<input name="setup_code" required autocomplete="off" spellcheck="false" /></label>
                <p class="muted">{s.accounts.setup_code_hint}</p>
                <button type="submit">{s.create_admin}</button>
            </ActionForm>
            {move || error().map(|e| view! { <p class="form-error" data-testid="form-error" role="alert">{e}</p> })}
        </section>
    }
}

/// Name-and-password sign-in.
#[component]
fn LoginForm(action: ServerAction<SignIn>) -> impl IntoView {
    let s = ConsoleStrings::of(crate::i18n::Lang::current());
    let value = action.value();
    let error = move || value.with(|v| form_error(s, v.as_ref()));
    view! {
        <section class="auth-card">
            <h1>{s.sign_in_title}</h1>
            <ActionForm action=action attr:data-testid="login-form">
                <label>{s.name}<input name="name" required autocomplete="username" /></label>
                <label>{s.password}<input name="password" type="password" required autocomplete="current-password" /></label>
                <button type="submit">{s.sign_in}</button>
            </ActionForm>
            {move || error().map(|e| view! { <p class="form-error" data-testid="form-error" role="alert">{e}</p> })}
        </section>
    }
}
