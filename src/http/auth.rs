//! Who a request is: every `/api` request is one tenant's (a bearer API
//! token, or an HS256 JWT carrying `tenant_id`), `/api/admin` takes
//! `ADMIN_TOKEN`. Both extractors count the request against the rate limits
//! first (per client address, then per token), so guessing tokens is slow too.

use std::future::Future;
use std::net::IpAddr;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use subtle::ConstantTimeEq;

use super::ApiError;
use crate::app::AppState;
use crate::store::keys;
use crate::tenant::tokens::{looks_like_jwt, token_hash, verify_jwt, JwtError};
use crate::tenant::{TenantApp, Tenants};

/// The tenant a request acts for. Taking it as a handler argument is what
/// protects an `/api` route; it derefs to the tenant's view of the
/// application, so everything the handler reads or writes is that tenant's.
pub struct Tenant(pub Arc<TenantApp>);

impl Tenant {
    /// The tenant's application, to move into a task.
    pub fn app(&self) -> Arc<AppState> {
        self.0.app.clone()
    }
}

impl Deref for Tenant {
    type Target = AppState;
    fn deref(&self) -> &AppState {
        &self.0.app
    }
}

/// Proof that the request carried `Authorization: Bearer <ADMIN_TOKEN>`.
pub struct Admin;

type Fut<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

/// The bearer credential: `Bearer` in any case, then the token.
fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get("Authorization")?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_string())
}

fn same(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Counts one request against a limiter; `Err(429)` when over.
async fn limit(app: &AppState, key: &str, per_s: f64, burst: u32) -> Result<(), ApiError> {
    if per_s <= 0.0 {
        return Ok(());
    }
    match app.store.rate_limit(key, per_s, burst).await? {
        None => Ok(()),
        Some(wait_us) => Err(ApiError::RateLimited {
            retry_after_secs: wait_us.div_ceil(1_000_000).max(1),
        }),
    }
}

/// The per-address limit, for the client's address: the TCP peer, unless
/// the peer is one of `TRUSTED_PROXIES` (headers can be forged, so only a
/// trusted balancer's `X-Forwarded-For` is read).
pub(super) async fn limit_address(app: &AppState, req: &HttpRequest) -> Result<(), ApiError> {
    let rate = &app.settings.api_rate;
    let Some(peer) = req.peer_addr() else {
        return Ok(());
    };
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok());
    let client = client_address(peer.ip(), forwarded, &rate.trusted_proxies);
    let per_s = rate.per_ip_per_s;
    let burst = (2.0 * per_s).ceil().max(f64::from(rate.burst)) as u32;
    limit(app, &keys::ip_rate(&client.to_string()), per_s, burst).await
}

/// The client behind a chain of trusted proxies: walking `X-Forwarded-For`
/// from the right (the entry the nearest proxy added), the first address
/// that is not a trusted proxy. An unparsable entry stops the walk at the
/// last address known good.
fn client_address<'a>(
    peer: IpAddr,
    forwarded: impl Iterator<Item = &'a str>,
    trusted: &[ipnet::IpNet],
) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded.flat_map(|v| v.split(',')).collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client
}

pub(super) fn tenants(req: &HttpRequest) -> Result<Arc<Tenants>, ApiError> {
    req.app_data::<web::Data<Tenants>>()
        .map(|t| t.clone().into_inner())
        .ok_or(ApiError::Unauthorized)
}

impl FromRequest for Tenant {
    type Error = ApiError;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let tenants = tenants(&req)?;
            let root = tenants.root().clone();
            limit_address(&root, &req).await?;
            let token = bearer(&req).ok_or(ApiError::Unauthorized)?;
            let Identity {
                tenant_id, limiter, ..
            } = identify(&root, &tenants, &token).await?;
            let view = tenants
                .resolve(&tenant_id)
                .await?
                .ok_or(ApiError::Unauthorized)?;
            let per_s = view
                .tenant
                .api_rate_limit_per_s
                .map_or(root.settings.api_rate.per_token_per_s, |r| r.get());
            let key = keys::token_rate(&view.tenant.id, &limiter);
            limit(&root, &key, per_s, root.settings.api_rate.burst).await?;
            Ok(Tenant(view))
        })
    }
}

