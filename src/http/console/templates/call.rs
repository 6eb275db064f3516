//! A call's page: what it is, its timeline (each event, from -> to, when,
//! the TwiML returned), consent, the recording, and the flow's state graph
//! with this call's path highlighted.

use maud::{html, Markup};

use super::{badge, maybe_time, page, time, Chrome};
use crate::call::{CallRecord, TimelineEntry};

pub struct CallPage<'a> {
    pub record: &'a CallRecord,
    pub timeline: &'a [TimelineEntry],
    /// The console route that plays the recording, when the call has one.
    pub recording: Option<String>,
}

/// The states a call went through, in order, from its timeline.
pub fn path_of(timeline: &[TimelineEntry]) -> Vec<&str> {
    let mut path = vec!["queued"];
    for entry in timeline {
        for state in entry.via.iter().chain(std::iter::once(&entry.to)) {
            if path.last() != Some(&state.as_str()) {
                path.push(state);
            }
        }
    }
    path
}

pub fn call(p: &CallPage<'_>, chrome: &Chrome<'_>) -> Markup {
    let r = p.record;
    let title = format!("Call {}", r.call_id);
    let path = path_of(p.timeline);
    page(
        &title,
        Some(chrome),
        html! {
            section.card aria-labelledby="summary-h" {
                h2 #summary-h { "Summary" }
                dl.facts {
                    dt { "Direction" } dd { (r.direction.as_str()) }
                    dt { "From" } dd { (r.from.as_str()) }
                    dt { "To" } dd { (r.to.as_str()) @if let Some(n) = &r.name { " (" (n) ")" } }
                    dt { "Status" } dd #call-status { (badge(r.status.as_str())) }
                    dt { "State" } dd #call-state { (badge(r.state.name())) }
                    dt { "Disposition" } dd { @if let Some(d) = r.disposition { (badge(d.as_str())) } @else { "–" } }
                    dt { "Consent to record" } dd #consent { (match r.consent { Some(true) => "given", Some(false) => "refused", None => "not asked" }) }
                    dt { "Flow" } dd { (r.flow_id) " " (r.flow_version) }
                    dt { "Created" } dd { (time(&r.created_at)) }
                    dt { "Answered" } dd { (maybe_time(r.answered_at.as_ref())) }
                    dt { "Ended" } dd { (maybe_time(r.ended_at.as_ref())) }
                    dt { "Duration" } dd { (r.duration_secs.map_or("–".to_string(), |s| super::duration(i64::from(s)))) }
                    @if let Some(c) = &r.campaign {
                        dt { "Campaign" } dd { a href={ "/console/campaigns/" (c.campaign_id) } { (c.campaign_id) } " contact " (c.contact) }
                    }
                    @if let Some(sid) = &r.call_sid { dt { "Twilio CallSid" } dd { code { (sid) } } }
                    @if let Some(e) = &r.error { dt { "Error" } dd { (e.message) } }
                }
            }
            @if let Some(src) = &p.recording {
                section.card aria-labelledby="recording-h" {
                    h2 #recording-h { "Recording" }
                    audio controls preload="none" src=(src) { a href=(src) { "Download the recording" } }
                }
            }
            @if p.timeline.iter().any(|e| e.heard.is_some()) {
                section.card aria-labelledby="transcript-h" {
                    h2 #transcript-h { "Transcript" }
                    ol.transcript #transcript {
                        @for heard in p.timeline.iter().filter_map(|e| e.heard.as_ref()) {
                            li {
                                @if let Some(q) = &heard.prompt_text { p { strong { "Asked: " } (q) } }
                                p {
                                    strong { "Heard: " }
                                    @if let Some(s) = &heard.speech { "“" (s) "”" }
                                    @if let Some(d) = &heard.digits { "keys " code { (d) } }
                                    @if heard.speech.is_none() && heard.digits.is_none() { "(nothing)" }
                                    @if let Some(c) = heard.confidence { " (confidence " (format!("{:.2}", c.value())) ")" }
                                }
                                p { strong { "Read as: " } (serde_json::to_value(heard.intent).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()) }
                            }
                        }
                    }
                }
            }
            section.card aria-labelledby="timeline-h" {
                h2 #timeline-h { "Timeline" }
                @if p.timeline.is_empty() { p { "Nothing has happened yet." } }
                ol.timeline #timeline {
                    @for entry in p.timeline {
                        li {
                            div.when { (time(&entry.at)) }
                            div.what {
                                code.event { (entry.event) } " "
                                span.move { (entry.from)
                                    @for v in &entry.via { " → " (v) }
                                    " → " strong { (entry.to) } }
                            }
                            @if let Some(twiml) = &entry.twiml {
                                details {
                                    summary { "TwiML returned" }
                                    pre.twiml { code { (pretty_xml(twiml)) } }
                                }
                            }
                        }
                    }
                }
            }
            section.card aria-labelledby="graph-h" {
                h2 #graph-h { "The flow's states" }
                p { "This call's path: " span #path { (path.join(" → ")) } }
                (graph(&path))
            }
        },
    )
}

