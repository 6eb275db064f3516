//! The do-not-call list: look a number up, add one, remove one, and a page
//! of the list.

use chrono::{DateTime, Utc};
use maud::{html, Markup};

use super::{csrf_field, maybe_time, page, Chrome};

/// One entry as shown.
pub struct Entry {
    pub number: String,
    pub added_at: Option<DateTime<Utc>>,
    pub source: Option<String>,
}

/// What a search found.
pub enum Lookup {
    None,
    OnList(Entry),
    NotOnList(String),
}

fn remove_form(number: &str, csrf: &str) -> Markup {
    html! {
        form.inline method="post" action="/console/dnc/remove" {
            (csrf_field(csrf))
            input type="hidden" name="number" value=(number);
            button type="submit" aria-label={ "Remove " (number) " from the list" } { "Remove" }
        }
    }
}

pub fn dnc(
    search: Option<&str>,
    lookup: &Lookup,
    entries: &[Entry],
    next: Option<u64>,
    chrome: &Chrome<'_>,
) -> Markup {
    page(
        "Do-not-call list",
        Some(chrome),
        html! {
            div.grid {
                form.card method="get" action="/console/dnc" role="search" {
                    h2 { "Look up a number" }
                    label for="search" { "Number" }
                    input #search type="search" name="number" value=(search.unwrap_or("")) placeholder="+15551234567";
                    button type="submit" { "Search" }
                }
                form.card method="post" action="/console/dnc" {
                    h2 { "Add a number" }
                    (csrf_field(chrome.csrf))
                    label for="add-number" { "Number" }
                    input #add-number type="tel" name="number" required placeholder="+15551234567";
                    button type="submit" { "Add to the list" }
                }
            }
            @match lookup {
                Lookup::None => {}
                Lookup::OnList(e) => {
                    div.result #lookup role="status" { strong { (e.number) } " is on the list (added "
                        (maybe_time(e.added_at.as_ref())) " by " (e.source.as_deref().unwrap_or("?")) "). "
                        (remove_form(&e.number, chrome.csrf)) }
                }
                Lookup::NotOnList(n) => {
                    p.result #lookup role="status" { strong { (n) } " is not on the list." }
                }
            }
            section.card aria-labelledby="list-h" {
                h2 #list-h { "On the list" }
                @if entries.is_empty() { p { "Nothing on this page of the list." } }
                @else {
                    div.scroll {
                        table #dnc-list {
                            thead { tr { th scope="col" { "Number" } th scope="col" { "Added" } th scope="col" { "Source" } th scope="col" { span.sr { "Action" } } } }
                            tbody {
                                @for e in entries {
                                    tr {
                                        td { (e.number) }
                                        td { (maybe_time(e.added_at.as_ref())) }
                                        td { (e.source.as_deref().unwrap_or("")) }
                                        td { (remove_form(&e.number, chrome.csrf)) }
                                    }
                                }
                            }
                        }
                    }
                }
                @if let Some(cursor) = next {
                    p { a rel="next" href={ "/console/dnc?cursor=" (cursor) } { "More →" } }
                }
            }
        },
    )
}
