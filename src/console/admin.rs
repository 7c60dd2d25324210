//! Admins' panel: the agent list and the add-agent form.

use leptos::prelude::*;

use super::strings::{error_text, EN};
use crate::accounts::DEFAULT_CAPACITY;
use crate::api::{list_agents, AddAgent};

/// The agents panel (shown to admins).
#[component]
pub fn AgentsPanel() -> impl IntoView {
    let s = EN;
    let add = ServerAction::<AddAgent>::new();
    let agents = Resource::new(move || add.version().get(), |_| list_agents());
    let outcome = move || {
        add.value().with(|v| {
            v.as_ref().map(|r| match r {
                Ok(agent) => ("ok", (s.agent_added)(&agent.name)),
                Err(e) => ("form-error", error_text(e)),
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
                            .map(|a| view! {
                                <li data-testid="agent-row">
                                    <span>{a.name}</span>
                                    <span class="muted">{format!("{}: {}", s.capacity, a.capacity)}</span>
                                    {a.is_admin.then(|| view! { <span class="tag">{s.admin}</span> })}
                                </li>
                            })
                            .collect_view()
                            .into_any(),
                        Err(e) => view! { <li class="form-error">{error_text(&e)}</li> }.into_any(),
                    })}
                </ul>
            </Transition>
            <ActionForm action=add attr:data-testid="add-agent-form" attr:class="inline-form">
                <label>{s.name}<input name="name" required /></label>
                <label>{s.password}<input name="password" type="password" required minlength="8" autocomplete="new-password" /></label>
                <label>{s.capacity}<input name="capacity" type="number" min="1" max="100" value=DEFAULT_CAPACITY.to_string() required /></label>
                <label class="check"><input name="admin" type="checkbox" />{s.admin}</label>
                <button type="submit">{s.add_agent}</button>
            </ActionForm>
            {move || outcome().map(|(class, text)| view! { <p class=class role="status">{text}</p> })}
        </section>
    }
}
