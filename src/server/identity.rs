//! Signed identities: the check of the token a website's backend signs for
//! its signed-in user, so that kefu can trust "this is user 42" and give
//! them the same conversation on every device. Pure: the secrets and the
//! clock come in as arguments (storage and the socket live elsewhere).
//!
//! `token = payload + "." + hex(HMAC-SHA256(secret, payload))`, where
//! `payload` is the unpadded base64url of a JSON object
//! `{"user_id": "...", "name"?: "...", "email"?: "...", "exp": <unix seconds>}`
//! and `secret` the admin's current secret, its ASCII text as the key
//! (docs/PROTOCOL.md §2 gives a shell recipe).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::profile::{clean_email, clean_profile_name};
use crate::protocol::ErrorCode;

/// Longest `user_id`, in characters.
pub const MAX_USER_ID_CHARS: usize = 128;
/// Longest token read at all, in bytes (payload with the longest fields,
/// escaped, and the signature fit well within it).
pub const MAX_TOKEN_BYTES: usize = 4096;
/// Furthest ahead an `exp` may lie: a leaked token cannot live forever.
pub const MAX_LIFETIME_SECS: i64 = 30 * 24 * 3600;

type HmacSha256 = Hmac<Sha256>;

/// What a valid token says about the visitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// The website's id for its user: 1–[`MAX_USER_ID_CHARS`] characters.
    pub user_id: String,
    /// Their name (cleaned as a profile name), if the site gave one.
    pub name: Option<String>,
    /// Their email (cleaned as a profile email), if the site gave one.
    pub email: Option<String>,
    /// When the token stops being accepted (unix seconds).
    pub exp: i64,
}

/// Why a token was refused. The socket tells the visitor only the coarse
/// [`Refusal::code`]; the precise reason goes to the server's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not `payload.signature`, not base64url or hex, not the JSON object,
    /// or over [`MAX_TOKEN_BYTES`].
    #[error("malformed")]
    Malformed,
    /// The signature matches no secret, current or retired.
    #[error("bad signature")]
    BadSignature,
    /// Signed with a secret an admin rotated out.
    #[error("signed with a retired secret")]
    RetiredSecret,
    /// `exp` is now or past.
    #[error("expired")]
    Expired,
    /// `exp` is more than [`MAX_LIFETIME_SECS`] ahead.
    #[error("expires too far ahead")]
    TooFarAhead,
    /// `user_id` is empty or too long, or `name` or `email` would be refused
    /// in a profile.
    #[error("a field is empty, too long or ill-formed")]
    BadField,
}

impl Refusal {
    /// The code the visitor's socket is told.
    pub fn code(self) -> ErrorCode {
        match self {
            Refusal::Expired => ErrorCode::IdentityExpired,
            Refusal::RetiredSecret => ErrorCode::IdentityRetired,
            Refusal::Malformed
            | Refusal::BadSignature
            | Refusal::TooFarAhead
            | Refusal::BadField => ErrorCode::IdentityInvalid,
        }
    }
}

/// The payload as signed (unknown fields are ignored).
#[derive(Deserialize)]
struct Payload {
    user_id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    exp: i64,
}

/// Whether `signature` is `secret`'s HMAC of `payload` (constant time).
fn signed_with(secret: &str, payload: &str, signature: &[u8]) -> bool {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    HmacSha256::new_from_slice(secret.as_bytes()).is_ok_and(|mut mac| {
        mac.update(payload.as_bytes());
        mac.verify_slice(signature).is_ok()
    })
}

/// Decodes 64 hex digits (either case) into the 32 bytes of a SHA-256 MAC.
fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect()
}

/// Checks `token` against the `current` secret (and the `retired` ones,
/// only to say why it is refused) at `now` (unix seconds).
pub fn verify(token: &str, current: &str, retired: &[String], now: i64) -> Result<Claims, Refusal> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(Refusal::Malformed);
    }
    let (payload, signature) = token.split_once('.').ok_or(Refusal::Malformed)?;
    let signature = decode_hex(signature).ok_or(Refusal::Malformed)?;
    if !signed_with(current, payload, &signature) {
        return Err(
            if retired
                .iter()
                .any(|old| signed_with(old, payload, &signature))
            {
                Refusal::RetiredSecret
            } else {
                Refusal::BadSignature
            },
        );
    }
    let json = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| Refusal::Malformed)?;
    let claims: Payload = serde_json::from_slice(&json).map_err(|_| Refusal::Malformed)?;
    let user_id_chars = claims.user_id.chars().count();
    if user_id_chars == 0 || user_id_chars > MAX_USER_ID_CHARS {
        return Err(Refusal::BadField);
    }
    let name = match claims.name.as_deref() {
        Some(name) => clean_profile_name(name).map_err(|_| Refusal::BadField)?,
        None => None,
    };
    let email = match claims.email.as_deref() {
        Some(email) => clean_email(email).map_err(|_| Refusal::BadField)?,
        None => None,
    };
    if claims.exp <= now {
        return Err(Refusal::Expired);
    }
    if claims.exp > now.saturating_add(MAX_LIFETIME_SECS) {
        return Err(Refusal::TooFarAhead);
    }
    Ok(Claims {
        user_id: claims.user_id,
        name,
        email,
        exp: claims.exp,
    })
}

/// Makes a token as a website's backend would (tests and tools).
pub fn sign(secret: &str, payload_json: &str) -> String {
    let payload = URL_SAFE_NO_PAD.encode(payload_json);
    let hex = crate::server::secrets::hmac_sha256_hex(secret, &[payload.as_bytes()]);
    format!("{payload}.{hex}")
}

#[cfg(test)]
mod tests;
