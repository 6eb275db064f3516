//! The campaigns list and a campaign's page: progress by disposition, counts
//! by state, why contacts wait, the dial rate against its limit, the steering
//! buttons, and its first contacts with links to their calls.

use maud::{html, Markup};

use super::{badge, csrf_field, page, stamp, Chrome};
use crate::campaign::model::{CampaignStatus, WaitingReason};
use crate::campaign::status::{CampaignView, ContactView};

/// What a campaign's page shows besides its view; refreshed live.
pub struct Progress {
    pub view: CampaignView,
    /// Pending contacts by why they wait, over the first ones looked at.
    pub waiting: Vec<(WaitingReason, u64)>,
    /// Pending contacts looked at for `waiting`; `true` when there were more.
    pub waiting_looked_at: (usize, bool),
    /// Dials sent a second over the pace log's span, and that span (s).
    pub measured_rate: Option<(f64, f64)>,
    pub contacts: Vec<ContactView>,
    pub more_contacts: bool,
}

pub fn reason_name(r: WaitingReason) -> &'static str {
    match r {
        WaitingReason::OutsideWindow => "outside window",
        WaitingReason::StateRule => "state rule",
        WaitingReason::FrequencyCap => "frequency cap",
        WaitingReason::CallInProgress => "call in progress",
        WaitingReason::RetryBackoff => "retry backoff",
        WaitingReason::Paused => "paused",
    }
}

