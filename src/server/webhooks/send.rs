//! One delivery over HTTP: the signed POST, its answer read with a size
//! limit, and what the try comes to.
//!
//! The signature (docs/OPERATIONS.md, "Webhooks"): header
//! `X-Kefu-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.

use std::net::SocketAddr;

use super::target;
use crate::server::secrets::hmac_sha256_hex;
use crate::server::storage::DueDelivery;

/// Most of a receiver's answer read (the rest is dropped unread).
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// `X-Kefu-Signature`'s value for `body` sent at unix second `t`.
pub fn signature(secret: &str, t: u64, body: &str) -> String {
    let t_text = t.to_string();
    let hex = hmac_sha256_hex(secret, &[t_text.as_bytes(), b".", body.as_bytes()]);
    format!("t={t},v1={hex}")
}

/// How a try went: `Ok(status)` for a 2xx answer, otherwise why not and
/// the status if the receiver answered.
pub type Tried = Result<u16, (String, Option<u16>)>;

/// Sends `d` once.
pub async fn send(
    client: &reqwest::Client,
    d: &DueDelivery,
    own: Option<SocketAddr>,
    deny_private: bool,
) -> Tried {
    let refused = |r: target::Refusal| (r.name().to_owned(), None);
    let url = target::parse(&d.url).map_err(refused)?;
    target::check(&url, own, deny_private)
        .await
        .map_err(refused)?;
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let sent = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("X-Kefu-Signature", signature(&d.secret, t, &d.payload))
        .header("X-Kefu-Event", &d.event_type)
        .header("X-Kefu-Delivery", &d.event_id)
        .body(d.payload.clone())
        .send()
        .await;
    let mut answer = match sent {
        Ok(answer) => answer,
        Err(e) => return Err((failure(&e).to_owned(), None)),
    };
    let status = answer.status().as_u16();
    // Read (and drop) at most MAX_ANSWER_BYTES, within the same timeout.
    let mut read = 0;
    while read < MAX_ANSWER_BYTES {
        match answer.chunk().await {
            Ok(Some(chunk)) => read += chunk.len(),
            Ok(None) => break,
            Err(e) if e.is_timeout() => return Err(("timeout".to_owned(), Some(status))),
            Err(_) => break,
        }
    }
    if (200..300).contains(&status) {
        Ok(status)
    } else {
        Err((format!("http_{status}"), Some(status)))
    }
}

/// A short name for a request that got no answer.
fn failure(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else {
        "request"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same as `printf '%s' "1700000000.{}" | openssl dgst -sha256 -hmac s3cret`.
    #[test]
    fn the_signature_is_hmac_sha256_over_time_dot_body() {
        assert_eq!(
            signature("s3cret", 1_700_000_000, "{}"),
            "t=1700000000,v1=97926816e98fbb41ccb1673225ff29a2f35369099990e1b1561651e7bd097ebf"
        );
    }
}
