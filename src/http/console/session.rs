//! The console's session. The cookie carries only a random id; Redis keeps
//! what it opens (the credential's kind, the tenant shown, the CSRF token)
//! for [`SESSION_SECS`]. Each request checks that the credential still holds:
//! an issued token still in the index (revoking it ends its sessions), a JWT
//! not yet expired, the tenant still there.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::{dev::Payload, FromRequest, HttpRequest};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::ConsoleError;
use crate::app::AppState;
use crate::http::auth::{self, Credential};
use crate::tenant::tokens::new_secret;
use crate::tenant::{TenantApp, Tenants};

/// The session cookie's name.
pub const COOKIE: &str = "cf_console";
/// How long a session lasts from login (wall clock).
pub const SESSION_SECS: u64 = 8 * 3600;

/// Who logged in.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Login {
    /// One tenant, by one of its credentials.
    Tenant {
        tenant: String,
        credential: Credential,
    },
    /// `ADMIN_TOKEN`: may look at any tenant, one at a time.
    Admin { tenant: Option<String> },
}

/// What a session opened by a configured token (`API_TOKEN`, `ADMIN_TOKEN`)
/// keeps of it: its SHA-256, so a changed setting ends the session.
pub fn configured_hash(token: &str) -> String {
    crate::tenant::tokens::token_hash(token)
}

/// A session as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stored {
    pub login: Login,
    /// For a login with `API_TOKEN` or `ADMIN_TOKEN`: the token's SHA-256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configured_sha256: Option<String>,
    pub csrf: String,
    /// Epoch seconds.
    pub expires_at: i64,
}

impl Stored {
    pub fn new(login: Login, token: &str) -> Self {
        let configured = matches!(
            login,
            Login::Admin { .. }
                | Login::Tenant {
                    credential: Credential::Configured,
                    ..
                }
        );
        Self {
            login,
            configured_sha256: configured.then(|| configured_hash(token)),
            csrf: new_secret(),
            expires_at: Utc::now().timestamp() + SESSION_SECS as i64,
        }
    }

    pub fn tenant(&self) -> Option<&str> {
        match &self.login {
            Login::Tenant { tenant, .. } => Some(tenant),
            Login::Admin { tenant } => tenant.as_deref(),
        }
    }

    pub fn is_admin(&self) -> bool {
        matches!(self.login, Login::Admin { .. })
    }
}

/// A logged-in request: the session, and the tenants to find its tenant in.
pub struct Session {
    pub id: String,
    pub stored: Stored,
    pub tenants: Arc<Tenants>,
}

impl Session {
    /// Opens a session: stores it and returns its id.
    pub async fn open(root: &AppState, stored: &Stored) -> Result<String, ConsoleError> {
        let id = new_secret();
        save(root, &id, stored).await?;
        Ok(id)
    }

    /// Stores a change (an admin picking a tenant), keeping the expiry.
    pub async fn save(&self) -> Result<(), ConsoleError> {
        save(self.tenants.root(), &self.id, &self.stored).await
    }

    pub async fn end(&self) -> Result<(), ConsoleError> {
        Ok(self
            .tenants
            .root()
            .store
            .end_console_session(&self.id)
            .await?)
    }

    /// The `Set-Cookie` value for this session, `Secure` when served over https.
    pub fn cookie(root: &AppState, id: &str) -> String {
        let secure = if root.settings.public_base_url.starts_with("https://") {
            "; Secure"
        } else {
            ""
        };
        format!("{COOKIE}={id}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECS}{secure}")
    }

    /// The `Set-Cookie` value that removes the cookie.
    pub fn removal() -> String {
        format!("{COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0")
    }

    async fn load(req: &HttpRequest) -> Result<Session, ConsoleError> {
        let tenants = auth::tenants(req).map_err(|_| ConsoleError::LoggedOut)?;
        let id = cookie_value(req).ok_or(ConsoleError::LoggedOut)?;
        Session::find(tenants, id).await
    }

