//! One call through the same rules as every campaign dial: the number, the
//! flow, the dial gate (do-not-call, the callee's calling times, the number's
//! cap), an account pacing slot, then the record and the dial. A call the rules
//! hold is refused with when it may be dialed, or, when the request asks for
//! `"schedule": "next_window"`, recorded as `scheduled` and dialed by
//! [`run_scheduled`] when its window opens.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tracing::{info, warn};

use super::calls::{create_record, dial, new_call_id, update, Dialed, NewCall, PlacedCall};
use super::dial_gate::{self, DialReceipt, DialTarget, GateDecision, Hold};
use super::{pace, AppState, ServiceError};
use crate::call::{CallRecord, CallStatus, Input};
use crate::flow::Flow;

/// How long, in real time, a single call waits for an account pacing slot
/// before it is refused with `rate_limited`.
pub const SINGLE_CALL_SLOT_WAIT: Duration = Duration::from_secs(3);

/// `Retry-After` for a Twilio 429 that came without one.
pub const TWILIO_THROTTLED_RETRY_SECS: u64 = 5;

/// How long one instance holds a due scheduled call before another may take it.
const SCHEDULED_LEASE_MS: i64 = 60_000;
/// Checks of the account's log of dials sent before a dial goes out regardless.
const MAX_SEND_CHECKS: u32 = 50;
/// How often due scheduled calls are looked for.
const SCHEDULED_POLL: Duration = Duration::from_millis(250);

/// A single call recorded and counted against its number's cap, not yet dialed.
pub struct Prepared {
    pub record: CallRecord,
    flow: Arc<Flow>,
    receipt: Option<DialReceipt>,
}

/// What a request for one call comes to before the dial.
pub enum Admitted {
    /// Recorded and ready to dial now.
    Dial(Prepared),
    /// Held by the rules and recorded to be dialed at `scheduled_at`.
    Scheduled(CallRecord),
}

fn target<'a>(to: &'a str, timezone: Option<&str>, state: Option<&str>) -> DialTarget<'a> {
    DialTarget {
        to,
        timezone: timezone.and_then(|tz| tz.parse().ok()),
        state: state.and_then(|s| s.parse().ok()),
        window: None,
    }
}

/// Everything before the dial: the flow and variables, the number, the dial
/// gate (the dial counted against the number's cap in the same step), an
/// account pacing slot (shared with campaigns), then the record. A call the rules hold is
/// refused with [`ServiceError::Held`], or recorded as scheduled when
/// `schedule` is set. Without a pacing slot within [`SINGLE_CALL_SLOT_WAIT`]
/// nothing is recorded: `RateLimited`.
pub async fn prepare_call(
    app: &AppState,
    new: NewCall,
    schedule: bool,
) -> Result<Admitted, ServiceError> {
    let flow = app
        .flows
        .current(&new.flow)
        .ok_or_else(|| ServiceError::UnknownFlow(new.flow.clone()))?;
    flow.check_variables(&new.variables)
        .map_err(|(field, reason)| ServiceError::Invalid { field, reason })?;
    crate::compliance::check_number(&new.to, &app.numbers).map_err(|e| ServiceError::Invalid {
        field: "to".into(),
        reason: e.to_string(),
    })?;
    let state = new.state.map(|s| s.code());
    let target = target(new.to.as_str(), new.timezone.as_deref(), state);
    // The rules first, counting the dial against the number's cap and
    // claiming the number in the same step; a call they hold takes no pacing slot.
    let call_id = new_call_id();
    let recorded = dial_gate::check_and_record(app, &target, &call_id).await?;
    if let Some(at) = held_until(recorded.decision, &new, schedule)? {
        return schedule_new(app, &flow, call_id, new, at).await;
    }
    let waited = match wait_for_account_slot(app).await {
        Ok(waited) => waited,
        Err(e) => {
            // Never dialed: the dial does not count against the cap.
            if let Some(receipt) = &recorded.receipt {
                dial_gate::forget(app, receipt).await?;
            }
            return Err(e);
        }
    };
    // An opt-out may have landed while this call waited for its slot.
    if waited && app.store.dnc_get(new.to.as_str()).await?.is_some() {
        crate::observe::dnc_refusal();
        if let Some(receipt) = &recorded.receipt {
            dial_gate::forget(app, receipt).await?;
        }
        return Err(ServiceError::DoNotCall(new.to.masked()));
    }
    let record = match create_record(app, &flow, call_id, new, None).await {
        Ok(record) => record,
        Err(e) => {
            if let Some(receipt) = &recorded.receipt {
                dial_gate::forget(app, receipt).await?;
            }
            return Err(e);
        }
    };
    Ok(Admitted::Dial(Prepared {
        record,
        flow,
        receipt: recorded.receipt,
    }))
}

