//! Who a visitor is: the one a valid signed identity names (on any device),
//! else the anonymous one their token names (stored, or held by the hub
//! until stored), else a new one. Used by
//! `hello` and by `visitor_history`, so that both honour the same tokens.
//!
//! A verified visitor's tokens are honoured only beside a valid identity
//! of that same user: when the website stops vouching (the user signed
//! out, the identity expired or was forged), the browser is anonymous
//! again and sees none of that user's history.

use crate::protocol::ErrorCode;
use crate::server::hub::Hub;
use crate::server::identity::{self, Claims, Refusal};
use crate::server::secrets::{new_token, token_hash};
use crate::server::storage::{Storage, StoreResult, VisitorId, VisitorProfile};

/// Longest visitor token looked up; longer ones are unknown.
const MAX_TOKEN_LEN: usize = 128;

/// The outcome of [`identify`].
#[derive(Debug)]
pub struct Identified {
    /// The visitor.
    pub visitor: VisitorId,
    /// A token issued now (for `welcome`), when the one given did not do.
    pub issued: Option<String>,
    /// The signed label, when a valid identity named the visitor.
    pub verified: Option<VisitorProfile>,
    /// Why the identity given was refused (the visitor is anonymous).
    pub refused: Option<ErrorCode>,
    /// The issued token's hash, for a new visitor not stored yet (the hub
    /// holds them until they do something worth keeping).
    pub unstored: Option<Vec<u8>>,
}

/// Unix seconds now.
fn now_secs() -> i64 {
    crate::server::storage::now_ms() / 1000
}

/// Checks a signed identity against the stored secrets (making the first
/// one if none exists yet). The precise reason for a refusal is logged.
pub async fn check(storage: &Storage, token: &str) -> StoreResult<Result<Claims, Refusal>> {
    let secrets = storage.identity_secrets(&new_token()).await?;
    let checked = identity::verify(token, &secrets.current, &secrets.retired, now_secs());
    if let Err(refusal) = &checked {
        tracing::info!(%refusal, "a visitor's signed identity was refused");
    }
    Ok(checked)
}

/// The token's hash, if it is short enough to look up.
fn hash_of(token: Option<&str>) -> Option<Vec<u8>> {
    token.filter(|t| t.len() <= MAX_TOKEN_LEN).map(token_hash)
}

/// The visitor behind `hello`'s `token` and `identity` (a new one, not
/// stored yet, if needed; a token is issued for a device that lacks one).
pub async fn identify(
    storage: &Storage,
    hub: &Hub,
    token: Option<&str>,
    identity: Option<&str>,
) -> StoreResult<Identified> {
    let hash = hash_of(token);
    let mut refused = None;
    if let Some(identity) = identity {
        match check(storage, identity).await? {
            Ok(claims) => {
                let Claims {
                    user_id,
                    name,
                    email,
                    ..
                } = claims;
                let visitor = storage
                    .identified_visitor(
                        &user_id,
                        name.as_deref(),
                        email.as_deref(),
                        &token_hash(&new_token()),
                    )
                    .await?;
                let held = match &hash {
                    Some(hash) => storage.verified_by_token(hash, &user_id).await? == Some(visitor),
                    None => false,
                };
                let issued = if held {
                    None
                } else {
                    let token = new_token();
                    storage
                        .add_visitor_token(visitor, &token_hash(&token))
                        .await?;
                    Some(token)
                };
                return Ok(Identified {
                    visitor,
                    issued,
                    verified: Some(VisitorProfile {
                        name,
                        email,
                        verified: true,
                    }),
                    refused: None,
                    unstored: None,
                });
            }
            Err(refusal) => refused = Some(refusal.code()),
        }
    }
    let known = match &hash {
        Some(hash) => match storage.visitor_by_token(hash).await? {
            Some(visitor) => Some(visitor),
            None => hub.unstored_by_token(hash),
        },
        None => None,
    };
    let (visitor, issued, unstored) = match known {
        Some(visitor) => (visitor, None, None),
        None => {
            // Nothing is stored for nobody: an id and a token now, the row
            // when they first do something worth keeping (`hub/unstored.rs`).
            let token = new_token();
            let visitor = storage.reserve_visitor_id().await?;
            (visitor, Some(token.clone()), Some(token_hash(&token)))
        }
    };
    Ok(Identified {
        visitor,
        issued,
        verified: None,
        refused,
        unstored,
    })
}

/// The visitor whose history `token` (with `identity`, for a verified
/// visitor) may read: as [`identify`], but never creating or issuing.
pub async fn holder(
    storage: &Storage,
    token: &str,
    identity: Option<&str>,
) -> StoreResult<Option<VisitorId>> {
    let Some(hash) = hash_of(Some(token)) else {
        return Ok(None);
    };
    if let Some(identity) = identity {
        if let Ok(claims) = check(storage, identity).await? {
            if let Some(visitor) = storage.verified_by_token(&hash, &claims.user_id).await? {
                return Ok(Some(visitor));
            }
        }
    }
    storage.visitor_by_token(&hash).await
}

/// The connected visitor not stored yet whose token this is, if any.
pub fn unstored(hub: &Hub, token: &str) -> Option<VisitorId> {
    hash_of(Some(token)).and_then(|hash| hub.unstored_by_token(&hash))
}
