//! Calls in progress, with their state and how long they have run.

use chrono::{DateTime, Utc};
use maud::{html, Markup};

use super::{badge, duration, page, Chrome};

/// One call in progress.
pub struct LiveCall {
    pub call_id: String,
    pub direction: &'static str,
    pub from: String,
    pub to: String,
    pub status: String,
    /// The machine's state, when the record reads as an outbound call.
    pub state: Option<&'static str>,
    pub started_at: DateTime<Utc>,
    pub elapsed_secs: i64,
    pub campaign_id: Option<String>,
}

pub fn page_of(calls: &[LiveCall], chrome: &Chrome<'_>) -> Markup {
    page(
        "Live calls",
        Some(chrome),
        html! {
            p { "Calls in progress, updated as they change." }
            div #live data-live="/console/live/events" aria-live="polite" { (table(calls)) }
        },
    )
}

/// The live part of the page.
pub fn table(calls: &[LiveCall]) -> Markup {
    html! {
        @if calls.is_empty() {
            p #no-live { "No call is in progress." }
        } @else {
            div.scroll {
                table #live-calls {
                    caption.sr { "Calls in progress" }
                    thead { tr { th scope="col" { "Call" } th scope="col" { "Direction" } th scope="col" { "From" } th scope="col" { "To" }
                        th scope="col" { "Status" } th scope="col" { "State" } th scope="col" { "Elapsed" } th scope="col" { "Campaign" } } }
                    tbody {
                        @for c in calls {
                            tr data-call=(c.call_id) {
                                td { a href={ "/console/calls/" (c.call_id) } { code { (c.call_id) } } }
                                td { (c.direction) }
                                td { (c.from) }
                                td { (c.to) }
                                td { (badge(&c.status)) }
                                td { @if let Some(s) = c.state { (badge(s)) } }
                                td { span.elapsed data-since=(c.started_at.timestamp()) { (duration(c.elapsed_secs)) } }
                                td { @if let Some(id) = &c.campaign_id { a href={ "/console/campaigns/" (id) } { (id) } } }
                            }
                        }
                    }
                }
            }
        }
    }
}