/// `None`: dial now. `Some(at)`: held until `at`, and the request asked to be
/// scheduled. Otherwise the refusal the request gets.
fn held_until(
    decision: GateDecision,
    new: &NewCall,
    schedule: bool,
) -> Result<Option<DateTime<Utc>>, ServiceError> {
    match decision {
        GateDecision::Allowed => Ok(None),
        GateDecision::DoNotCall => Err(ServiceError::DoNotCall(new.to.masked())),
        // Not a calling window: scheduling would only dial it while it may still be busy.
        GateDecision::Held {
            reason: Hold::CallInProgress,
            next_allowed_at,
        } => Err(ServiceError::Held {
            reason: Hold::CallInProgress,
            next_allowed_at,
        }),
        GateDecision::Held {
            next_allowed_at, ..
        } if schedule => Ok(Some(next_allowed_at)),
        GateDecision::Held {
            reason,
            next_allowed_at,
        } => Err(ServiceError::Held {
            reason,
            next_allowed_at,
        }),
    }
}

/// Records a call the rules hold as scheduled for `at`.
async fn schedule_new(
    app: &AppState,
    flow: &Flow,
    call_id: String,
    new: NewCall,
    at: DateTime<Utc>,
) -> Result<Admitted, ServiceError> {
    let record = create_record(app, flow, call_id, new, None).await?;
    let record = update(app, &record.call_id, Input::Scheduled { at }).await?;
    // Kept for the retention after it is due, not after it was asked for.
    let wait_ms = (at - app.clock.now()).num_milliseconds();
    let ttl = app.record_ttl() + app.clock.real_duration(wait_ms);
    let keys = app.store.keys().call_record(&record.call_id);
    app.store.keep_record(&keys, ttl).await?;
    app.store
        .schedule_call(&record.call_id, at.timestamp_millis())
        .await?;
    info!(call_id = %record.call_id, scheduled_at = %at, "call scheduled for its callee's calling window");
    Ok(Admitted::Scheduled(record))
}

/// Takes the next account-wide dial slot and sleeps until it, or refuses.
/// `true` when it had to wait.
async fn wait_for_account_slot(app: &AppState) -> Result<bool, ServiceError> {
    let budget_ms = (SINGLE_CALL_SLOT_WAIT.as_secs_f64() * 1000.0 * app.clock.speed()) as i64;
    let now = app.clock.now_ms();
    let slot = pace::reserve(app, now, budget_ms).await?.map(|at| at - now);
    match slot {
        Some(0) => Ok(false),
        Some(wait) => {
            tokio::time::sleep(app.clock.real_duration(wait)).await;
            Ok(true)
        }
        None => Err(ServiceError::RateLimited {
            retry_after_secs: SINGLE_CALL_SLOT_WAIT.as_secs().max(1),
        }),
    }
}

/// Dials a prepared call and turns Twilio's answer into the API's. The record
/// exists before Twilio is asked, because Twilio may call the answer URL
/// before it answers us.
/// A failure after the request was sent is [`ServiceError::Unrecorded`].
pub async fn dial_prepared(app: &AppState, prepared: Prepared) -> Result<PlacedCall, ServiceError> {
    let Prepared {
        record,
        flow,
        receipt,
    } = prepared;
    let call_id = record.call_id.clone();
    confirm_account_send(app, &call_id).await?;
    let dialed = match dial(app, &record, &flow).await {
        Ok(dialed) => dialed,
        // The number was taken before the dial went out: nothing was sent.
        Err(e @ ServiceError::Held { .. }) => return Err(e),
        Err(e) => {
            return Err(ServiceError::Unrecorded {
                call_id: call_id.clone(),
                source: Box::new(e),
            })
        }
    };
    match dialed {
        Dialed::Placed(record) => Ok(PlacedCall::from(&*record)),
        Dialed::Rejected {
            status: 429,
            message,
            retry_after_secs,
            ..
        } => {
            // Twilio placed nothing: the dial does not count against the cap.
            if let Some(receipt) = &receipt {
                dial_gate::forget(app, receipt).await?;
            }
            Err(ServiceError::TwilioThrottled {
                call_id,
                message,
                retry_after_secs: retry_after_secs.unwrap_or(TWILIO_THROTTLED_RETRY_SECS),
            })
        }
        Dialed::Rejected { code, message, .. } => Err(ServiceError::TwilioRejected {
            call_id,
            code,
            message,
        }),
        Dialed::Uncertain(message) => Err(ServiceError::TwilioUncertain { call_id, message }),
    }
}

