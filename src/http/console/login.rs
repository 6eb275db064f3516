//! Logging in and out, and the admin's choice of tenant. A login is counted
//! against the API's per-address rate limit first, so guessing tokens here
//! is as slow as on `/api`.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::error::{html, see_other};
use super::session::{Login, Session, Stored};
use super::templates::login::{self as view, TenantChoice};
use super::{csrf, form, ConsoleError};
use crate::http::auth;
use crate::tenant::admin;

/// `GET /console/login`.
pub async fn page() -> HttpResponse {
    html(view::login(None))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginForm {
    token: String,
}

/// `POST /console/login`: a token opens a session, else the form again (401).
pub async fn login(req: HttpRequest, body: web::Bytes) -> Result<HttpResponse, ConsoleError> {
    let tenants = auth::tenants(&req).map_err(|_| ConsoleError::Unavailable)?;
    let root = tenants.root().clone();
    csrf::check_origin(&req, &root)?;
    auth::limit_address(&root, &req).await?;
    let raw = std::str::from_utf8(&body).map_err(|_| ConsoleError::invalid("form", "not UTF-8"))?;
    let LoginForm { token } = form::typed(form::fields(raw)?)?;
    let token = token.trim();
    let login = if auth::is_admin_token(&root, token) {
        // With one tenant there is nothing to pick.
        let all = tenants.all();
        Some(Login::Admin {
            tenant: (all.len() == 1).then(|| all[0].tenant.id.clone()),
        })
    } else {
        match auth::identify(&root, &tenants, token).await {
            Ok(who) if tenants.resolve(&who.tenant_id).await?.is_some() => Some(Login::Tenant {
                tenant: who.tenant_id,
                credential: who.kind,
            }),
            Ok(_) => None,
            Err(crate::http::ApiError::Service(e)) => return Err(e.into()),
            Err(_) => None,
        }
    };
    let Some(login) = login else {
        tracing::info!("console: login refused");
        let mut resp = HttpResponse::Unauthorized();
        super::error::html_headers(&mut resp);
        return Ok(resp.body(
            view::login(Some("That token is not valid. Check it and try again.")).into_string(),
        ));
    };
    let admin = matches!(login, Login::Admin { .. });
    let stored = Stored::new(login, token);
    let next = match stored.tenant() {
        Some(_) => "/console/campaigns",
        None => "/console/tenant",
    };
    let id = Session::open(&root, &stored).await?;
    tracing::info!(
        admin,
        tenant = stored.tenant().unwrap_or("-"),
        "console: logged in"
    );
    let mut resp = see_other(next);
    resp.headers_mut().insert(
        header::SET_COOKIE,
        header::HeaderValue::from_str(&Session::cookie(&root, &id))
            .map_err(|_| ConsoleError::Unavailable)?,
    );
    Ok(resp)
}

/// `POST /console/logout`: ends the session (CSRF-checked, so no other site
/// can log a user out).
pub async fn logout(
    req: HttpRequest,
    session: Session,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    let form::Empty {} = form::posted(&req, &session, &body)?;
    session.end().await?;
    let mut resp = see_other("/console/login");
    resp.headers_mut().insert(
        header::SET_COOKIE,
        header::HeaderValue::from_str(&Session::removal())
            .map_err(|_| ConsoleError::Unavailable)?,
    );
    Ok(resp)
}

/// `GET /console/tenant`: the admin picks the tenant to look at.
pub async fn pick_page(session: Session) -> Result<HttpResponse, ConsoleError> {
    if !session.stored.is_admin() {
        return Err(ConsoleError::NotFound);
    }
    let all = admin::list(&session.tenants)
        .await
        .map_err(|_| ConsoleError::Unavailable)?;
    let choices: Vec<TenantChoice<'_>> = all
        .iter()
        .map(|t| TenantChoice {
            id: &t.id,
            name: t.name.as_str(),
        })
        .collect();
    Ok(html(view::pick(
        &choices,
        session.stored.tenant(),
        &session.stored.csrf,
    )))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PickForm {
    tenant: String,
}

/// `POST /console/tenant`.
pub async fn pick(
    req: HttpRequest,
    mut session: Session,
    body: web::Bytes,
) -> Result<HttpResponse, ConsoleError> {
    if !session.stored.is_admin() {
        return Err(ConsoleError::NotFound);
    }
    let PickForm { tenant } = form::posted(&req, &session, &body)?;
    if session.tenants.resolve(&tenant).await?.is_none() {
        return Err(ConsoleError::invalid("tenant", "no such tenant"));
    }
    session.stored.login = Login::Admin {
        tenant: Some(tenant),
    };
    session.save().await?;
    Ok(see_other("/console/campaigns"))
}
