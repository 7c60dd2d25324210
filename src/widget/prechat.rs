//! The pre-chat form: the visitor's name and email, each asked only if an
//! admin turned it on, and required only if they said so. The chat starts
//! once it is sent; what was given labels the visitor for agents.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::state::WidgetState;
use super::strings::WidgetStrings;
use crate::protocol::settings::{FieldRule, WidgetSettings};

/// The form, with the fields `settings` asks for.
#[component]
pub fn PrechatForm(state: WidgetState, settings: Signal<WidgetSettings>) -> impl IntoView {
    let s = WidgetStrings::of(crate::i18n::Lang::current());
    let name = NodeRef::<leptos::html::Input>::new();
    let email = NodeRef::<leptos::html::Input>::new();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let value = |input: NodeRef<leptos::html::Input>| {
            input
                .get_untracked()
                .map(|i| i.value().trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        state.give_profile(value(name), value(email));
    };
    let field = move |rule: FieldRule| (rule.asked(), rule == FieldRule::Required);
    let (name_asked, name_required) = field(settings.with_untracked(|c| c.prechat_name));
    let (email_asked, email_required) = field(settings.with_untracked(|c| c.prechat_email));
    let label = move |text: &'static str, required: bool| {
        if required {
            text.to_owned()
        } else {
            format!("{text} {}", s.optional)
        }
    };
    view! {
        <form class="prechat-form" data-testid="prechat-form" on:submit=submit>
            <p>{s.prechat_intro}</p>
            {name_asked.then(|| view! {
                <label>
                    {label(s.your_name, name_required)}
                    <input node_ref=name name="name" autocomplete="name" maxlength="80" required=name_required />
                </label>
            })}
            {email_asked.then(|| view! {
                <label>
                    {label(s.your_email, email_required)}
                    <input node_ref=email name="email" type="email" autocomplete="email" maxlength="254" required=email_required />
                </label>
            })}
            <button type="submit">{s.start_chat}</button>
        </form>
    }
}
