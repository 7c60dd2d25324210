//! Admins' panel: the agent list (capacity, disable, password, remove), the
//! add-agent form, and identity verification's secret (`identity.rs`).

use leptos::prelude::*;

use super::strings::ConsoleStrings;
use crate::accounts::DEFAULT_CAPACITY;
use crate::api::{list_agents, AddAgent, RemoveAgent, ResetPassword, UpdateAgent};
use crate::protocol::AgentInfo;

/// The agents panel (shown to admins).
#[component]
pub fn AgentsPanel() -> impl IntoView {
    let s = ConsoleStrings::of(crate::i18n::Lang::current());
    let add = ServerAction::<AddAgent>::new();
    let update = ServerAction::<UpdateAgent>::new();
    let remove = ServerAction::<RemoveAgent>::new();
    let reset = ServerAction::<ResetPassword>::new();
    let agents = Resource::new(
        move || {
            (
                add.version().get(),
                update.version().get(),
                remove.version().get(),
            )
        },
        |_| list_agents(),
    );
    let added = move || {
        add.value().with(|v| {
            v.as_ref().map(|r| match r {
                Ok(agent) => ("ok", (s.agent_added)(&agent.name)),
                Err(e) => ("form-error", s.error_text(e)),
            })
        })
    };
    let refused = move || {
        let update_error = update.value().with(|v| {
            v.as_ref()
                .and_then(|r| r.as_ref().err())
                .map(|e| s.error_text(e))
        });
        let remove_error = remove.value().with(|v| {
            v.as_ref()
                .and_then(|r| r.as_ref().err())
                .map(|e| s.error_text(e))
        });
        update_error.or(remove_error)
    };
    let was_reset = move || {
        reset.value().with(|v| {
            v.as_ref().map(|r| match r {
                Ok(agent) => ("ok", (s.accounts.password_set)(&agent.name)),
                Err(e) => ("form-error", s.error_text(e)),
            })
        })
    };
    view! {
        <section class="agents-panel" data-testid="agents-panel">
            <h2>{s.agents}</h2>
            <Transition fallback=move || view! { <p>{s.loading}</p> }>
                <ul class="agent-list">
                    {move || agents.get().map(|r| match r {
                        Ok(list) => list
                            .into_iter()
                            .map(|a| view! { <AgentRow agent=a update remove reset /> })
                            .collect_view()
                            .into_any(),
                        Err(e) => view! { <li class="form-error">{s.error_text(&e)}</li> }.into_any(),
                    })}
                </ul>
            </Transition>
            {move || refused().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            {move || was_reset().map(|(class, text)| view! { <p class=class data-testid="reset-outcome" role="status">{text}</p> })}
            <ActionForm action=add attr:data-testid="add-agent-form" attr:class="inline-form">
                <label>{s.name}<input name="name" required /></label>
                <label>{s.password}<input name="password" type="password" required minlength="8" autocomplete="new-password" /></label>
                <label>{s.capacity}<input name="capacity" type="number" min="1" max="100" value=DEFAULT_CAPACITY.to_string() required /></label>
                <label class="check"><input name="admin" type="checkbox" />{s.admin}</label>
                <button type="submit">{s.add_agent}</button>
            </ActionForm>
            {move || added().map(|(class, text)| view! { <p class=class role="status">{text}</p> })}
        </section>
    }
}

/// One agent: name, capacity and enabled state (editable), remove.
#[component]
fn AgentRow(
    agent: AgentInfo,
    update: ServerAction<UpdateAgent>,
    remove: ServerAction<RemoveAgent>,
    reset: ServerAction<ResetPassword>,
) -> impl IntoView {
    let s = ConsoleStrings::of(crate::i18n::Lang::current());
    let id = agent.id.0.to_string();
    let remove_id = id.clone();
    let reset_id = id.clone();
    let a = s.accounts;
    let (status, status_text) = match (agent.online, agent.away) {
        (Some(true), false) => ("online", a.online),
        (Some(true), true) => ("away", a.away),
        _ => ("offline", a.offline),
    };
    let load = (s.load)(agent.load.unwrap_or(0) as usize, agent.capacity);
    view! {
        <li data-testid="agent-row" data-name=agent.name.clone() class:disabled=agent.disabled>
            <span class="agent-name">{agent.name.clone()}</span>
            {agent.is_admin.then(|| view! { <span class="tag">{s.admin}</span> })}
            <span class="muted" data-testid="agent-presence" data-status=status>{status_text}</span>
            <span class="muted" data-testid="agent-load">{load}</span>
            <ActionForm action=update attr:class="row-form" attr:data-testid="update-agent-form">
                <input type="hidden" name="id" value=id />
                <label>{s.capacity}<input name="capacity" type="number" min="1" max="100" value=agent.capacity.to_string() required /></label>
                <label class="check"><input name="disabled" type="checkbox" checked=agent.disabled />{s.disabled}</label>
                <button type="submit">{s.save}</button>
            </ActionForm>
            <ActionForm action=reset attr:class="row-form" attr:data-testid="reset-password-form">
                <input type="hidden" name="id" value=reset_id />
                <label>{s.accounts.set_password}<input name="password" type="password" required minlength="8" autocomplete="new-password" /></label>
                <button type="submit">{s.save}</button>
            </ActionForm>
            <ActionForm action=remove attr:class="row-form">
                <input type="hidden" name="id" value=remove_id />
                <button type="submit" class="danger" data-testid="remove-agent">{s.remove}</button>
            </ActionForm>
        </li>
    }
}