/// Whose a credential is, and how to tell later that it still holds.
pub(super) struct Identity {
    pub tenant_id: String,
    /// The name of its rate limiter.
    pub limiter: String,
    pub kind: Credential,
}

/// The kind of a tenant credential.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(super) enum Credential {
    /// `API_TOKEN`: the configured tenant's.
    Configured,
    /// An issued token, by its SHA-256 (revoking it ends what it opened).
    Issued { sha256: String },
    /// A JWT, good until `exp` (epoch seconds).
    Jwt { exp: u64 },
}

/// The tenant a credential belongs to, and the name of its rate limiter.
pub(super) async fn identify(
    root: &AppState,
    tenants: &Tenants,
    token: &str,
) -> Result<Identity, ApiError> {
    // API_TOKEN: the configured tenant's, checked here in constant time.
    if same(token, root.settings.api_token.expose()) {
        return Ok(Identity {
            tenant_id: tenants.configured_id().to_string(),
            limiter: "api-token".to_string(),
            kind: Credential::Configured,
        });
    }
    if looks_like_jwt(token) {
        let secret = root
            .settings
            .jwt_secret
            .as_ref()
            .ok_or(ApiError::Unauthorized)?;
        let claims = verify_jwt(token, secret.expose().as_bytes()).map_err(|e| match e {
            JwtError::Expired => ApiError::TokenExpired,
            JwtError::Invalid => ApiError::Unauthorized,
        })?;
        // One limiter for all of a tenant's JWTs: they are minted freely.
        return Ok(Identity {
            tenant_id: claims.tenant_id,
            limiter: "jwt".to_string(),
            kind: Credential::Jwt { exp: claims.exp },
        });
    }
    let sha256 = token_hash(token);
    let owner = root
        .store
        .token_owner(&sha256)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    Ok(Identity {
        tenant_id: owner.tenant,
        limiter: owner.token_id,
        kind: Credential::Issued { sha256 },
    })
}

/// Whether `token` is `ADMIN_TOKEN` (never, when none is set).
pub(super) fn is_admin_token(root: &AppState, token: &str) -> bool {
    root.settings
        .admin_token
        .as_ref()
        .is_some_and(|expected| same(token, expected.expose()))
}

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let tenants = tenants(&req)?;
            let root = tenants.root().clone();
            limit_address(&root, &req).await?;
            match bearer(&req) {
                Some(token) if is_admin_token(&root, &token) => Ok(Admin),
                _ => Err(ApiError::Unauthorized),
            }
        })
    }
}

#[cfg(test)]
mod client_address_tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<ipnet::IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let got = client_address(ip("203.0.113.9"), ["198.51.100.1"].into_iter(), &[]);
        assert_eq!(got, ip("203.0.113.9"));
    }

    #[test]
    fn a_trusted_balancer_names_the_client() {
        let trusted = nets(&["10.0.0.0/8"]);
        // A client-supplied (forged) first entry is skipped: the walk stops at
        // the first address the trusted chain did not add.
        let got = client_address(
            ip("10.0.0.2"),
            ["1.2.3.4, 198.51.100.7", "10.0.0.5"].into_iter(),
            &trusted,
        );
        assert_eq!(got, ip("198.51.100.7"));
        let got = client_address(ip("10.0.0.2"), std::iter::empty(), &trusted);
        assert_eq!(got, ip("10.0.0.2"));
        let got = client_address(ip("10.0.0.2"), ["junk, 10.0.0.9"].into_iter(), &trusted);
        assert_eq!(got, ip("10.0.0.9"));
    }
}
