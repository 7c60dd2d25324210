//! The signature check: one success, and each way a token is refused.

use super::*;

const SECRET: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
const NOW: i64 = 1_800_000_000;

fn token(json: &str) -> String {
    sign(SECRET, json)
}

fn check(token: &str) -> Result<Claims, Refusal> {
    verify(token, SECRET, &[], NOW)
}

#[test]
fn a_valid_token_gives_its_claims() {
    let t = token(
        r#"{"user_id":"u-42","name":" Li Lei ","email":"li@example.com","exp":1800000600,"iat":1}"#,
    );
    assert_eq!(
        check(&t),
        Ok(Claims {
            user_id: "u-42".into(),
            name: Some("Li Lei".into()),
            email: Some("li@example.com".into()),
            exp: 1_800_000_600,
        })
    );
    // Name and email are optional; upper-case hex is accepted.
    let t = token(r#"{"user_id":"u-42","exp":1800000600}"#);
    let (payload, sig) = t.split_once('.').expect("a dot");
    let upper = format!("{payload}.{}", sig.to_uppercase());
    assert_eq!(check(&upper).map(|c| (c.name, c.email)), Ok((None, None)));
}

#[test]
fn a_forged_signature_is_refused() {
    let forged = sign("not the secret", r#"{"user_id":"u-42","exp":1800000600}"#);
    assert_eq!(check(&forged), Err(Refusal::BadSignature));
    assert_eq!(Refusal::BadSignature.code(), ErrorCode::IdentityInvalid);
}

#[test]
fn a_tampered_payload_is_refused() {
    let t = token(r#"{"user_id":"u-42","exp":1800000600}"#);
    let (_, sig) = t.split_once('.').expect("a dot");
    let other = URL_SAFE_NO_PAD.encode(r#"{"user_id":"u-43","exp":1800000600}"#);
    assert_eq!(check(&format!("{other}.{sig}")), Err(Refusal::BadSignature));
    // One flipped signature digit too.
    let mut flipped = t.clone();
    let last = flipped.pop().expect("a digit");
    flipped.push(if last == '0' { '1' } else { '0' });
    assert_eq!(check(&flipped), Err(Refusal::BadSignature));
}

#[test]
fn an_expired_token_is_refused_even_if_replayed() {
    let t = token(r#"{"user_id":"u-42","exp":1800000000}"#);
    assert_eq!(check(&t), Err(Refusal::Expired), "exp == now is expired");
    // Valid once, replayed after its expiry.
    let t = token(r#"{"user_id":"u-42","exp":1800000060}"#);
    assert!(verify(&t, SECRET, &[], NOW).is_ok());
    assert_eq!(verify(&t, SECRET, &[], NOW + 61), Err(Refusal::Expired));
    assert_eq!(Refusal::Expired.code(), ErrorCode::IdentityExpired);
}

#[test]
fn a_token_living_more_than_thirty_days_is_refused() {
    let ok = token(&format!(
        r#"{{"user_id":"u","exp":{}}}"#,
        NOW + MAX_LIFETIME_SECS
    ));
    assert!(check(&ok).is_ok());
    let far = token(&format!(
        r#"{{"user_id":"u","exp":{}}}"#,
        NOW + MAX_LIFETIME_SECS + 1
    ));
    assert_eq!(check(&far), Err(Refusal::TooFarAhead));
    let forever = token(&format!(r#"{{"user_id":"u","exp":{}}}"#, i64::MAX));
    assert_eq!(check(&forever), Err(Refusal::TooFarAhead));
}

#[test]
fn a_token_signed_with_a_rotated_out_secret_is_refused() {
    let old = "the secret before rotation";
    let t = sign(old, r#"{"user_id":"u-42","exp":1800000600}"#);
    assert_eq!(
        verify(&t, SECRET, &[old.to_owned()], NOW),
        Err(Refusal::RetiredSecret)
    );
    assert_eq!(Refusal::RetiredSecret.code(), ErrorCode::IdentityRetired);
    // Once it is no longer kept, it is just a bad signature.
    assert_eq!(verify(&t, SECRET, &[], NOW), Err(Refusal::BadSignature));
}

#[test]
fn over_long_or_ill_formed_fields_are_refused() {
    let long_id = "x".repeat(MAX_USER_ID_CHARS + 1);
    let long_name = "n".repeat(crate::profile::MAX_PROFILE_NAME_CHARS + 1);
    let cases = [
        format!(r#"{{"user_id":"{long_id}","exp":1800000600}}"#),
        r#"{"user_id":"","exp":1800000600}"#.to_owned(),
        format!(r#"{{"user_id":"u","name":"{long_name}","exp":1800000600}}"#),
        r#"{"user_id":"u","email":"not an email","exp":1800000600}"#.to_owned(),
    ];
    for json in cases {
        assert_eq!(check(&token(&json)), Err(Refusal::BadField), "{json}");
    }
    let longest = "x".repeat(MAX_USER_ID_CHARS);
    assert!(check(&token(&format!(
        r#"{{"user_id":"{longest}","exp":1800000600}}"#
    )))
    .is_ok());
}

#[test]
fn malformed_tokens_are_refused() {
    let good_sig = |payload: &str| {
        let mut mac = HmacSha256::new_from_slice(SECRET.as_bytes()).expect("any key length");
        mac.update(payload.as_bytes());
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("{payload}.{hex}")
    };
    let cases = [
        String::new(),
        "no-dot-at-all".to_owned(),
        "payload.nothex".to_owned(),
        "payload.abcd".to_owned(),
        // Correctly signed, but not base64url, not JSON, or missing fields.
        good_sig("not base64!"),
        good_sig(&URL_SAFE_NO_PAD.encode("not json")),
        good_sig(&URL_SAFE_NO_PAD.encode(r#"{"user_id":"u"}"#)),
        good_sig(&URL_SAFE_NO_PAD.encode(r#"{"user_id":7,"exp":1800000600}"#)),
        good_sig(&URL_SAFE_NO_PAD.encode(r#"{"user_id":"u","exp":1.8e9}"#)),
        // Padded base64 is not the format.
        good_sig(
            &base64::engine::general_purpose::URL_SAFE
                .encode(r#"{"user_id":"u","exp":1800000600}"#),
        ),
        "a".repeat(MAX_TOKEN_BYTES + 1),
    ];
    for t in cases {
        assert_eq!(check(&t), Err(Refusal::Malformed), "{t:?}");
    }
    assert_eq!(Refusal::Malformed.code(), ErrorCode::IdentityInvalid);
}

/// The format is easy to make outside Rust: the shell recipe in
/// docs/PROTOCOL.md §2, run here with openssl, makes a token this accepts.
#[test]
fn a_token_made_with_openssl_in_the_shell_is_accepted() {
    let exp = NOW + 3600;
    let script = format!(
        r#"payload=$(printf '%s' '{{"user_id":"u-42","name":"Li Lei","exp":{exp}}}' | basenc --base64url | tr -d '=\n')
sig=$(printf '%s' "$payload" | openssl dgst -sha256 -hmac "$SECRET" | sed 's/^.*= //')
printf '%s.%s' "$payload" "$sig""#
    );
    let out = match std::process::Command::new("sh")
        .arg("-c")
        .arg(&script)
        .env("SECRET", SECRET)
        .output()
    {
        Ok(out) if out.status.success() && !out.stdout.is_empty() => out,
        // No openssl or basenc on this machine: nothing to compare with.
        _ => return,
    };
    let t = String::from_utf8(out.stdout).expect("ascii");
    assert_eq!(
        t,
        token(&format!(
            r#"{{"user_id":"u-42","name":"Li Lei","exp":{exp}}}"#
        ))
    );
    assert_eq!(check(&t).map(|c| c.user_id), Ok("u-42".to_owned()));
}
