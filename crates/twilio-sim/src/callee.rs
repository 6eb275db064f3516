//! A simulated callee: walks a call through Twilio's callbacks as Twilio would,
//! following the TwiML it gets back and answering as its persona says.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::twiml::{parse_twiml, resolve_url, TwimlVerb};
use crate::{sid, CallbackLog, Line, Persona, Reply, SimCall, State};

/// Documents followed per call at most, against loops.
const MAX_DOCUMENTS: usize = 50;
/// Spreads callbacks over load-balanced upstreams.
static NEXT_UPSTREAM: AtomicUsize = AtomicUsize::new(0);

/// Where a balancer with affinity sends a callback: by its `call_id`.
fn affinity_slot(url: &str) -> usize {
    let call_id = url
        .split("call_id=")
        .nth(1)
        .and_then(|rest| rest.split(['&', '#']).next())
        .unwrap_or_default();
    call_id
        .bytes()
        .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize))
}

/// Where a callback to `url` goes: `url` itself, or the upstreams of a load
/// balancer in the order it tries them.
pub(crate) fn targets(state: &State, url: &str) -> Vec<String> {
    match &*state.upstreams.lock().unwrap_or_else(|p| p.into_inner()) {
        Some((public, upstreams)) if url.starts_with(public.as_str()) && !upstreams.is_empty() => {
            let start = if state.affinity.load(Ordering::Relaxed) {
                affinity_slot(url)
            } else {
                NEXT_UPSTREAM.fetch_add(1, Ordering::Relaxed)
            };
            (0..upstreams.len())
                .map(|i| {
                    format!(
                        "{}{}",
                        upstreams[(start + i) % upstreams.len()],
                        &url[public.len()..]
                    )
                })
                .collect()
        }
        _ => vec![url.to_string()],
    }
}

struct Run {
    state: Arc<State>,
    call: SimCall,
    sequence: u32,
    started: Instant,
    recording: Option<(String, String)>,
    /// A status callback held back to be delivered after the next one.
    held_back: Option<(String, Vec<(String, String)>)>,
}

