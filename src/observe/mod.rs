//! What callflow tells the people who run it: Prometheus metrics (rendered at
//! `GET /metrics` by `http::metrics`) and its logs (text or JSON).
//!
//! Recording a metric is an in-memory update (an atomic add or a push onto a
//! lock-free bucket): no Redis, no I/O, no lock held across an await. The
//! names are the `callflow_*` series the README lists; change none of them.

mod logs;

use std::sync::OnceLock;
use std::time::Duration;

use ::metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub use logs::init as init_logs;

const CALLBACKS: &str = "callflow_callbacks_total";
const CALLBACK_SECONDS: &str = "callflow_callback_duration_seconds";
const REDIS_SECONDS: &str = "callflow_redis_round_trip_seconds";
const TRANSITIONS: &str = "callflow_transitions_total";
const DIALS: &str = "callflow_dials_total";
const PACING_WAIT_SECONDS: &str = "callflow_pacing_wait_seconds";
const DNC_REFUSALS: &str = "callflow_dnc_refusals_total";
const SIGNATURE_FAILURES: &str = "callflow_signature_failures_total";
const CAMPAIGN_CONTACTS: &str = "callflow_campaign_contacts";
const CAMPAIGNS_LIVE: &str = "callflow_campaigns_live";
const OUTBOX_BACKLOG: &str = "callflow_outbox_backlog";
const OUTBOX_FAILURES: &str = "callflow_outbox_delivery_failures_total";
const SMS_SENT: &str = "callflow_sms_sends_total";
const SMS_STATUSES: &str = "callflow_sms_status_total";
const SMS_RECEIVED: &str = "callflow_sms_received_total";

/// Latency buckets (seconds): a callback is a few hundred microseconds, a slow
/// Redis or a contended transition tens of milliseconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Pace waits (seconds): from a few milliseconds to a minute at low rates.
const PACING_BUCKETS: &[f64] = &[0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// How often histogram samples are folded in when nobody scrapes, so their
/// memory stays bounded.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder, once; later calls return the same
/// handle. Call it before anything records (handles taken earlier are no-ops).
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(PACING_WAIT_SECONDS.into()), PACING_BUCKETS)
            .expect("the bucket list is not empty")
            .set_buckets_for_metric(Matcher::Full(CALLBACK_SECONDS.into()), LATENCY_BUCKETS)
            .expect("the bucket list is not empty")
            .set_buckets_for_metric(Matcher::Full(REDIS_SECONDS.into()), LATENCY_BUCKETS)
            .expect("the bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        if ::metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics stays empty");
        }
        describe();
        let upkeep = handle.clone();
        let _ = std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || loop {
                std::thread::sleep(UPKEEP_EVERY);
                upkeep.run_upkeep();
            });
        handle
    })
}

/// The Prometheus text page (format 0.0.4).
pub fn render() -> String {
    let handle = install();
    handle.run_upkeep();
    handle.render()
}

fn describe() {
    describe_counter!(CALLBACKS, "Twilio callbacks handled, by kind and outcome");
    describe_histogram!(
        CALLBACK_SECONDS,
        "Time to answer a signed Twilio callback, by kind"
    );
    describe_histogram!(
        REDIS_SECONDS,
        "Redis round trips (one command or pipeline) as the service waits for them"
    );
    describe_counter!(
        TRANSITIONS,
        "Machine transitions written, by machine and the state entered"
    );
    describe_counter!(DIALS, "Create-call requests to Twilio, by result");
    describe_histogram!(
        PACING_WAIT_SECONDS,
        "Dials that waited for a pace slot and how long, by limit"
    );
    describe_counter!(
        DNC_REFUSALS,
        "Dials refused because the number is on the do-not-call list"
    );
    describe_counter!(
        SIGNATURE_FAILURES,
        "Webhooks refused for a missing or wrong X-Twilio-Signature"
    );
    describe_gauge!(
        CAMPAIGN_CONTACTS,
        "Contacts of live campaigns by state, read at scrape time"
    );
    describe_gauge!(
        CAMPAIGNS_LIVE,
        "Campaigns running or paused, read at scrape time"
    );
    describe_gauge!(
        OUTBOX_BACKLOG,
        "Outbox items (campaign and tenant events, texts to send) waiting, read at scrape time"
    );
    describe_counter!(
        OUTBOX_FAILURES,
        "Failed outbox deliveries (events, texts), by outcome (retry or dropped)"
    );
    describe_counter!(
        SMS_SENT,
        "Create-message requests to Twilio, by result (accepted, throttled, rejected, uncertain)"
    );
    describe_counter!(
        SMS_STATUSES,
        "Texts sent that reached a status (sent, delivered, undelivered, failed)"
    );
    describe_counter!(
        SMS_RECEIVED,
        "Incoming texts, by keyword (opt_out, opt_in, help, message)"
    );
    // Shown from the start at 0, so a rate over them is defined before the first.
    counter!(DNC_REFUSALS).absolute(0);
    counter!(SIGNATURE_FAILURES).absolute(0);
}

