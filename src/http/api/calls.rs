//! `POST /api/calls/outbound` (one call, or a campaign with `contacts`) and
//! `GET /api/calls/{id}` (the record, its timeline and its transcript).

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::fields::StateCode;
use super::idempotency::{self, Answer, Begin, Guard};
use super::request;
use crate::app::single::{self, Admitted};
use crate::app::{calls, AppState, NewCall, PlacedCall};
use crate::call::{
    ApiFailure, CallRecord, CallState, CampaignLink, Direction, Disposition, Intent, Prompt,
    TimelineEntry,
};
use crate::campaign::create::input::{FlowName, Name, Phone, TimeZoneName, Variables};
use crate::campaign::create::CampaignRequest;
use crate::campaign::dry_run;
use crate::http::auth::Tenant;
use crate::http::error::ErrorBody;
use crate::http::ApiError;
use crate::store::StoreError;

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
    /// The callee's IANA zone; else told from the number.
    #[serde(default)]
    timezone: Option<TimeZoneName>,
    /// The callee's US state (postal code); else told from the area code.
    #[serde(default)]
    state: Option<StateCode>,
    /// `"next_window"`: when the rules hold the call now, dial it when they allow.
    #[serde(default)]
    schedule: Option<Schedule>,
    /// The caller ID: one of the tenant's numbers (else its first).
    #[serde(default)]
    from: Option<Phone>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Schedule {
    NextWindow,
}

/// The answer to a call the rules hold and that was scheduled (202).
#[derive(Debug, Serialize)]
struct ScheduledCall<'a> {
    call_id: &'a str,
    status: &'static str,
    scheduled_at: Option<DateTime<Utc>>,
}

impl CallRequest {
    fn into_new_call(self, service: &AppState) -> Result<NewCall, ApiError> {
        let from = match self.from {
            Some(Phone(from)) if !service.numbers.own_numbers.contains(&from) => {
                return Err(ApiError::Unprocessable {
                    field: "from",
                    reason: format!("{} is not one of this tenant's numbers", from.masked()),
                })
            }
            from => from.map(|f| f.0),
        };
        Ok(NewCall {
            to: self.to.0,
            flow: self
                .flow
                .map_or_else(|| service.settings.default_flow.clone(), |f| f.0),
            name: self.name.map(|n| n.0),
            variables: self.variables.0,
            timezone: self.timezone.map(|tz| tz.0),
            state: self.state.map(|s| s.0),
            from,
        })
    }
}

/// `POST /api/calls/outbound`: place one call (201), or start a campaign (202);
/// with `"dry_run": true`, what would happen (200). An `Idempotency-Key`
/// makes a repeat of the request answer as the first did (see `idempotency`).
#[utoipa::path(
    post,
    path = "/api/calls/outbound",
    tag = "calls",
    params(("Idempotency-Key" = Option<String>, Header, description = "A repeat with the same key and body answers as the first did")),
    request_body(content = Object, description = "One call (`to`, optional `flow`, `name`, `variables`, `timezone`, `state`, `schedule`, `from`) or a campaign (`contacts` and its settings); `\"dry_run\": true` says what would happen and creates nothing"),
    responses(
        (status = 200, description = "Dry run: what would happen", body = Object),
        (status = 201, description = "The call was placed", body = Object),
        (status = 202, description = "The campaign was started, or the call scheduled", body = Object),
        (status = 409, description = "On the do-not-call list, a call in progress to the number, or a repeat still running", body = ErrorBody),
        (status = 422, description = "Held by the calling rules, or a field names something the tenant may not use", body = ErrorBody),
        (status = 502, description = "Twilio refused the call or gave no clear answer", body = ErrorBody),
    ),
)]
pub async fn create_outbound(
    service: Tenant,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency::key_of(&req)?;
    let mut value = outbound_body(&body)?;
    if take_dry_run(&mut value)? {
        // Creates nothing, so there is nothing for a key to protect.
        return Ok(dry_run(&service, value).await?.response());
    }
    let Some(key) = key else {
        return Ok(create(&service, value, None).await?.response());
    };
    let mut guard = match idempotency::begin(&service.store, key, &body).await? {
        Begin::Replay(response) => return Ok(response),
        Begin::Run(guard) => guard,
    };
    // Run apart from this connection: a client that gives up mid-dial does not
    // cancel the dial, and its retry finds the answer.
    let service = service.app();
    let task = actix_web::rt::spawn(async move {
        let outcome = create(&service, value, Some(&mut guard)).await;
        guard.finish(&outcome).await;
        outcome
    });
    match task.await {
        Ok(outcome) => Ok(outcome?.response()),
        Err(e) => Err(StoreError::Corrupt(format!("request task failed: {e}")).into()),
    }
}

