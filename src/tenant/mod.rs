//! Tenants: one deployment, many businesses, each sealed off. A tenant's
//! record and model ([`model`]), what the admin API does ([`admin`]), its
//! credentials ([`tokens`]: API tokens stored hashed, HS256 JWTs), this
//! instance's registry of tenants and their views of the application
//! ([`registry`]), the tenants made at startup ([`bootstrap`]) and the
//! background work run for each ([`tasks`]).
//!
//! Depends on `app` (a tenant's view is an `AppState`), `campaign` (the
//! dispatcher each tenant runs) and `store`; `http` depends on it.

pub mod admin;
pub mod bootstrap;
pub mod forward;
pub mod model;
pub mod registry;
pub mod tasks;
pub mod tokens;

pub use model::Tenant;
pub use registry::{TenantApp, Tenants};
