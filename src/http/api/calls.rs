//! `POST /api/calls/outbound` (one call, or a campaign with `contacts`) and
//! `GET /api/calls/{id}`.

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{json_object, request};
use crate::app::{calls, AppState, NewCall, PlacedCall};
use crate::call::{ApiFailure, CallRecord, CallState, CampaignLink, Disposition, TimelineEntry};
use crate::campaign::create::input::{FlowName, Name, Phone, Variables};
use crate::campaign::create::CampaignRequest;
use crate::http::auth::Authenticated;
use crate::http::ApiError;

/// The single-call form. Its fields share their validators with a campaign contact.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CallRequest {
    to: Phone,
    #[serde(default)]
    flow: Option<FlowName>,
    #[serde(default)]
    name: Option<Name>,
    #[serde(default)]
    variables: Variables,
}

/// `POST /api/calls/outbound`: place one call (201), or start a campaign (202).
pub async fn create_outbound(
    _: Authenticated,
    service: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body = json_object(&body)?;
    if body.get("contacts").is_some() {
        if body.get("to").is_some() {
            return Err(ApiError::invalid(
                "to",
                "give either `to` (one call) or `contacts` (a campaign), not both",
            ));
        }
        let campaign: CampaignRequest = request(body)?;
        let created = crate::campaign::create::launch(&service, campaign).await?;
        return Ok(HttpResponse::Accepted().json(created));
    }
    let call: CallRequest = request(body)?;
    let new = NewCall {
        to: call.to.0,
        flow: call
            .flow
            .map_or_else(|| service.settings.default_flow.clone(), |f| f.0),
        name: call.name.map(|n| n.0),
        variables: call.variables.0,
    };
    let placed = calls::place_call(&service, new).await?;
    Ok(HttpResponse::Created().json(placed))
}

/// A call record as the API shows it: numbers masked, the state by name.
#[derive(Debug, Serialize)]
struct CallView<'a> {
    call_id: &'a str,
    tenant: &'a str,
    flow_id: &'a str,
    flow_version: &'a str,
    to: String,
    from: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    variables: &'a BTreeMap<String, String>,
    call_sid: Option<&'a str>,
    status: &'a str,
    state: &'static str,
    state_detail: &'a CallState,
    consent: Option<bool>,
    recording_sid: Option<&'a str>,
    recording_status: Option<&'a str>,
    disposition: Option<Disposition>,
    answered_by: Option<&'a str>,
    turn: u32,
    last_sequence: Option<u32>,
    duration_secs: Option<u32>,
    error: Option<&'a ApiFailure>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    answered_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    campaign: Option<&'a CampaignLink>,
    version: u64,
}

impl<'a> CallView<'a> {
    fn new(record: &'a CallRecord, version: u64) -> Self {
        // Destructured in full: a new record field must be placed here on purpose.
        let CallRecord {
            call_id,
            tenant,
            flow_id,
            flow_version,
            to,
            from,
            name,
            variables,
            call_sid,
            status,
            state,
            consent,
            recording_sid,
            recording_status,
            disposition,
            answered_by,
            turn,
            last_sequence,
            duration_secs,
            error,
            created_at,
            updated_at,
            answered_at,
            ended_at,
            campaign,
        } = record;
        Self {
            call_id,
            tenant,
            flow_id,
            flow_version,
            to: to.masked(),
            from: from.masked(),
            name: name.as_deref(),
            variables,
            call_sid: call_sid.as_deref(),
            status: status.as_str(),
            state: state.name(),
            state_detail: state,
            consent: *consent,
            recording_sid: recording_sid.as_deref(),
            recording_status: recording_status.as_deref(),
            disposition: *disposition,
            answered_by: answered_by.as_deref(),
            turn: *turn,
            last_sequence: *last_sequence,
            duration_secs: *duration_secs,
            error: error.as_ref(),
            created_at: *created_at,
            updated_at: *updated_at,
            answered_at: *answered_at,
            ended_at: *ended_at,
            campaign: campaign.as_ref(),
            version,
        }
    }
}

#[derive(Debug, Serialize)]
struct CallDetail<'a> {
    call: CallView<'a>,
    summary: PlacedCall,
    timeline: Vec<TimelineEntry>,
}

/// `GET /api/calls/{id}`: the record and its timeline; `id` may be a Twilio CallSid.
pub async fn get_call(
    _: Authenticated,
    service: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (record, version, timeline) = calls::get_call(&service, &id).await?;
    Ok(HttpResponse::Ok().json(CallDetail {
        call: CallView::new(&record, version),
        summary: PlacedCall::from(&record),
        timeline,
    }))
}
