//! What admins set in the console, as the edge serves it: the server
//! functions' bodies (read, save, the widget's boot), and `/embed/config`,
//! which `embed.js` reads from the host page before any wasm loads.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use super::origins::{may_embed, same_origin};
use crate::error::{AppError, Invalid};
use crate::protocol::hours::BusinessHours;
use crate::protocol::settings::{self, FieldRule, Position, SiteSettings, WidgetSettings};
use crate::protocol::{AgentInfo, ErrorCode, WidgetBoot};
use crate::server::{state, AppState};

/// The settings form as posted (every field text; see [`parse`]).
#[derive(Debug, Clone, Default)]
pub struct SettingsForm {
    /// `#rrggbb`.
    pub color: String,
    /// Panel title.
    pub title: String,
    /// Greeting before the first message.
    pub greeting: String,
    /// `right` or `left`.
    pub position: String,
    /// Text shown when no agent is online.
    pub offline_text: String,
    /// `off`, `optional` or `required`.
    pub prechat_name: String,
    /// `off`, `optional` or `required`.
    pub prechat_email: String,
    /// One origin per line (commas and blanks separate too).
    pub allowed_origins: String,
    /// The draft preview checkbox: present (`on`) when ticked.
    pub draft_preview: Option<String>,
}

/// Reads and checks a posted form: the settings to save, or the first
/// refusal (nothing is saved then).
pub fn parse(form: SettingsForm) -> Result<SiteSettings, AppError> {
    let position = match form.position.as_str() {
        "right" => Position::Right,
        "left" => Position::Left,
        _ => return Err(AppError::Invalid(Invalid::Form)),
    };
    let rule = |v: &str| FieldRule::parse(v).ok_or(AppError::Invalid(Invalid::Form));
    let settings = SiteSettings {
        widget: WidgetSettings {
            color: form.color,
            title: form.title,
            greeting: form.greeting,
            position,
            offline_text: form.offline_text,
            prechat_name: rule(&form.prechat_name)?,
            prechat_email: rule(&form.prechat_email)?,
        },
        allowed_origins: form
            .allowed_origins
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|o| !o.is_empty())
            .map(str::to_owned)
            .collect(),
        draft_preview: form.draft_preview.is_some(),
        // Saved by their own form (`save_business_hours`), kept as they are.
        hours: Default::default(),
    };
    settings.checked().map_err(|code| {
        AppError::Invalid(match code {
            ErrorCode::BadColor => Invalid::Color,
            ErrorCode::BadOrigin => Invalid::Origin,
            ErrorCode::SettingTooLong => Invalid::SettingTooLong,
            _ => Invalid::Form,
        })
    })
}

/// See [`crate::api::site_settings`].
pub fn site_settings(agent: &AgentInfo) -> Result<SiteSettings, AppError> {
    if !agent.is_admin {
        return Err(AppError::Forbidden);
    }
    Ok((*state().site.get()).clone())
}

/// See [`crate::api::save_site_settings`].
pub async fn save_site_settings(
    agent: &AgentInfo,
    form: SettingsForm,
) -> Result<SiteSettings, AppError> {
    if !agent.is_admin {
        return Err(AppError::Forbidden);
    }
    let state = state();
    let settings = SiteSettings {
        hours: state.site.get().hours.clone(),
        ..parse(form)?
    };
    state.site.save(&state.storage, settings.clone()).await?;
    state.hub.settings_saved();
    tracing::info!(admin = %agent.name, "site settings saved");
    Ok(settings)
}

/// See [`crate::api::save_business_hours`].
pub async fn save_business_hours(
    agent: &AgentInfo,
    hours: BusinessHours,
) -> Result<BusinessHours, AppError> {
    if !agent.is_admin {
        return Err(AppError::Forbidden);
    }
    let hours = hours.checked().map_err(|code| {
        AppError::Invalid(match code {
            ErrorCode::BadTimeZone => Invalid::TimeZone,
            _ => Invalid::Hours,
        })
    })?;
    if !crate::server::hours::known_zone(&hours.time_zone) {
        return Err(AppError::Invalid(Invalid::TimeZone));
    }
    let state = state();
    let settings = SiteSettings {
        hours: hours.clone(),
        ..(*state.site.get()).clone()
    };
    state.site.save(&state.storage, settings).await?;
    state.hub.settings_saved();
    state
        .hub
        .set_hours(crate::server::hours::gate(&hours, jiff::Timestamp::now()));
    tracing::info!(admin = %agent.name, enabled = hours.enabled, "business hours saved");
    Ok(hours)
}

