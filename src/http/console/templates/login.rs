//! The login form and the admin's tenant picker.

use maud::{html, Markup};

use super::{csrf_field, page, Chrome, Section};

pub fn login(error: Option<&str>) -> Markup {
    page(
        "Log in",
        None,
        html! {
            p { "Log in with one of your tenant's API tokens (or a JWT), or with the admin token." }
            @if let Some(e) = error {
                p.error role="alert" #login-error { (e) }
            }
            form.card method="post" action="/console/login" {
                label for="token" { "API token" }
                input #token type="password" name="token" required autocomplete="off"
                    autofocus spellcheck="false";
                button type="submit" { "Log in" }
            }
        },
    )
}

/// A tenant as the picker lists it.
pub struct TenantChoice<'a> {
    pub id: &'a str,
    pub name: &'a str,
}

pub fn pick(tenants: &[TenantChoice<'_>], current: Option<&str>, csrf: &str) -> Markup {
    let chrome = Chrome {
        tenant: current,
        admin: true,
        csrf,
        section: Section::Tenant,
    };
    page(
        "Choose a tenant",
        Some(&chrome),
        html! {
            @if tenants.is_empty() {
                p { "There are no tenants yet." }
            } @else {
                form.card method="post" action="/console/tenant" {
                    (csrf_field(csrf))
                    label for="tenant" { "Tenant" }
                    select #tenant name="tenant" {
                        @for t in tenants {
                            option value=(t.id) selected[current == Some(t.id)] {
                                (t.name) " (" (t.id) ")"
                            }
                        }
                    }
                    button type="submit" { "Show this tenant" }
                }
            }
        },
    )
}