/// The body as a JSON object. A campaign's contacts are counted while they
/// are read: one past the limit stops the parse, before the rest are built.
fn outbound_body(body: &[u8]) -> Result<Value, ApiError> {
    use crate::campaign::create::body::{self, BodyError};
    use crate::campaign::create::{too_many_contacts, MAX_CONTACTS};
    body::read(body, MAX_CONTACTS).map_err(|e| match e {
        BodyError::Malformed(e) => ApiError::invalid("body", format!("malformed JSON: {e}")),
        BodyError::NotObject => ApiError::invalid("body", "must be a JSON object"),
        BodyError::TooManyContacts => ApiError::invalid("contacts", too_many_contacts()),
    })
}

/// Takes `dry_run` out of the body: `true` or `false`, absent is `false`.
fn take_dry_run(value: &mut Value) -> Result<bool, ApiError> {
    match value.as_object_mut().and_then(|o| o.remove("dry_run")) {
        None | Some(Value::Bool(false)) => Ok(false),
        Some(Value::Bool(true)) => Ok(true),
        Some(_) => Err(ApiError::invalid("dry_run", "must be true or false")),
    }
}

/// Places the call or launches the campaign the body describes.
async fn create(
    service: &AppState,
    value: Value,
    guard: Option<&mut Guard>,
) -> Result<Answer, ApiError> {
    let call = match form(value)? {
        Form::Campaign(campaign) => {
            let created = crate::campaign::create::launch(service, campaign).await?;
            return Ok(Answer::json(StatusCode::ACCEPTED, &created));
        }
        Form::Call(call) => call,
    };
    let schedule = call.schedule.is_some();
    let admitted = single::prepare_call(service, call.into_new_call(service)?, schedule).await?;
    let (call_id, prepared) = match &admitted {
        Admitted::Dial(prepared) => (prepared.record.call_id.clone(), true),
        Admitted::Scheduled(record) => (record.call_id.clone(), false),
    };
    if let Some(guard) = guard {
        if let Err(e) = guard.bind(&call_id).await {
            // Never dialed: the record says so rather than waiting forever.
            if let Err(abandon) = calls::abandon(service, &call_id, "idempotency key lost").await {
                tracing::warn!(call_id, error = %abandon, "could not abandon an undialed call");
            }
            if !prepared {
                let _ = service.store.unschedule_call(&call_id).await;
            }
            return Err(e);
        }
    }
    let prepared = match admitted {
        Admitted::Dial(prepared) => prepared,
        Admitted::Scheduled(record) => {
            let answer = ScheduledCall {
                call_id: &record.call_id,
                status: "scheduled",
                scheduled_at: record.scheduled_at,
            };
            return Ok(Answer::json(StatusCode::ACCEPTED, &answer));
        }
    };
    let placed = single::dial_prepared(service, prepared).await?;
    Ok(Answer::json(StatusCode::CREATED, &placed))
}

enum Form {
    Call(CallRequest),
    Campaign(CampaignRequest),
}

/// The campaign form when the body has `contacts`, else the single-call form.
fn form(value: Value) -> Result<Form, ApiError> {
    if value.get("contacts").is_none() {
        return Ok(Form::Call(request(value)?));
    }
    if value.get("to").is_some() {
        return Err(ApiError::invalid(
            "to",
            "give either `to` (one call) or `contacts` (a campaign), not both",
        ));
    }
    Ok(Form::Campaign(request(value)?))
}

/// What the request would do, creating nothing.
async fn dry_run(service: &AppState, value: Value) -> Result<Answer, ApiError> {
    let run = match form(value)? {
        Form::Campaign(campaign) => dry_run::campaign(service, campaign).await?,
        Form::Call(call) => {
            let new = call.into_new_call(service)?;
            let call = dry_run::SingleCall {
                to: &new.to,
                flow: &new.flow,
                variables: &new.variables,
                timezone: new.timezone.as_deref(),
                state: new.state,
            };
            dry_run::single(service, call).await?
        }
    };
    Ok(Answer::json(StatusCode::OK, &run))
}

