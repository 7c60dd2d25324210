//! Admins' settings panel: the widget's look and words, its pre-chat form,
//! the sites that may embed it, whether agents see visitors' drafts, and
//! (below) the identity secret and the webhooks. Saved in one step; a refused value
//! says why in the form and nothing is saved.

use leptos::prelude::*;

use super::hours::HoursPanel;
use super::identity::IdentityPanel;
use super::strings::ConsoleStrings;
use super::webhooks::WebhooksPanel;
use crate::api::{get_site_settings, SaveSiteSettings};
use crate::protocol::settings::{FieldRule, Position, SiteSettings};

/// The settings panel (shown to admins).
#[component]
pub fn SettingsPanel() -> impl IntoView {
    let s = ConsoleStrings::of(crate::i18n::Lang::current());
    let save = ServerAction::<SaveSiteSettings>::new();
    let current = Resource::new(move || save.version().get(), |_| get_site_settings());
    let outcome = move || {
        save.value().with(|v| {
            v.as_ref().map(|r| match r {
                Ok(_) => ("ok", s.settings.saved.to_owned()),
                Err(e) => ("form-error", s.error_text(e)),
            })
        })
    };
    view! {
        <section class="settings-panel" data-testid="settings-panel">
            <h2>{s.settings.heading}</h2>
            <Transition fallback=move || view! { <p>{s.loading}</p> }>
                {move || current.get().map(|r| match r {
                    Ok(site) => view! { <SettingsForm site save /> }.into_any(),
                    Err(e) => view! { <p class="form-error">{s.error_text(&e)}</p> }.into_any(),
                })}
            </Transition>
            {move || outcome().map(|(class, text)| view! {
                <p class=class role="status" data-testid="settings-outcome">{text}</p>
            })}
        </section>
        <IdentityPanel />
        <HoursPanel />
        <WebhooksPanel />
    }
    // Type-erased: four panels in one view made the console's render future
    // too big for a debug build's 2 MiB worker stack (tests/pages.rs).
    .into_any()
}

/// The form, filled with what is stored.
#[component]
fn SettingsForm(site: SiteSettings, save: ServerAction<SaveSiteSettings>) -> impl IntoView {
    let s = ConsoleStrings::of(crate::i18n::Lang::current());
    let t = s.settings;
    let w = site.widget;
    let rule = move |name: &'static str, chosen: FieldRule| {
        view! {
            <select name=name>
                {[FieldRule::Off, FieldRule::Optional, FieldRule::Required].map(|r| view! {
                    <option value=r.as_str() selected=r == chosen>{(t.rule)(r)}</option>
                })}
            </select>
        }
    };
    view! {
        <ActionForm action=save attr:data-testid="settings-form" attr:class="settings-form">
            <fieldset>
                <legend>{t.look}</legend>
                <label>{t.color}<input name="color" value=w.color.clone() maxlength="7" size="8" /></label>
                <label>{t.title}<input name="title" value=w.title.clone() placeholder=t.default_words /></label>
                <label>{t.greeting}<textarea name="greeting" rows="2" placeholder=t.no_greeting>{w.greeting.clone()}</textarea></label>
                <label>{t.offline_text}<textarea name="offline_text" rows="2" placeholder=t.default_words>{w.offline_text.clone()}</textarea></label>
                <label>
                    {t.position}
                    <select name="position">
                        <option value="right" selected=w.position == Position::Right>{t.right}</option>
                        <option value="left" selected=w.position == Position::Left>{t.left}</option>
                    </select>
                </label>
            </fieldset>
            <fieldset>
                <legend>{t.prechat}</legend>
                <label>{t.prechat_name}{rule("prechat_name", w.prechat_name)}</label>
                <label>{t.prechat_email}{rule("prechat_email", w.prechat_email)}</label>
            </fieldset>
            <fieldset>
                <legend>{t.sites}</legend>
                <p class="muted">{t.sites_hint}</p>
                <textarea name="allowed_origins" rows="3" placeholder="https://shop.example">
                    {site.allowed_origins.join("\n")}
                </textarea>
            </fieldset>
            <fieldset>
                <legend>{t.agents_see}</legend>
                <label class="check">
                    <input type="checkbox" name="draft_preview" data-testid="draft-preview-setting" checked=site.draft_preview />
                    {t.draft_preview}
                </label>
                <p class="muted">{t.draft_preview_hint}</p>
            </fieldset>
            <button type="submit">{s.save}</button>
        </ActionForm>
    }
}
