//! The widget's server function (`visitor_history`), as the visitor's bundle calls it:
//! the same requests as the `#[server]` client stubs (`POST /api/<name>`,
//! form-encoded arguments, a JSON answer, an [`AppError`] in JSON for a
//! 4xx/5xx status), sent with the browser's own `fetch`. The stubs bring
//! server_fn's generic client (request builders, query-string encoder,
//! streaming bodies), about 12 KiB of the visitor's wasm after brotli.

use leptos::__reexports::send_wrapper::SendWrapper;
use leptos::__reexports::wasm_bindgen_futures::JsFuture;
use serde::de::DeserializeOwned;
use std::future::Future;
use wasm_bindgen::{JsCast, JsValue};

use super::VisitorThread;
use crate::error::AppError;

/// The newest conversation of the visitor holding `token`, or the page of
/// messages with seq below `before`. See the server side in `crate::api`.
pub fn visitor_history(
    token: String,
    before: Option<i64>,
    identity: Option<String>,
) -> impl Future<Output = Result<Option<VisitorThread>, AppError>> + Send {
    let mut form = format!("token={}", js_sys::encode_uri_component(&token));
    if let Some(before) = before {
        form.push_str(&format!("&before={before}"));
    }
    if let Some(identity) = identity {
        form.push_str(&format!(
            "&identity={}",
            js_sys::encode_uri_component(&identity)
        ));
    }
    call("visitor_history", form)
}

/// Posts `form` to `/api/<endpoint>` and reads the answer as the stubs do.
fn call<T: DeserializeOwned>(
    endpoint: &'static str,
    form: String,
) -> impl Future<Output = Result<T, AppError>> + Send {
    // The browser's futures stay on its one thread; Resource asks for Send.
    SendWrapper::new(async move {
        let (status, body) = post(&format!("/api/{endpoint}"), &form)
            .await
            .map_err(|_| {
                AppError::Transport("error reaching server to call server function".into())
            })?;
        let unreadable = |e: serde_json::Error| {
            AppError::Transport(format!("error deserializing server function results: {e}"))
        };
        if (400..=599).contains(&status) {
            return Err(serde_json::from_str(&body).unwrap_or_else(unreadable));
        }
        serde_json::from_str(&body).map_err(unreadable)
    })
}

/// The status and text of the answer to `POST path` with `form`.
async fn post(path: &str, form: &str) -> Result<(u16, String), JsValue> {
    let headers = web_sys::Headers::new()?;
    headers.set("Content-Type", "application/x-www-form-urlencoded")?;
    headers.set("Accept", "application/json")?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&JsValue::from_str(form));
    let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(path, &init))
        .await?
        .dyn_into()?;
    let text = JsFuture::from(response.text()?).await?;
    Ok((response.status(), text.as_string().unwrap_or_default()))
}
