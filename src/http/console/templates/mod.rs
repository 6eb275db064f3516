//! The console's HTML. `maud` escapes every value put in a page; nothing
//! here builds markup from strings by hand.

pub mod call;
pub mod call_log;
pub mod campaigns;
pub mod dnc;
pub mod live;
pub mod login;
pub mod notifications;

use chrono::{DateTime, Utc};
use maud::{html, Markup, DOCTYPE};

/// The console's sections, for the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Campaigns,
    Live,
    Calls,
    Notifications,
    Dnc,
    Tenant,
}

const SECTIONS: [(Section, &str, &str); 5] = [
    (Section::Campaigns, "/console/campaigns", "Campaigns"),
    (Section::Live, "/console/live", "Live calls"),
    (Section::Calls, "/console/calls", "Call log"),
    (
        Section::Notifications,
        "/console/notifications",
        "Notifications",
    ),
    (Section::Dnc, "/console/dnc", "Do-not-call"),
];

/// Who is looking, for the page's header.
pub struct Chrome<'a> {
    pub tenant: Option<&'a str>,
    pub admin: bool,
    pub csrf: &'a str,
    pub section: Section,
}

/// A page of the console: header with navigation and logout, then `body`.
pub fn page(title: &str, chrome: Option<&Chrome<'_>>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · callflow console" }
                link rel="stylesheet" href="/console/assets/console.css";
                script src="/console/assets/console.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    span.brand { "callflow" }
                    @if let Some(c) = chrome {
                        @if c.tenant.is_some() {
                            nav aria-label="Main" {
                                ul {
                                    @for (section, href, label) in SECTIONS {
                                        li {
                                            @if section == c.section {
                                                a href=(href) aria-current="page" { (label) }
                                            } @else {
                                                a href=(href) { (label) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                        div.who {
                            @if let Some(t) = c.tenant {
                                span { "Tenant " strong data-tenant=(t) { (t) } }
                            }
                            @if c.admin {
                                " " a href="/console/tenant" { "(admin: switch)" }
                            }
                            form method="post" action="/console/logout" {
                                input type="hidden" name="csrf" value=(c.csrf);
                                button type="submit" { "Log out" }
                            }
                        }
                    }
                }
                main #main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// A page for an error, without navigation (it may have no session).
pub fn error_page(title: &str, message: &str) -> Markup {
    page(
        title,
        None,
        html! {
            p role="alert" { (message) }
            p { a href="/console" { "Back to the console" } }
        },
    )
}

/// A time as people read it, in UTC, with the machine-readable value.
pub fn time(t: &DateTime<Utc>) -> Markup {
    html! {
        time datetime=(t.to_rfc3339()) { (t.format("%Y-%m-%d %H:%M:%S UTC")) }
    }
}

/// An optional time; a dash when absent.
pub fn maybe_time(t: Option<&DateTime<Utc>>) -> Markup {
    match t {
        Some(t) => time(t),
        None => html! { "–" },
    }
}

/// A time stored as RFC 3339 text (a campaign's stamps), shown like [`time`].
pub fn stamp(t: Option<&str>) -> Markup {
    match t.and_then(|t| DateTime::parse_from_rfc3339(t).ok()) {
        Some(t) => time(&t.with_timezone(&Utc)),
        None => html! { (t.unwrap_or("–")) },
    }
}

/// A duration in seconds as `1h 02m 03s`, `2m 05s` or `7s`.
pub fn duration(secs: i64) -> String {
    let secs = secs.max(0);
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}h {m:02}m {s:02}s")
    } else if m > 0 {
        format!("{m}m {s:02}s")
    } else {
        format!("{s}s")
    }
}

/// A status or disposition as a small labelled badge (the class is its name).
pub fn badge(name: &str) -> Markup {
    let class = format!(
        "badge b-{}",
        name.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect::<String>()
    );
    html! { span class=(class) { (name.replace('_', " ")) } }
}

/// The hidden CSRF field of a state-changing form.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped() {
        let page = error_page("<b>", "<script>alert(1)</script> & \"x\"").into_string();
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;"));
        assert!(page.contains("<title>&lt;b&gt; · callflow console</title>"));
        let b = badge("x\"><img src=x>").into_string();
        assert!(!b.contains("<img"), "{b}");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(7), "7s");
        assert_eq!(duration(125), "2m 05s");
        assert_eq!(duration(3723), "1h 02m 03s");
        assert_eq!(duration(-5), "0s");
    }
}