pub fn list(views: &[CampaignView], chrome: &Chrome<'_>) -> Markup {
    page(
        "Campaigns",
        Some(chrome),
        html! {
            @if views.is_empty() {
                p { "No campaigns yet. Start one with " code { "POST /api/calls/outbound" } " and a list of contacts." }
            } @else {
                div.scroll {
                    table {
                        caption.sr { "Campaigns, newest first" }
                        thead { tr { th scope="col" { "Campaign" } th scope="col" { "Status" } th scope="col" { "Flow" }
                            th scope="col" { "Progress" } th scope="col" { "Created" } } }
                        tbody {
                            @for v in views {
                                tr {
                                    td { a href={ "/console/campaigns/" (v.campaign_id) } { code { (v.campaign_id) } } }
                                    td { (badge(v.status.as_str())) }
                                    td { (v.flow.as_deref().unwrap_or("–")) }
                                    td { (v.counts.done) " / " (v.counts.total) " done" }
                                    td { (stamp(v.created_at.as_deref())) }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

pub fn detail(p: &Progress, chrome: &Chrome<'_>) -> Markup {
    let v = &p.view;
    let title = format!("Campaign {}", v.campaign_id);
    page(
        &title,
        Some(chrome),
        html! {
            section.card aria-labelledby="actions-h" data-page-status=(v.status.as_str()) {
                h2 #actions-h { "Status " (badge(v.status.as_str())) }
                p { "Flow " strong { (v.flow.as_deref().unwrap_or("–")) } " version " (v.flow_version.as_deref().unwrap_or("–"))
                    " · created " (stamp(v.created_at.as_deref()))
                    @if let Some(t) = v.completed_at.as_deref() { " · completed " (stamp(Some(t))) }
                    @if let Some(t) = v.canceled_at.as_deref() { " · canceled " (stamp(Some(t))) } }
                div.actions {
                    @for (action, label, allowed) in [
                        ("pause", "Pause", v.status == CampaignStatus::Running),
                        ("resume", "Resume", v.status == CampaignStatus::Paused),
                        ("cancel", "Cancel", !v.status.is_final()),
                    ] {
                        form method="post" action={ "/console/campaigns/" (v.campaign_id) "/" (action) }
                            data-confirm=[(action == "cancel").then_some("Cancel this campaign? Contacts not called yet will not be called.")] {
                            (csrf_field(chrome.csrf))
                            button type="submit" #{ "btn-" (action) } disabled[!allowed] { (label) }
                        }
                    }
                }
            }
            div #progress data-live={ "/console/campaigns/" (v.campaign_id) "/events" } aria-live="polite" {
                (progress(p))
            }
        },
    )
}

/// The live part of a campaign's page (sent again as it changes).
pub fn progress(p: &Progress) -> Markup {
    let c = &p.view.counts;
    let total = c.total.max(1) as f64;
    let pct = |n: u64| n as f64 * 100.0 / total;
    let done_pct = (pct(c.done) * 10.0).round() / 10.0;
    html! {
        section.card aria-labelledby="progress-h" data-status=(p.view.status.as_str()) {
            h2 #progress-h { "Progress" }
            div.bar role="progressbar" aria-label="Contacts done" aria-valuemin="0"
                aria-valuemax=(c.total) aria-valuenow=(c.done)
                aria-valuetext={ (c.done) " of " (c.total) " contacts done" } {
                @for (name, n) in &c.dispositions {
                    @if *n > 0 {
                        span class={ "seg d-" (name) } style={ "width:" (format!("{:.2}", pct(*n))) "%" }
                            title={ (name) ": " (n) } {}
                    }
                }
            }
            p #progress-text { strong { (c.done) " of " (c.total) } " contacts done (" (done_pct) " %)" }
            ul.legend {
                @for (name, n) in &c.dispositions {
                    li { span class={ "swatch d-" (name) } {} (name.replace('_', " ")) ": " strong { (n) } }
                }
            }
        }
        div.grid {
            section.card aria-labelledby="states-h" {
                h2 #states-h { "Contacts by state" }
                dl.counts {
                    dt { "Pending" } dd #count-pending { (c.pending) }
                    dt { "Dialing" } dd #count-dialing { (c.dialing) }
                    dt { "In a call" } dd #count-in_progress { (c.in_progress) }
                    dt { "Waiting for a retry" } dd { (c.waiting_retry) }
                    dt { "Done" } dd #count-done { (c.done) }
                    dt { "Canceled" } dd { (c.canceled) }
                    dt { "Attempts" } dd { (c.attempts) }
                    dt { "Unreadable" } dd { (c.errors) }
                }
            }
            section.card aria-labelledby="waiting-h" {
                h2 #waiting-h { "Why contacts wait" }
                @if p.waiting.is_empty() {
                    p { "No pending contact is held." }
                } @else {
                    dl.counts {
                        @for (reason, n) in &p.waiting {
                            dt { (reason_name(*reason)) } dd { (n) }
                        }
                    }
                }
                p.small { "Over the first " (p.waiting_looked_at.0) " pending contacts"
                    @if p.waiting_looked_at.1 { " (there are more)" } "." }
            }
            section.card aria-labelledby="rate-h" {
                h2 #rate-h { "Dial rate" }
                p {
                    @match p.measured_rate {
                        Some((rate, span)) => { strong #rate-measured { (format!("{rate:.2}")) } " dials/s over the last " (format!("{span:.1}")) " s" }
                        None => { "–" }
                    }
                }
                p { "Limit: " strong { (p.view.settings.calls_per_second.map_or("–".to_string(), |r| format!("{r}"))) } " dials/s, "
                    (p.view.settings.max_concurrent.map_or("–".to_string(), |m| m.to_string())) " at once" }
                @if let Some(next) = p.view.next_scheduled_dial {
                    p { "Next dial due " (super::time(&next)) }
                }
            }
        }
        section.card aria-labelledby="contacts-h" {
            h2 #contacts-h { "Contacts" }
            div.scroll {
                table {
                    thead { tr { th scope="col" { "#" } th scope="col" { "To" } th scope="col" { "Name" } th scope="col" { "State" }
                        th scope="col" { "Attempts" } th scope="col" { "Disposition" } th scope="col" { "Waiting" } th scope="col" { "Call" } } }
                    tbody {
                        @for contact in &p.contacts {
                            tr {
                                td { (contact.index) }
                                td { (contact.to) }
                                td { (contact.name.as_deref().unwrap_or("")) }
                                td { (badge(contact.state.as_str())) }
                                td { (contact.attempts) }
                                td { @if let Some(d) = contact.disposition { (badge(d.as_str())) } }
                                td { @if let Some(r) = contact.waiting_reason { (reason_name(r)) } }
                                td { @if let Some(id) = &contact.call_id {
                                    a href={ "/console/calls/" (id) } aria-label={ "Call of contact " (contact.index) } { "timeline" } } }
                            }
                        }
                    }
                }
            }
            @if p.more_contacts { p.small { "The first " (p.contacts.len()) " contacts are shown; the call log lists every call (filter by campaign)." } }
        }
    }
}
