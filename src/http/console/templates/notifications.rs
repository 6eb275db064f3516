//! The notification log: filters, a page of texts, the link to older ones.

use maud::{html, Markup};

use super::{badge, maybe_time, page, time, Chrome};
use crate::app::notifications::{Notification, NotificationType};
use crate::store::NotificationStatus;

/// The filters as typed (shown back in the form).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filters {
    pub status: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub cursor: Option<String>,
}

impl Filters {
    /// The query string of the next page: these filters and `cursor`.
    pub fn next_page(&self, cursor: &str) -> String {
        let pairs: Vec<(&str, &str)> = [
            ("status", &self.status),
            ("type", &self.kind),
            ("since", &self.since),
            ("until", &self.until),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v.as_deref()?)))
        .chain(std::iter::once(("cursor", cursor)))
        .collect();
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

const STATUSES: [NotificationStatus; 5] = [
    NotificationStatus::Queued,
    NotificationStatus::Sent,
    NotificationStatus::Delivered,
    NotificationStatus::Undelivered,
    NotificationStatus::Failed,
];

fn text_filter(id: &str, label: &str, value: Option<&str>, hint: &str) -> Markup {
    html! {
        div.field {
            label for=(id) { (label) }
            input #(id) name=(id) type="text" value=(value.unwrap_or("")) placeholder=(hint);
        }
    }
}

pub fn list(
    filters: &Filters,
    texts: &[Notification],
    next: Option<String>,
    error: Option<&str>,
    chrome: &Chrome<'_>,
) -> Markup {
    let status = filters.status.as_deref().unwrap_or("");
    let kind = filters.kind.as_deref().unwrap_or("");
    page(
        "Notifications",
        Some(chrome),
        html! {
            form.card.filters method="get" action="/console/notifications" aria-label="Filter notifications" {
                div.field {
                    label for="status" { "Status" }
                    select #status name="status" {
                        option value="" selected[status.is_empty()] { "Any" }
                        @for s in STATUSES {
                            option value=(s.as_str()) selected[status == s.as_str()] { (s.as_str()) }
                        }
                    }
                }
                div.field {
                    label for="type" { "Type" }
                    select #type name="type" {
                        option value="" selected[kind.is_empty()] { "Any" }
                        @for t in NotificationType::ALL {
                            option value=(t.as_str()) selected[kind == t.as_str()] { (t.as_str().replace('_', " ")) }
                        }
                    }
                }
                (text_filter("since", "Since (UTC)", filters.since.as_deref(), "2026-01-14T00:00"))
                (text_filter("until", "Until (UTC)", filters.until.as_deref(), "2026-01-15T00:00"))
                div.field { button type="submit" { "Filter" } }
            }
            @if let Some(e) = error {
                p.error role="alert" { (e) }
            }
            @if texts.is_empty() && error.is_none() {
                p { "No texts match." }
            }
            @if !texts.is_empty() {
                div.scroll {
                    table #notifications {
                        caption.sr { "Texts, newest first" }
                        thead { tr { th scope="col" { "Created" } th scope="col" { "Type" } th scope="col" { "To" }
                            th scope="col" { "Text" } th scope="col" { "Template" } th scope="col" { "Status" }
                            th scope="col" { "Error" } th scope="col" { "Updated" } } }
                        tbody {
                            @for n in texts {
                                tr {
                                    td { (time(&n.created_at)) }
                                    td { (n.kind.as_str().replace('_', " ")) }
                                    td { (n.to_number) }
                                    td { (n.body) }
                                    td { (n.template.as_deref().unwrap_or("–")) }
                                    td { (badge(n.status.as_str())) }
                                    td {
                                        @if let Some(code) = &n.error_code { (code) " " }
                                        (n.error_message.as_deref().unwrap_or(""))
                                    }
                                    td { (maybe_time(n.updated_at.as_ref())) }
                                }
                            }
                        }
                    }
                }
            }
            @if let Some(q) = next {
                p { a rel="next" href={ "/console/notifications?" (q) } { "Older texts →" } }
            }
        },
    )
}
