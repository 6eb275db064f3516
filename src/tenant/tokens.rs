//! Credentials: API tokens (random, shown once, stored as SHA-256), the
//! events signing secret, and HS256 JWTs signed with `JWT_SECRET`.
//!
//! A token is 256 random bits, so a plain SHA-256 is enough to store it: a
//! slow password hash (argon2) only helps secrets a person chose, which can be
//! guessed; nobody can guess 2^256 values. The hash also makes the lookup one
//! `HGET` by the hash of what the request carried.

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};

use crate::store::sha256_hex;

/// The prefix of every API token this service issues (it tells a token from a JWT).
pub const TOKEN_PREFIX: &str = "cft_";

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes).expect("the operating system's random source works");
    bytes
}

/// A new API token: `cft_` and 256 random bits (base64url).
pub fn new_api_token() -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!("{TOKEN_PREFIX}{}", b64.encode(random::<32>()))
}

/// A new unguessable value (256 random bits, base64url): a console session
/// id or its CSRF token.
pub fn new_secret() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random::<32>())
}

/// A new token id: not secret, names a token for revocation.
pub fn new_token_id() -> String {
    let hex: String = random::<8>().iter().map(|b| format!("{b:02x}")).collect();
    format!("tok_{hex}")
}

/// A new events signing secret in the Standard Webhooks form: `whsec_` and
/// 192 random bits (base64).
pub fn new_events_secret() -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    format!("whsec_{}", b64.encode(random::<24>()))
}

/// How a token is stored and looked up.
pub fn token_hash(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// A stored token's entry in its tenant's list.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenEntry {
    pub sha256: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// `api` (issued by the admin API) or `file` (from `TENANTS_FILE`).
    pub source: String,
}

/// The claims callflow reads from a JWT.
#[derive(Debug, Deserialize, Serialize)]
pub struct Claims {
    pub tenant_id: String,
    pub exp: u64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    #[error("the token has expired")]
    Expired,
    #[error("the token is not a valid HS256 JWT signed with this service's secret")]
    Invalid,
}

/// Whether a bearer credential has the shape of a JWT (three dot-separated parts).
pub fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3 && !token.starts_with(TOKEN_PREFIX)
}

/// Verifies a JWT: HS256 only (so `alg: none` and algorithm confusion are
/// refused), signed with `secret`, `exp` required and in the future (5 s of
/// leeway for clock skew).
pub fn verify_jwt(token: &str, secret: &[u8]) -> Result<Claims, JwtError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 5;
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp"]);
    jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(secret), &validation)
        .map(|data| data.claims)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => JwtError::Expired,
            _ => JwtError::Invalid,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};

    fn now() -> u64 {
        chrono::Utc::now().timestamp() as u64
    }

    fn jwt(alg: Algorithm, secret: &[u8], exp: u64) -> String {
        let claims = Claims {
            tenant_id: "acme".into(),
            exp,
        };
        encode(
            &Header::new(alg),
            &claims,
            &EncodingKey::from_secret(secret),
        )
        .unwrap()
    }

    #[test]
    fn tokens_are_random_and_stored_by_hash() {
        let (a, b) = (new_api_token(), new_api_token());
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == 4 + 43, "{a}");
        assert_eq!(token_hash(&a).len(), 64);
        assert!(new_events_secret().starts_with("whsec_"));
        assert!(!looks_like_jwt(&a));
    }

    #[test]
    fn only_unexpired_hs256_tokens_with_our_secret_pass() {
        let secret = b"a-jwt-secret-of-32-bytes-or-more!";
        let ok = jwt(Algorithm::HS256, secret, now() + 60);
        assert!(looks_like_jwt(&ok));
        assert_eq!(verify_jwt(&ok, secret).unwrap().tenant_id, "acme");
        let expired = jwt(Algorithm::HS256, secret, now() - 60);
        assert_eq!(verify_jwt(&expired, secret).unwrap_err(), JwtError::Expired);
        let other = jwt(
            Algorithm::HS256,
            b"another-secret-another-secret!!",
            now() + 60,
        );
        assert_eq!(verify_jwt(&other, secret).unwrap_err(), JwtError::Invalid);
        // Same secret, another algorithm of the family: refused (HS256 pinned).
        let hs512 = jwt(Algorithm::HS512, secret, now() + 60);
        assert_eq!(verify_jwt(&hs512, secret).unwrap_err(), JwtError::Invalid);
        // alg none, no signature.
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let none = format!(
            "{}.{}.",
            b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
            b64.encode(format!(r#"{{"tenant_id":"acme","exp":{}}}"#, now() + 60))
        );
        assert_eq!(verify_jwt(&none, secret).unwrap_err(), JwtError::Invalid);
    }
}