/// Callback kinds, as the `kind` label shows them.
#[derive(Debug, Clone, Copy)]
pub enum CallbackKind {
    Incoming,
    Gather,
    Status,
    Recording,
    /// A text that came in (`/twilio/sms/incoming`).
    SmsIncoming,
    /// A sent text's status (`/twilio/sms/status`).
    SmsStatus,
    InboundCall,
    InboundMenu,
    InboundDial,
    InboundVoicemail,
    InboundTranscription,
}

impl CallbackKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Incoming => "incoming",
            Self::Gather => "gather",
            Self::Status => "status",
            Self::Recording => "recording",
            Self::SmsIncoming => "sms_incoming",
            Self::SmsStatus => "sms_status",
            Self::InboundCall => "inbound",
            Self::InboundMenu => "inbound_menu",
            Self::InboundDial => "inbound_dial",
            Self::InboundVoicemail => "inbound_voicemail",
            Self::InboundTranscription => "inbound_transcription",
        }
    }
}

/// One callback answered: `outcome` is `ok`, `unknown_call`, `unusable`
/// (no call id or parameters) or `failed`.
pub fn callback(kind: CallbackKind, outcome: &'static str, took: Duration) {
    let kind = kind.as_str();
    counter!(CALLBACKS, "kind" => kind, "outcome" => outcome).increment(1);
    histogram!(CALLBACK_SECONDS, "kind" => kind).record(took.as_secs_f64());
}

/// The histogram of Redis round trips, for the connection layer to keep.
pub fn redis_round_trips() -> ::metrics::Histogram {
    histogram!(REDIS_SECONDS)
}

pub fn transition(machine: &'static str, state: &'static str) {
    counter!(TRANSITIONS, "machine" => machine, "state" => state).increment(1);
}

/// A create-call answered: `placed`, `rejected`, `throttled` or `uncertain`.
pub fn dial(result: &'static str) {
    counter!(DIALS, "result" => result).increment(1);
}

/// A dial waited `wait` for the `limit` (`account_slot` or `send_log`).
pub fn pacing_wait(limit: &'static str, wait: Duration) {
    histogram!(PACING_WAIT_SECONDS, "limit" => limit).record(wait.as_secs_f64());
}

pub fn dnc_refusal() {
    counter!(DNC_REFUSALS).increment(1);
}

pub fn signature_failure() {
    counter!(SIGNATURE_FAILURES).increment(1);
}

/// An outbox delivery (event or text) failed: `dropped` after the last attempt, else `retry`.
pub fn outbox_failure(dropped: bool) {
    let outcome = if dropped { "dropped" } else { "retry" };
    counter!(OUTBOX_FAILURES, "outcome" => outcome).increment(1);
}

/// A text's create request answered: `accepted`, `throttled` (429),
/// `rejected` or `uncertain`.
pub fn sms_sent(result: &'static str) {
    counter!(SMS_SENT, "result" => result).increment(1);
}

/// A text callflow sent reached a status (`sent`, `delivered`,
/// `undelivered`, `failed`): counted once per text and status.
pub fn sms_status(status: &'static str) {
    counter!(SMS_STATUSES, "status" => status).increment(1);
}

/// An incoming text by what it was: `opt_out`, `opt_in`, `help`, `message`.
pub fn sms_received(keyword: &'static str) {
    counter!(SMS_RECEIVED, "keyword" => keyword).increment(1);
}

/// The scrape-time figures: contacts of live campaigns by state, how many
/// campaigns are live, the outbox backlog.
pub fn set_campaigns(live: u64, contacts: &[(&'static str, u64)]) {
    gauge!(CAMPAIGNS_LIVE).set(live as f64);
    for (state, count) in contacts {
        gauge!(CAMPAIGN_CONTACTS, "state" => *state).set(*count as f64);
    }
}

pub fn set_outbox_backlog(items: u64) {
    gauge!(OUTBOX_BACKLOG).set(items as f64);
}
