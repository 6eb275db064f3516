//! The call log: filters, a page of calls, the link to older ones.

use maud::{html, Markup};

use super::{badge, maybe_time, page, time, Chrome};
use crate::app::call_log::{LoggedCall, DISPOSITIONS};

/// The filters as typed (shown back in the form).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filters {
    pub direction: Option<String>,
    pub disposition: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub campaign_id: Option<String>,
    pub cursor: Option<String>,
}

impl Filters {
    /// The query string of the next page: these filters and `cursor`.
    pub fn next_page(&self, cursor: &str) -> String {
        let pairs: Vec<(&str, &str)> = [
            ("direction", &self.direction),
            ("disposition", &self.disposition),
            ("from", &self.from),
            ("to", &self.to),
            ("since", &self.since),
            ("until", &self.until),
            ("campaign_id", &self.campaign_id),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v.as_deref()?)))
        .chain(std::iter::once(("cursor", cursor)))
        .collect();
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

fn text_filter(id: &str, label: &str, value: Option<&str>, hint: &str) -> Markup {
    html! {
        div.field {
            label for=(id) { (label) }
            input #(id) name=(id) type="text" value=(value.unwrap_or("")) placeholder=(hint);
        }
    }
}

pub fn log(
    filters: &Filters,
    calls: &[LoggedCall],
    next: Option<String>,
    error: Option<&str>,
    chrome: &Chrome<'_>,
) -> Markup {
    let dir = filters.direction.as_deref().unwrap_or("");
    let disp = filters.disposition.as_deref().unwrap_or("");
    page(
        "Call log",
        Some(chrome),
        html! {
            form.card.filters method="get" action="/console/calls" aria-label="Filter calls" {
                div.field {
                    label for="direction" { "Direction" }
                    select #direction name="direction" {
                        option value="" selected[dir.is_empty()] { "Both" }
                        option value="outbound" selected[dir == "outbound"] { "Outbound" }
                        option value="inbound" selected[dir == "inbound"] { "Inbound" }
                    }
                }
                div.field {
                    label for="disposition" { "Disposition" }
                    select #disposition name="disposition" {
                        option value="" selected[disp.is_empty()] { "Any" }
                        @for d in DISPOSITIONS {
                            option value=(d) selected[disp == *d] { (d.replace('_', " ")) }
                        }
                    }
                }
                (text_filter("from", "From", filters.from.as_deref(), "+15551234567"))
                (text_filter("to", "To", filters.to.as_deref(), "+15551234567"))
                (text_filter("since", "Since (UTC)", filters.since.as_deref(), "2026-01-14T00:00"))
                (text_filter("until", "Until (UTC)", filters.until.as_deref(), "2026-01-15T00:00"))
                (text_filter("campaign_id", "Campaign", filters.campaign_id.as_deref(), "campaign id"))
                div.field { button type="submit" { "Filter" } }
            }
            @if let Some(e) = error {
                p.error role="alert" { (e) }
            }
            @if calls.is_empty() && error.is_none() {
                p { "No calls match." }
            }
            @if !calls.is_empty() {
                div.scroll {
                    table #call-log {
                        caption.sr { "Calls, newest first" }
                        thead { tr { th scope="col" { "Started" } th scope="col" { "Direction" } th scope="col" { "From" } th scope="col" { "To" }
                            th scope="col" { "Status" } th scope="col" { "Disposition" } th scope="col" { "Duration" } th scope="col" { "Ended" } th scope="col" { "Campaign" } } }
                        tbody {
                            @for c in calls {
                                tr {
                                    td { a href={ "/console/calls/" (c.call_id) } { (time(&c.started_at)) } }
                                    td { (c.direction.as_str()) }
                                    td { (c.from_number) }
                                    td { (c.to_number) }
                                    td { (badge(&c.status)) }
                                    td { @if let Some(d) = &c.disposition { (badge(d)) } }
                                    td { (c.duration_s.map_or("–".to_string(), |s| super::duration(i64::from(s)))) }
                                    td { (maybe_time(c.ended_at.as_ref())) }
                                    td { @if let Some(id) = &c.campaign_id { a href={ "/console/campaigns/" (id) } { (id) } } }
                                }
                            }
                        }
                    }
                }
            }
            @if let Some(q) = next {
                p { a rel="next" href={ "/console/calls?" (q) } { "Older calls →" } }
            }
        },
    )
}