/// The tenant's and the account's last check, right before the request goes
/// out, against the logs of dials really sent (shared with campaign dials):
/// waits while the last second already holds the tenant's `max_cps` or
/// `TWILIO_MAX_CPS` of them. Bounded.
async fn confirm_account_send(app: &AppState, call_id: &str) -> Result<(), ServiceError> {
    let logs = pace::send_logs(app);
    'checks: for _ in 0..MAX_SEND_CHECKS {
        for &(log, rate) in &logs {
            let now = app.clock.now_ms();
            let wait = app.store.confirm_send(log, call_id, now, rate).await?;
            if wait > 0 {
                tokio::time::sleep(app.clock.real_duration(wait)).await;
                continue 'checks;
            }
        }
        return Ok(());
    }
    warn!(
        call_id,
        "account pace still crowded after many checks; dialing"
    );
    Ok(())
}

/// Dials scheduled calls as they fall due, until `stop` fires. Each due call
/// passes the rules again (an opt-out or the cap may have changed): held ones
/// are rescheduled, do-not-call ones given up, the rest queued and dialed.
pub async fn run_scheduled(app: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    loop {
        let now = app.clock.now_ms();
        match app
            .store
            .claim_due_calls(now, now + SCHEDULED_LEASE_MS, 20)
            .await
        {
            Ok(ids) => {
                for id in ids {
                    if let Err(e) = dial_scheduled(&app, &id).await {
                        warn!(call_id = %id, error = %e, "scheduled call not dialed; it is taken up again after its lease");
                    }
                }
            }
            Err(e) => warn!(error = %e, "scheduled calls unavailable"),
        }
        tokio::select! {
            _ = tokio::time::sleep(SCHEDULED_POLL) => {}
            _ = stop.changed() => return,
        }
    }
}

/// One due scheduled call: the rules again, then the dial.
async fn dial_scheduled(app: &AppState, call_id: &str) -> Result<(), ServiceError> {
    let record = super::calls::record(app, call_id).await?;
    if record.status != CallStatus::Scheduled {
        // Dialed or given up already (by an instance that died before unscheduling).
        return Ok(app.store.unschedule_call(call_id).await?);
    }
    let target = target(
        record.to.as_str(),
        record.timezone.as_deref(),
        record.callee_state.as_deref(),
    );
    let recorded = dial_gate::check_and_record(app, &target, call_id).await?;
    match recorded.decision {
        GateDecision::DoNotCall => {
            let reason = "the number is on the do-not-call list".to_string();
            update(app, call_id, Input::Abandoned { reason }).await?;
            return Ok(app.store.unschedule_call(call_id).await?);
        }
        GateDecision::Held {
            next_allowed_at, ..
        } => {
            let at = next_allowed_at;
            update(app, call_id, Input::Scheduled { at }).await?;
            return Ok(app
                .store
                .schedule_call(call_id, at.timestamp_millis())
                .await?);
        }
        GateDecision::Allowed => {}
    }
    // Queued before the dial: should this instance die mid-dial, the call is
    // never dialed a second time (a queued call is not taken up again).
    let record = update(app, call_id, Input::Due).await?;
    app.store.unschedule_call(call_id).await?;
    let flow = app
        .flow_for_version(&record.flow_id, &record.flow_version)
        .await?;
    let prepared = Prepared {
        record,
        flow,
        receipt: recorded.receipt,
    };
    match dial_prepared(app, prepared).await {
        Ok(placed) => info!(call_id, status = %placed.status, "scheduled call dialed"),
        Err(e) => warn!(call_id, error = %e, "scheduled call failed"),
    }
    Ok(())
}
