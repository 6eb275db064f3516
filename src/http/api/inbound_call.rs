//! An inbound call as `GET /api/calls/{id}` shows it: numbers masked (the
//! caller's in full as `from_number`, as the call log does), the machine's
//! state, why they called, who answered, the message and its words.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::app::inbound::InboundRecord;
use crate::call::{Direction, TimelineEntry};
use crate::inbound::InboundState;
use crate::phone::mask;

#[derive(Debug, Serialize)]
pub struct InboundView<'a> {
    call_id: &'a str,
    direction: Direction,
    tenant: &'a str,
    call_sid: &'a str,
    from: String,
    to: String,
    from_number: &'a str,
    to_number: &'a str,
    flow_id: &'a str,
    flow_version: &'a str,
    state: &'static str,
    state_detail: &'a InboundState,
    status: &'a crate::app::inbound::CallProgress,
    disposition: Option<&'static str>,
    reason: Option<&'static str>,
    /// The person who took the call: their name, else their number masked.
    answered_by: Option<String>,
    turn: u32,
    recording_sid: Option<&'a str>,
    recording_url: Option<&'a str>,
    recording_secs: Option<u32>,
    transcription: Option<&'a str>,
    duration_secs: Option<u32>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    ended_at: Option<DateTime<Utc>>,
    version: u64,
}

#[derive(Debug, Serialize)]
pub struct InboundDetail<'a> {
    call: InboundView<'a>,
    timeline: Vec<TimelineEntry>,
}

impl<'a> InboundDetail<'a> {
    pub fn new(r: &'a InboundRecord, version: u64, timeline: Vec<TimelineEntry>) -> Self {
        let call = InboundView {
            call_id: &r.call_id,
            direction: r.direction,
            tenant: &r.tenant,
            call_sid: &r.call_sid,
            from: r.from.masked(),
            to: r.to.masked(),
            from_number: r.from.as_str(),
            to_number: r.to.as_str(),
            flow_id: &r.flow_id,
            flow_version: &r.flow_version,
            state: r.state.name(),
            state_detail: &r.state,
            status: &r.status,
            disposition: r.disposition.map(|d| d.as_str()),
            reason: r.reason.map(|d| d.as_str()),
            answered_by: r
                .answered_by
                .as_ref()
                .map(|p| p.name.clone().unwrap_or_else(|| mask(&p.number))),
            turn: r.turn,
            recording_sid: r.recording_sid.as_deref(),
            recording_url: r.recording_url.as_deref(),
            recording_secs: r.recording_secs,
            transcription: r.transcription.as_deref(),
            duration_secs: r.duration_secs,
            created_at: r.created_at,
            updated_at: r.updated_at,
            ended_at: r.ended_at,
            version,
        };
        Self { call, timeline }
    }
}