/// The call machine's states and transitions, this call's highlighted.
fn graph(path: &[&str]) -> Markup {
    let edges = crate::graph::edges();
    let taken = |from: &str, to: &str| path.windows(2).any(|w| w[0] == from && w[1] == to);
    html! {
        ol.graph aria-label="States of the call machine" {
            @for state in crate::graph::STATES {
                @let visited = path.contains(&state);
                li class=(if visited { "state visited" } else { "state" }) {
                    span.name { (state) @if visited { span.sr { " (this call passed here)" } } }
                    ul.edges {
                        @for ((from, to), events) in edges.iter().filter(|((f, _), _)| f == state) {
                            @let hit = taken(from, to);
                            li class=(if hit { "edge taken" } else { "edge" }) {
                                "→ " (to) " " span.small { (events.join(", ")) }
                                @if hit { span.sr { " (taken)" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// TwiML one element a line, indented; the text as returned. Anything that
/// does not read as XML is shown as it is.
pub fn pretty_xml(xml: &str) -> String {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut out = String::new();
    let mut depth = 0usize;
    let mut prev = 0usize;
    let mut after_text = false;
    let newline = |out: &mut String, depth: usize| {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&"  ".repeat(depth));
    };
    loop {
        let event = reader.read_event();
        let pos = usize::try_from(reader.buffer_position()).unwrap_or(xml.len());
        let untrimmed = xml.get(prev..pos).unwrap_or("");
        let raw = untrimmed.trim();
        prev = pos;
        match event {
            Ok(Event::Eof) => break,
            Ok(Event::Start(_)) => {
                newline(&mut out, depth);
                out.push_str(raw);
                depth += 1;
                after_text = false;
            }
            Ok(Event::End(_)) => {
                depth = depth.saturating_sub(1);
                if !after_text {
                    newline(&mut out, depth);
                }
                out.push_str(raw);
                after_text = false;
            }
            Ok(Event::Text(_) | Event::GeneralRef(_) | Event::CData(_)) => {
                // Spaces inside the text stay; those after its tag do not.
                out.push_str(if after_text {
                    untrimmed
                } else {
                    untrimmed.trim_start()
                });
                after_text = true;
            }
            Ok(_) => {
                newline(&mut out, depth);
                out.push_str(raw);
                after_text = false;
            }
            Err(_) => return xml.to_string(),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twiml_is_indented_with_its_text_kept() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?><Response><Gather input="speech" action="/g?a=1&amp;b=2"><Say voice="x">Hi &amp; welcome</Say></Gather><Hangup/></Response>"#;
        let pretty = pretty_xml(xml);
        assert_eq!(
            pretty,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response>\n  <Gather input=\"speech\" action=\"/g?a=1&amp;b=2\">\n    <Say voice=\"x\">Hi &amp; welcome</Say>\n  </Gather>\n  <Hangup/>\n</Response>"
        );
        assert_eq!(pretty_xml("not <xml"), "not <xml");
    }
}