/// A call record as the API shows it: numbers masked, the state by name.
#[derive(Debug, Serialize)]
struct CallView<'a> {
    call_id: &'a str,
    direction: Direction,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    timezone: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    callee_state: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scheduled_at: Option<DateTime<Utc>>,
    version: u64,
}

impl<'a> CallView<'a> {
    fn new(record: &'a CallRecord, version: u64) -> Self {
        // Destructured in full: a new record field must be placed here on purpose.
        let CallRecord {
            call_id,
            direction,
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
            timezone,
            callee_state,
            scheduled_at,
        } = record;
        Self {
            call_id,
            direction: *direction,
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
            timezone: timezone.as_deref(),
            callee_state: callee_state.as_deref(),
            scheduled_at: *scheduled_at,
            version,
        }
    }
}

/// `GET /api/calls/{id}`: the call, a summary, its timeline and its transcript.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct CallDetail<'a> {
    /// The call record (numbers masked).
    #[schema(value_type = Object)]
    call: CallView<'a>,
    #[schema(value_type = Object)]
    summary: PlacedCall,
    /// Every event, oldest first: `at`, `event`, `from`, `to`, `via`, `twiml`
    /// and, on a gather's entry, `heard`.
    #[schema(value_type = Vec<Object>)]
    timeline: &'a [TimelineEntry],
    /// Each question asked and the answer heard, oldest first.
    transcript: Vec<TranscriptTurn<'a>>,
}

/// One question and its answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct TranscriptTurn<'a> {
    /// The `<Gather>` answered (1 for the first question).
    turn: u32,
    /// When the answer arrived (RFC 3339).
    at: DateTime<Utc>,
    /// The question's words as the callee heard them.
    #[schema(value_type = Option<String>)]
    prompt: Option<&'a str>,
    /// The question by the flow's prompt key (`identify`, `consent`, `pitch`,
    /// or their `_reprompt`).
    #[schema(value_type = Option<String>)]
    prompt_key: Option<&'static str>,
    /// The callee's speech as Twilio heard it, at most 500 characters; null when
    /// nothing was said.
    #[schema(value_type = Option<String>)]
    heard: Option<&'a str>,
    /// Twilio's confidence in `heard`, 0 to 1.
    #[schema(minimum = 0.0, maximum = 1.0)]
    confidence: Option<f64>,
    /// The keys pressed, if any.
    #[schema(value_type = Option<String>)]
    digits: Option<&'a str>,
    /// What the answer was read as: `yes`, `no`, `opt_out`, `unclear` or `silence`.
    #[schema(value_type = String)]
    intent: Intent,
}

/// The gathers' answers from a call's timeline.
fn transcript(timeline: &[TimelineEntry]) -> Vec<TranscriptTurn<'_>> {
    timeline
        .iter()
        .filter_map(|entry| {
            let heard = entry.heard.as_ref()?;
            Some(TranscriptTurn {
                turn: heard.turn,
                at: entry.at,
                prompt: heard.prompt_text.as_deref(),
                prompt_key: heard.prompt.map(Prompt::key),
                heard: heard.speech.as_deref(),
                confidence: heard.confidence.map(|c| c.value()),
                digits: heard.digits.as_deref(),
                intent: heard.intent,
            })
        })
        .collect()
}

/// `GET /api/calls/{id}`: the record and its timeline; `id` may be a Twilio CallSid.
#[utoipa::path(
    get,
    path = "/api/calls/{id}",
    tag = "calls",
    params(("id" = String, Path, description = "The call id, or Twilio's CallSid")),
    responses((status = 200, description = "The call, its timeline and its transcript", body = CallDetail)),
)]
pub async fn get_call(service: Tenant, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    match calls::get_any_call(&service, &id).await? {
        calls::AnyCall::Outbound(record, version, timeline) => {
            Ok(HttpResponse::Ok().json(CallDetail {
                call: CallView::new(&record, version),
                summary: PlacedCall::from(&*record),
                transcript: transcript(&timeline),
                timeline: &timeline,
            }))
        }
        calls::AnyCall::Inbound(record, version, timeline) => Ok(HttpResponse::Ok().json(
            super::inbound_call::InboundDetail::new(&record, version, timeline),
        )),
    }
}
