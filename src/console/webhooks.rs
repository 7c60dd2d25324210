//! Admins' webhooks panel (inside the settings): register a URL for
//! events, see each webhook's signing key (and rotate it), remove one, and
//! the recent deliveries with their status, tries and last error.

use leptos::prelude::*;

use super::strings::ConsoleStrings;
use crate::api::{webhook_deliveries, webhooks, DeleteWebhook, RotateWebhookSecret, SaveWebhook};
use crate::protocol::webhooks::{WebhookDelivery, WebhookEvent, WebhookInfo};

/// The form field of each event (`save_webhook`'s argument).
fn field(e: WebhookEvent) -> &'static str {
    match e {
        WebhookEvent::ConversationCreated => "conversation_created",
        WebhookEvent::MessageCreated => "message_created",
        WebhookEvent::ConversationClosed => "conversation_closed",
        WebhookEvent::RatingGiven => "rating_given",
    }
}

/// The webhooks panel (shown to admins).
#[component]
pub fn WebhooksPanel() -> impl IntoView {
    let s = ConsoleStrings::of(crate::i18n::Lang::current());
    let t = s.webhooks;
    let save = ServerAction::<SaveWebhook>::new();
    let delete = ServerAction::<DeleteWebhook>::new();
    let rotate = ServerAction::<RotateWebhookSecret>::new();
    let refresh = RwSignal::new(0u32);
    let hooks = Resource::new(
        move || {
            (
                save.version().get(),
                delete.version().get(),
                rotate.version().get(),
            )
        },
        |_| webhooks(),
    );
    let sent = Resource::new(
        move || (refresh.get(), save.version().get(), delete.version().get()),
        |_| webhook_deliveries(),
    );
    let outcome = move || {
        save.value().with(|v| {
            v.as_ref().map(|r| match r {
                Ok(_) => ("ok", t.added.to_owned()),
                Err(e) => ("form-error", s.error_text(e)),
            })
        })
    };
    view! {
        <section class="agents-panel webhooks-panel" data-testid="webhooks-panel">
            <h2>{t.heading}</h2>
            <p class="muted">{t.hint}</p>
            <ActionForm action=save attr:data-testid="webhooks-form" attr:class="row-form wrap">
                <label>{t.url}<input name="url" type="text" size="40" placeholder="https://hooks.example/kefu" /></label>
                {WebhookEvent::ALL.map(|e| view! {
                    <label class="check"><input type="checkbox" name=field(e) checked=true />{(t.event)(e)}</label>
                })}
                <button type="submit">{t.add}</button>
            </ActionForm>
            {move || outcome().map(|(class, text)| view! {
                <p class=class role="status" data-testid="webhooks-outcome">{text}</p>
            })}
            <Transition fallback=move || view! { <p>{s.loading}</p> }>
                {move || hooks.get().map(|r| match r {
                    Ok(list) if list.is_empty() => view! { <p class="muted">{t.none}</p> }.into_any(),
                    Ok(list) => list.into_iter().map(|h| view! { <Webhook hook=h delete rotate /> }).collect_view().into_any(),
                    Err(e) => view! { <p class="form-error">{s.error_text(&e)}</p> }.into_any(),
                })}
            </Transition>
            <h3>
                {t.deliveries}" "
                <button class="link" data-testid="webhook-refresh" on:click=move |_| refresh.update(|n| *n += 1)>{t.refresh}</button>
            </h3>
            <Transition fallback=move || view! { <p>{s.loading}</p> }>
                {move || sent.get().map(|r| match r {
                    Ok(list) if list.is_empty() => view! { <p class="muted">{t.no_deliveries}</p> }.into_any(),
                    Ok(list) => view! { <Deliveries list /> }.into_any(),
                    Err(e) => view! { <p class="form-error">{s.error_text(&e)}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
    // Type-erased: keeps the console's render future small (debug builds
    // render on worker threads with 2 MiB stacks: tests/pages.rs).
    .into_any()
}

/// One registered webhook: URL, events, key, and its buttons.
#[component]
fn Webhook(
    hook: WebhookInfo,
    delete: ServerAction<DeleteWebhook>,
    rotate: ServerAction<RotateWebhookSecret>,
) -> impl IntoView {
    let t = ConsoleStrings::of(crate::i18n::Lang::current()).webhooks;
    let events = hook
        .events
        .iter()
        .map(|e| (t.event)(*e))
        .collect::<Vec<_>>()
        .join(", ");
    let id = hook.id;
    view! {
        <div class="webhook" data-testid="webhook">
            <p><strong class="url">{hook.url}</strong>" "<span class="muted">{events}</span></p>
            <p>{t.secret}": "<code class="secret" data-testid="webhook-secret">{hook.secret}</code></p>
            <div class="row-form">
                <ActionForm action=rotate>
                    <input type="hidden" name="id" value=id.to_string() />
                    <button type="submit">{t.rotate}</button>
                </ActionForm>
                <ActionForm action=delete>
                    <input type="hidden" name="id" value=id.to_string() />
                    <button type="submit" class="danger">{t.remove}</button>
                </ActionForm>
            </div>
        </div>
    }
}

/// The recent deliveries, newest first.
#[component]
fn Deliveries(list: Vec<WebhookDelivery>) -> impl IntoView {
    let t = ConsoleStrings::of(crate::i18n::Lang::current()).webhooks;
    view! {
        <table class="deliveries">
            <thead><tr>
                <th>{t.event_column}</th>
                <th>{t.status_column}</th>
                <th>{t.attempts_column}</th>
                <th>{t.error_column}</th>
            </tr></thead>
            <tbody>
                {list.into_iter().map(|d| {
                    let error = match (d.last_error, d.last_status) {
                        (Some(e), _) => e,
                        (None, Some(status)) => status.to_string(),
                        (None, None) => String::new(),
                    };
                    view! {
                        <tr data-testid="webhook-delivery" data-status=d.status.as_str() title=d.event_id>
                            <td>{d.event_type}</td>
                            <td>{(t.status)(d.status)}</td>
                            <td>{d.attempts}</td>
                            <td>{error}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