    /// Whether this session still holds (not ended, not expired, its
    /// credential still good): a live stream asks before each update.
    pub async fn still_open(&self) -> Result<(), ConsoleError> {
        Session::find(self.tenants.clone(), self.id.clone())
            .await
            .map(|_| ())
    }

    async fn find(tenants: Arc<Tenants>, id: String) -> Result<Session, ConsoleError> {
        let root = tenants.root().clone();
        let json = root
            .store
            .console_session(&id)
            .await?
            .ok_or(ConsoleError::LoggedOut)?;
        let stored: Stored = serde_json::from_str(&json).map_err(|_| ConsoleError::LoggedOut)?;
        if stored.expires_at <= Utc::now().timestamp() || !still_holds(&root, &stored).await? {
            root.store.end_console_session(&id).await?;
            return Err(ConsoleError::LoggedOut);
        }
        Ok(Session {
            id,
            stored,
            tenants,
        })
    }
}

/// The session id from the `Cookie` header, when it looks like one.
fn cookie_value(req: &HttpRequest) -> Option<String> {
    let prefix = format!("{COOKIE}=");
    req.headers()
        .get_all(actix_web::http::header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix(prefix.as_str()))
        .find(|id| {
            (20..=64).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_string)
}

/// Whether the credential that opened the session is still good.
async fn still_holds(root: &AppState, stored: &Stored) -> Result<bool, ConsoleError> {
    let is_current = |current: Option<&str>| {
        current.is_some_and(|t| stored.configured_sha256.as_deref() == Some(&configured_hash(t)))
    };
    let Login::Tenant { tenant, credential } = &stored.login else {
        return Ok(is_current(
            root.settings.admin_token.as_ref().map(|t| t.expose()),
        ));
    };
    Ok(match credential {
        Credential::Configured => is_current(Some(root.settings.api_token.expose())),
        Credential::Jwt { exp } => *exp > Utc::now().timestamp().max(0) as u64,
        Credential::Issued { sha256 } => root
            .store
            .token_owner(sha256)
            .await?
            .is_some_and(|owner| &owner.tenant == tenant),
    })
}

type Fut<T> = Pin<Box<dyn Future<Output = Result<T, ConsoleError>>>>;

impl FromRequest for Session {
    type Error = ConsoleError;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Session::load(&req).await })
    }
}

/// A session with its tenant: what every page but the login and the admin's
/// tenant picker takes. Derefs to the tenant's view of the application.
pub struct Viewer {
    pub session: Session,
    pub tenant: Arc<TenantApp>,
}

impl Viewer {
    pub fn app(&self) -> Arc<AppState> {
        self.tenant.app.clone()
    }

    pub fn csrf(&self) -> &str {
        &self.session.stored.csrf
    }
}

impl Deref for Viewer {
    type Target = AppState;
    fn deref(&self) -> &AppState {
        &self.tenant.app
    }
}

impl FromRequest for Viewer {
    type Error = ConsoleError;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let session = Session::load(&req).await?;
            let Some(id) = session.stored.tenant() else {
                return Err(ConsoleError::NoTenant);
            };
            let Some(tenant) = session.tenants.resolve(id).await? else {
                if session.stored.is_admin() {
                    return Err(ConsoleError::NoTenant);
                }
                session.end().await?;
                return Err(ConsoleError::LoggedOut);
            };
            Ok(Viewer { session, tenant })
        })
    }
}

/// Stores a session until its expiry.
async fn save(root: &AppState, id: &str, stored: &Stored) -> Result<(), ConsoleError> {
    let left = stored.expires_at - Utc::now().timestamp();
    if left <= 0 {
        return Err(ConsoleError::LoggedOut);
    }
    let json = serde_json::to_string(stored).expect("a session serializes");
    root.store
        .save_console_session(id, &json, left as u64)
        .await?;
    Ok(())
}
