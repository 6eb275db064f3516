//! `/api/admin/tenants`: create, list, read, change and delete tenants, issue
//! and revoke their tokens. `ADMIN_TOKEN` only (see `auth::Admin`).

use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::parse_body;
use crate::http::auth::Admin;
use crate::http::error::ErrorBody;
use crate::http::ApiError;
use crate::tenant::admin::{self, TokenInfo};
use crate::tenant::model::TenantFields;
use crate::tenant::{Tenant, Tenants};

#[derive(Serialize)]
struct TenantList {
    tenants: Vec<Tenant>,
}

#[derive(Serialize)]
struct TenantDetail {
    tenant: Tenant,
    #[serde(skip_serializing_if = "Option::is_none")]
    tokens: Option<Vec<TokenInfo>>,
}

#[derive(Serialize)]
struct Deleted<'a> {
    id: &'a str,
    deleted: bool,
}

#[derive(Serialize)]
struct Revoked<'a> {
    token_id: &'a str,
    revoked: bool,
}

/// A tenant id from the path: ids are at most 64 of `a-z A-Z 0-9 _ -`
/// (`TENANT_ID`'s rule, which admits every id the API creates); anything
/// else names no tenant.
fn path_id(id: &str) -> Result<&str, ApiError> {
    let ok = !id.is_empty()
        && id.len() <= crate::tenant::model::MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(id)
    } else {
        Err(ApiError::NotFound(format!("tenant '{id}' does not exist")))
    }
}

/// `POST /api/admin/tenants`: 201 with the tenant, its first token and its
/// events secret (both shown this once).
#[utoipa::path(
    post,
    path = "/api/admin/tenants",
    security(("admin_token" = [])),
    tag = "admin",
    request_body(content = Object, description = "The tenant: `id`, `company_name`, `call_purpose`, `numbers`, optional limits"),
    responses(
        (status = 201, description = "Created: the tenant, its first API token and its events secret, shown this once", body = Object),
        (status = 409, description = "The id or a number is taken", body = ErrorBody),
    ),
)]
pub async fn create_tenant(
    _: Admin,
    tenants: web::Data<Tenants>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let fields: TenantFields = parse_body(&body)?;
    let created = admin::create(&tenants, fields).await?;
    Ok(HttpResponse::Created().json(created))
}

/// `GET /api/admin/tenants`.
#[utoipa::path(
    get,
    path = "/api/admin/tenants",
    security(("admin_token" = [])),
    tag = "admin",
    responses((status = 200, description = "`{\"tenants\": [...]}`", body = Object)),
)]
pub async fn list_tenants(_: Admin, tenants: web::Data<Tenants>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(TenantList {
        tenants: admin::list(&tenants).await?,
    }))
}

/// `GET /api/admin/tenants/{id}`: the tenant and its tokens (ids only).
#[utoipa::path(
    get,
    path = "/api/admin/tenants/{id}",
    security(("admin_token" = [])),
    tag = "admin",
    params(("id" = String, Path, description = "The tenant id")),
    responses((status = 200, description = "The tenant and its tokens (ids only)", body = Object)),
)]
pub async fn get_tenant(
    _: Admin,
    tenants: web::Data<Tenants>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id)?;
    let tenant = admin::get(&tenants, id).await?;
    let tokens = admin::tokens(&tenants, id).await?;
    Ok(HttpResponse::Ok().json(TenantDetail {
        tenant,
        tokens: Some(tokens),
    }))
}

/// `PATCH /api/admin/tenants/{id}`: the fields given change (`null` clears
/// an optional one); `numbers` replaces the list (another tenant's -> 409).
#[utoipa::path(
    patch,
    path = "/api/admin/tenants/{id}",
    security(("admin_token" = [])),
    tag = "admin",
    params(("id" = String, Path, description = "The tenant id")),
    request_body(content = Object, description = "The fields to change; `null` clears an optional one"),
    responses(
        (status = 200, description = "The tenant as changed", body = Object),
        (status = 409, description = "A number is another tenant's", body = ErrorBody),
    ),
)]
pub async fn update_tenant(
    _: Admin,
    tenants: web::Data<Tenants>,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id)?;
    let fields: TenantFields = parse_body(&body)?;
    let tenant = admin::update(&tenants, id, fields).await?;
    Ok(HttpResponse::Ok().json(TenantDetail {
        tenant,
        tokens: None,
    }))
}

/// `DELETE /api/admin/tenants/{id}`.
#[utoipa::path(
    delete,
    path = "/api/admin/tenants/{id}",
    security(("admin_token" = [])),
    tag = "admin",
    params(("id" = String, Path, description = "The tenant id")),
    responses((status = 200, description = "`{\"id\", \"deleted\": true}`", body = Object)),
)]
pub async fn delete_tenant(
    _: Admin,
    tenants: web::Data<Tenants>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id)?;
    admin::delete(&tenants, id).await?;
    Ok(HttpResponse::Ok().json(Deleted { id, deleted: true }))
}

/// `POST /api/admin/tenants/{id}/tokens`: 201 `{"api_token", "token_id"}`.
#[utoipa::path(
    post,
    path = "/api/admin/tenants/{id}/tokens",
    security(("admin_token" = [])),
    tag = "admin",
    params(("id" = String, Path, description = "The tenant id")),
    responses((status = 201, description = "`{\"api_token\", \"token_id\"}`: the token is shown this once", body = Object)),
)]
pub async fn issue_token(
    _: Admin,
    tenants: web::Data<Tenants>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id)?;
    Ok(HttpResponse::Created().json(admin::issue_token(&tenants, id).await?))
}

/// `DELETE /api/admin/tenants/{id}/tokens/{token_id}`: the token stops working at once.
#[utoipa::path(
    delete,
    path = "/api/admin/tenants/{id}/tokens/{token_id}",
    security(("admin_token" = [])),
    tag = "admin",
    params(
        ("id" = String, Path, description = "The tenant id"),
        ("token_id" = String, Path, description = "The token's id"),
    ),
    responses((status = 200, description = "`{\"token_id\", \"revoked\": true}`", body = Object)),
)]
pub async fn revoke_token(
    _: Admin,
    tenants: web::Data<Tenants>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, token_id) = path.into_inner();
    let id = path_id(&id)?;
    admin::revoke_token(&tenants, id, &token_id).await?;
    Ok(HttpResponse::Ok().json(Revoked {
        token_id: &token_id,
        revoked: true,
    }))
}
