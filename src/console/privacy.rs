//! Admins deleting a visitor, from a closed conversation opened read-only:
//! a button, a confirmation saying what goes, then `delete_visitor`.

use leptos::prelude::*;

use super::strings::ConsoleStrings;

/// The delete button for visitor `number`; `on_deleted` runs once they are gone.
#[component]
pub fn DeleteVisitor(
    /// The visitor's number (their id).
    number: i64,
    /// Runs with `number` once the visitor is deleted.
    on_deleted: Callback<i64>,
) -> impl IntoView {
    let s = ConsoleStrings::of(crate::i18n::Lang::current());
    let p = s.privacy;
    let asking = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let delete = move |_| {
        busy.set(true);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            match crate::api::delete_visitor(number).await {
                Ok(()) => on_deleted.run(number),
                Err(e) => {
                    error.set(Some(s.error_text(&e)));
                    busy.set(false);
                }
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = (number, on_deleted, error);
    };
    view! {
        <div class="delete-visitor">
            <Show
                when=move || asking.get()
                fallback=move || view! {
                    <button class="link danger" data-testid="delete-visitor" on:click=move |_| {
                        error.set(None);
                        asking.set(true);
                    }>{p.delete}</button>
                }
            >
                <p class="confirm" data-testid="delete-visitor-confirm-text">{p.confirm}</p>
                <button class="danger" data-testid="delete-visitor-confirm" disabled=move || busy.get() on:click=delete>
                    {p.confirm_button}
                </button>
                " "
                <button class="link" data-testid="delete-visitor-cancel" on:click=move |_| asking.set(false)>
                    {p.cancel}
                </button>
            </Show>
            {move || error.get().map(|e| view! {
                <p class="form-error" role="alert" data-testid="delete-visitor-error">{e}</p>
            })}
        </div>
    }
}