impl Run {
    fn base_params(&self, status: &str) -> Vec<(String, String)> {
        let c = &self.call;
        [
            ("AccountSid", self.state.config.account_sid.as_str()),
            ("CallSid", c.sid.as_str()),
            ("From", c.from.as_str()),
            ("To", c.to.as_str()),
            ("Called", c.to.as_str()),
            ("Caller", c.from.as_str()),
            ("CallStatus", status),
            ("Direction", "outbound-api"),
            ("ApiVersion", "2010-04-01"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    fn set_status(&mut self, status: &str) {
        self.call.status = status.to_string();
        let s = status.to_string();
        self.state.with_call(&self.call.sid, |c| c.status = s);
    }

    fn log(&self, line: Line) {
        let recording = line == Line::Recording;
        self.state.with_call(&self.call.sid, |c| {
            c.transcript.push(line);
            if recording {
                c.recording_started = true;
            }
        });
    }

    fn hung_up_by_api(&self) -> bool {
        self.state
            .ended
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&self.call.sid)
    }

    /// Delivers a callback and, when the chaos says so, delivers it once more:
    /// the second answer is the one followed.
    async fn deliver(&self, url: &str, params: Vec<(String, String)>) -> Option<(u16, String)> {
        let first = self.deliver_once(url, params.clone()).await;
        let every = self.chaos().duplicate_every;
        let delivered = match first {
            Some((status, _)) if status < 500 => {
                let mut stats = self.state.stats.lock().unwrap_or_else(|p| p.into_inner());
                stats.delivered += 1;
                stats.delivered
            }
            _ => return first,
        };
        if every == 0 || !delivered.is_multiple_of(u64::from(every)) {
            return first;
        }
        let again = self.deliver_once(url, params).await;
        if matches!(again, Some((status, _)) if status < 500) {
            let mut stats = self.state.stats.lock().unwrap_or_else(|p| p.into_inner());
            stats.delivered += 1;
            stats.duplicates += 1;
            return again;
        }
        first
    }

    fn chaos(&self) -> crate::CallbackChaos {
        *self.state.chaos.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Posts a signed callback, like Twilio: a few tries with the same
    /// idempotency token when the connection fails or the answer is a 5xx.
    async fn deliver_once(
        &self,
        url: &str,
        params: Vec<(String, String)>,
    ) -> Option<(u16, String)> {
        let targets = targets(&self.state, url);
        let token = uuid::Uuid::new_v4().simple().to_string();
        let mut last = None;
        for backoff in [0u64, 50, 200, 500] {
            tokio::time::sleep(Duration::from_millis(backoff)).await;
            for target in &targets {
                match self
                    .state
                    .callbacks
                    .post_via(url, target, &params, &token)
                    .await
                {
                    Ok((status, body)) => {
                        last = Some((status, body.clone()));
                        if status < 500 {
                            self.state.with_call(&self.call.sid, |c| {
                                c.callbacks.push(CallbackLog {
                                    url: url.to_string(),
                                    params: params.clone(),
                                    http_status: status,
                                    body,
                                })
                            });
                            return last;
                        }
                    }
                    Err(e) => tracing::debug!(error = %e, "simulated callback failed"),
                }
            }
        }
        last
    }

    async fn status(&mut self, status: &str, event: &str) {
        self.set_status(status);
        let Some(url) = self.call.status_callback.clone() else {
            return;
        };
        let terminal = matches!(
            status,
            "completed" | "busy" | "no-answer" | "failed" | "canceled"
        );
        if terminal {
            // Over for Twilio now, whatever is still to be delivered.
            let now = Instant::now();
            self.state
                .with_call(&self.call.sid, |c| c.ended_at = Some(now));
        }
        if !terminal && !self.call.status_callback_events.iter().any(|e| e == event) {
            return;
        }
        let mut params = self.base_params(status);
        params.push(("CallbackSource".into(), "call-progress-events".into()));
        params.push(("SequenceNumber".into(), self.sequence.to_string()));
        params.push(("Timestamp".into(), chrono::Utc::now().to_rfc2822()));
        if terminal {
            let secs = self.started.elapsed().as_secs().to_string();
            params.push(("CallDuration".into(), secs.clone()));
            params.push(("Duration".into(), secs));
        }
        self.sequence += 1;
        let every = u64::from(self.chaos().reorder_every);
        if !terminal && every > 0 && self.held_back.is_none() {
            let seen = self
                .state
                .statuses_seen
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                + 1;
            if seen.is_multiple_of(every) {
                self.held_back = Some((url, params));
                return;
            }
        }
        self.deliver(&url, params).await;
        if let Some((url, params)) = self.held_back.take() {
            if self.deliver(&url, params).await.is_some() {
                self.state
                    .stats
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .reorderings += 1;
            }
        }
    }

    async fn recording_callback(&self, status: &str) {
        let Some((url, rec_sid)) = self.recording.clone() else {
            return;
        };
        let mut params: Vec<(String, String)> = [
            ("AccountSid", self.state.config.account_sid.as_str()),
            ("CallSid", self.call.sid.as_str()),
            ("RecordingSid", rec_sid.as_str()),
            ("RecordingStatus", status),
            ("RecordingSource", "StartCallRecording"),
            ("RecordingChannels", "1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        params.push((
            "RecordingUrl".into(),
            format!(
                "{}/2010-04-01/Accounts/{}/Recordings/{rec_sid}",
                self.state.base_url, self.state.config.account_sid
            ),
        ));
        params.push(("RecordingStartTime".into(), chrono::Utc::now().to_rfc2822()));
        if status == "completed" {
            params.push((
                "RecordingDuration".into(),
                self.started.elapsed().as_secs().to_string(),
            ));
        }
        self.deliver(&url, params).await;
    }

    /// Follows TwiML from the answer URL until the call ends.
    // Long on purpose: one callee's side of the conversation, turn by turn.
    async fn converse(&mut self) {
        let mut params = self.base_params("in-progress");
        if self.call.machine_detection.is_some() {
            let by = if self.call.persona == Persona::Voicemail {
                "machine_end_beep"
            } else {
                "human"
            };
            params.push(("AnsweredBy".into(), by.into()));
        }
        let mut doc_url = self.call.url.clone();
        let Some((200, mut doc)) = self.deliver(&doc_url, params).await else {
            return;
        };
        let mut replies = self.call.persona.replies().into_iter();
        let deaf = matches!(self.call.persona, Persona::Voicemail | Persona::Silent);
        'documents: for _ in 0..MAX_DOCUMENTS {
            let Ok(verbs) = parse_twiml(&doc) else { return };
            for verb in verbs {
                if self.hung_up_by_api() {
                    return;
                }
                match verb {
                    TwimlVerb::Say(text) => self.log(Line::Said(text)),
                    TwimlVerb::Gather {
                        action,
                        action_on_empty_result,
                        says,
                        ..
                    } => {
                        for s in says {
                            self.log(Line::Said(s));
                        }
                        let think = *self
                            .state
                            .think_time
                            .lock()
                            .unwrap_or_else(|p| p.into_inner());
                        tokio::time::sleep(think).await;
                        let reply = if deaf {
                            Reply::Silence
                        } else {
                            replies.next().unwrap_or(Reply::Silence)
                        };
                        let mut params = self.base_params("in-progress");
                        match &reply {
                            Reply::Speech(t) => {
                                self.log(Line::Heard(t.clone()));
                                params.push(("SpeechResult".into(), t.clone()));
                                params.push(("Confidence".into(), "0.92".into()));
                            }
                            Reply::Digits(d) => {
                                self.log(Line::Heard(d.clone()));
                                params.push(("Digits".into(), d.clone()));
                            }
                            Reply::Silence => {
                                self.log(Line::Heard("<silence>".into()));
                                if !action_on_empty_result {
                                    continue;
                                }
                            }
                            Reply::HangUp => return,
                        }
                        let url = resolve_url(&doc_url, &action);
                        match self.deliver(&url, params).await {
                            Some((200, next)) => {
                                doc = next;
                                doc_url = url;
                                continue 'documents;
                            }
                            _ => return,
                        }
                    }
                    TwimlVerb::StartRecording { status_callback } => {
                        self.log(Line::Recording);
                        if let Some(cb) = status_callback {
                            let rec_sid = sid("RE");
                            self.state
                                .recordings
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .insert(rec_sid.clone());
                            self.recording = Some((resolve_url(&doc_url, &cb), rec_sid));
                            self.recording_callback("in-progress").await;
                        }
                    }
                    TwimlVerb::Redirect(url) => {
                        let url = resolve_url(&doc_url, &url);
                        match self.deliver(&url, self.base_params("in-progress")).await {
                            Some((200, next)) => {
                                doc = next;
                                doc_url = url;
                                continue 'documents;
                            }
                            _ => return,
                        }
                    }
                    TwimlVerb::Hangup => {
                        self.log(Line::Hangup);
                        return;
                    }
                    TwimlVerb::Pause
                    | TwimlVerb::Other(_)
                    | TwimlVerb::Dial { .. }
                    | TwimlVerb::Record { .. } => {}
                }
            }
            // The end of a document ends the call.
            return;
        }
    }
}

pub async fn run(state: Arc<State>, call_sid: String) {
    let Some(call) = state.with_call(&call_sid, |c| c.clone()) else {
        return;
    };
    let mut run = Run {
        state: state.clone(),
        call,
        sequence: 0,
        started: Instant::now(),
        recording: None,
        held_back: None,
    };
    let pause = Duration::from_millis(5);
    tokio::time::sleep(pause).await;
    run.status("initiated", "initiated").await;
    tokio::time::sleep(pause).await;
    run.status("ringing", "ringing").await;
    tokio::time::sleep(pause).await;
    match run.call.persona {
        Persona::Busy => run.status("busy", "completed").await,
        Persona::NoAnswer => run.status("no-answer", "completed").await,
        _ => {
            run.status("in-progress", "answered").await;
            run.converse().await;
            if run.recording.is_some() {
                run.recording_callback("completed").await;
            }
            run.status("completed", "completed").await;
        }
    }
    state.with_call(&call_sid, |c| {
        c.finished = true;
        c.ended_at.get_or_insert_with(Instant::now);
    });
    state.finished.notify_waiters();
}