/// See [`crate::api::widget_boot`].
pub fn widget_boot(embed_origin: Option<&str>) -> WidgetBoot {
    let state = state();
    let site = state.site.get();
    WidgetBoot {
        online: state.hub.agents_online(),
        settings: site.widget.clone(),
        embed_allowed: embed_origin.map(|o| may_embed(&state.security.config, &site, o)),
        back_at: state.hub.back_at(),
    }
}

/// What `embed.js` needs to draw the launcher on the host page.
#[derive(Debug, Serialize)]
struct EmbedConfig<'a> {
    online: bool,
    color: &'a str,
    position: Position,
}

/// `GET /embed/config`: the launcher's look for a host page of an allowed
/// site (its Origin header), or `403 {"code":"origin_not_allowed"}` — with
/// the CORS header either way, so that `embed.js` can read why and say so
/// in the host page's console. A request without Origin (same origin, or
/// not a browser) is answered.
pub async fn config(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let site = state.site.get();
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .filter(|o| !same_origin(o, &headers));
    let allowed = origin.is_none_or(|o| may_embed(&state.security.config, &site, o));
    let mut response = if allowed {
        Json(EmbedConfig {
            online: state.hub.agents_online(),
            color: &site.widget.color,
            position: site.widget.position,
        })
        .into_response()
    } else {
        tracing::warn!(origin = ?origin, "refused to embed the chat on a site not allowed");
        (
            StatusCode::FORBIDDEN,
            Json(serde_json::json!({ "code": ErrorCode::OriginNotAllowed })),
        )
            .into_response()
    };
    let headers_out = response.headers_mut();
    if let Some(value) = origin.and_then(|o| HeaderValue::from_str(o).ok()) {
        headers_out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        headers_out.insert(header::VARY, HeaderValue::from_static("origin"));
    }
    headers_out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `GET /theme.css?c=rrggbb`: the widget's brand colour as a stylesheet
/// (a file, so the page's CSP needs no inline style). The colour is in the
/// address, so the answer never changes: cached for good.
pub async fn theme(uri: axum::http::Uri) -> Response {
    let asked = uri.query().and_then(|q| {
        q.split('&')
            .find_map(|p| p.strip_prefix("c="))
            .and_then(|hex| settings::color(&format!("#{hex}")))
    });
    let Some(color) = asked else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        format!(":root{{--accent:{color}}}\n"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> SettingsForm {
        SettingsForm {
            color: "#112233".into(),
            position: "left".into(),
            prechat_name: "required".into(),
            prechat_email: "optional".into(),
            allowed_origins: "https://a.example\r\n http://localhost:8080 ,https://a.example/"
                .into(),
            ..SettingsForm::default()
        }
    }

    #[test]
    fn a_form_reads_into_checked_settings() {
        let s = parse(form()).expect("valid");
        assert!(!s.draft_preview, "an unticked box turns previews off");
        let ticked = SettingsForm {
            draft_preview: Some("on".into()),
            ..form()
        };
        assert!(parse(ticked).expect("valid").draft_preview);
        assert_eq!(s.widget.position, Position::Left);
        assert_eq!(s.widget.prechat_name, FieldRule::Required);
        assert_eq!(s.widget.prechat_email, FieldRule::Optional);
        assert_eq!(
            s.allowed_origins,
            vec!["https://a.example", "http://localhost:8080"]
        );
    }

    #[test]
    fn each_wrong_value_is_refused_with_its_code() {
        type Spoil = fn(&mut SettingsForm);
        let cases: [(Spoil, Invalid); 5] = [
            (|f| f.color = "red".into(), Invalid::Color),
            (
                |f| f.allowed_origins = "shop.example".into(),
                Invalid::Origin,
            ),
            (|f| f.greeting = "x".repeat(501), Invalid::SettingTooLong),
            (|f| f.position = "top".into(), Invalid::Form),
            (|f| f.prechat_email = "maybe".into(), Invalid::Form),
        ];
        for (spoil, expected) in cases {
            let mut f = form();
            spoil(&mut f);
            assert_eq!(parse(f), Err(AppError::Invalid(expected)));
        }
    }
}
