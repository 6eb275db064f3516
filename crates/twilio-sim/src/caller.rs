//! A simulated caller: someone dials one of the account's numbers. Twilio
//! posts the number's Voice URL and follows the TwiML: `<Gather>` hears the
//! caller's script, `<Dial>` rings the forwarded phones (each answers, is
//! busy or does not answer as its [`Persona`] says) and posts the dial
//! action, `<Record>` takes the caller's message and posts the transcription
//! later; at the end the number's `StatusCallback` hears `completed`. Every
//! request is signed as Twilio signs it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::callee::targets;
use crate::twiml::{parse_twiml, resolve_url, TwimlVerb};
use crate::{sid, CallbackLog, Line, Persona, Reply, SimCall, State};

/// Documents followed per call at most, against loops.
const MAX_DOCUMENTS: usize = 50;

/// What a caller does on the line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Caller {
    /// Answers to each `<Gather>`, in order (keys or words; [`Reply::HangUp`]
    /// hangs up there); silence once they run out.
    pub replies: Vec<Reply>,
    /// At `<Record>`: a message this long (seconds), then the caller hangs
    /// up; 0: hangs up without a word (no recording).
    pub message_secs: u32,
    /// The words of the message, posted to the `transcribeCallback` a moment
    /// after the call (none: the transcription fails).
    pub transcription: Option<String>,
    /// Hangs up while a `<Dial>` rings.
    pub hangs_up_while_ringing: bool,
    /// The final status callback is delivered before the last action (Twilio
    /// does not promise their order).
    pub status_first: bool,
}

/// How a `<Dial>` to `numbers` ends, by the personas of the phones rung.
fn dial_outcome(state: &State, numbers: &[String]) -> (&'static str, Option<String>) {
    let personas = state.personas.lock().unwrap_or_else(|p| p.into_inner());
    let persona = |n: &String| personas.get(n).cloned().unwrap_or(Persona::Interested);
    if let Some(answered) = numbers.iter().find(|n| {
        !matches!(
            persona(n),
            Persona::Busy | Persona::NoAnswer | Persona::Rejected { .. }
        )
    }) {
        return ("completed", Some(answered.clone()));
    }
    let all = |p: fn(&Persona) -> bool| numbers.iter().all(|n| p(&persona(n)));
    if all(|p| matches!(p, Persona::Busy)) {
        ("busy", None)
    } else if all(|p| matches!(p, Persona::Rejected { .. })) {
        ("failed", None)
    } else {
        ("no-answer", None)
    }
}

struct CallerRun {
    state: Arc<State>,
    call: SimCall,
    caller: Caller,
    started: Instant,
    /// Callbacks held back to be delivered after the final status.
    held: Vec<(String, Vec<(String, String)>)>,
}

impl CallerRun {
    fn params(&self, status: &str) -> Vec<(String, String)> {
        let c = &self.call;
        [
            ("AccountSid", self.state.config.account_sid.as_str()),
            ("CallSid", c.sid.as_str()),
            ("From", c.from.as_str()),
            ("To", c.to.as_str()),
            ("Called", c.to.as_str()),
            ("Caller", c.from.as_str()),
            ("CallStatus", status),
            ("Direction", "inbound"),
            ("ApiVersion", "2010-04-01"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    fn log(&self, line: Line) {
        self.state
            .with_call(&self.call.sid, |c| c.transcript.push(line));
    }

    fn set_status(&self, status: &str) {
        let s = status.to_string();
        self.state.with_call(&self.call.sid, |c| c.status = s);
    }

    /// Posts a signed callback as Twilio does (a few tries on a refused
    /// connection or a 5xx), duplicated when the chaos says so.
    async fn deliver(&self, url: &str, params: Vec<(String, String)>) -> Option<(u16, String)> {
        let first = self.deliver_once(url, &params).await;
        let every = self
            .state
            .chaos
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .duplicate_every;
        let delivered = {
            let mut stats = self.state.stats.lock().unwrap_or_else(|p| p.into_inner());
            stats.delivered += 1;
            stats.delivered
        };
        if every > 0 && delivered.is_multiple_of(u64::from(every)) {
            if let Some(again) = self.deliver_once(url, &params).await {
                let mut stats = self.state.stats.lock().unwrap_or_else(|p| p.into_inner());
                stats.delivered += 1;
                stats.duplicates += 1;
                return Some(again);
            }
        }
        first
    }

    async fn deliver_once(&self, url: &str, params: &[(String, String)]) -> Option<(u16, String)> {
        let token = uuid::Uuid::new_v4().simple().to_string();
        let mut last = None;
        for backoff in [0u64, 50, 200, 500] {
            tokio::time::sleep(Duration::from_millis(backoff)).await;
            for target in targets(&self.state, url) {
                let Ok((status, body)) = self
                    .state
                    .callbacks
                    .post_via(url, &target, params, &token)
                    .await
                else {
                    continue;
                };
                last = Some((status, body.clone()));
                if status < 500 {
                    self.state.with_call(&self.call.sid, |c| {
                        c.callbacks.push(CallbackLog {
                            url: url.to_string(),
                            params: params.to_vec(),
                            http_status: status,
                            body,
                        })
                    });
                    return last;
                }
            }
        }
        last
    }

    /// Posts an action whose answer the caller no longer hears (they hung
    /// up), or holds it back until after the final status.
    async fn post_after_hangup(&mut self, url: String, params: Vec<(String, String)>) {
        if self.caller.status_first {
            self.held.push((url, params));
        } else {
            self.deliver(&url, params).await;
        }
    }

    /// A forwarded phone that answered: a call of its own (its `to` is who answered).
    fn answered_leg(&self, number: &str) -> String {
        let leg = SimCall {
            sid: sid("CA"),
            to: number.to_string(),
            from: self.call.from.clone(),
            url: String::new(),
            status_callback: None,
            status_callback_events: Vec::new(),
            machine_detection: None,
            persona: Persona::Manual,
            status: "completed".into(),
            transcript: Vec::new(),
            callbacks: Vec::new(),
            finished: true,
            ended_at: Some(Instant::now()),
            recording_started: false,
            created_at: Instant::now(),
            date_created: chrono::Utc::now(),
        };
        let sid = leg.sid.clone();
        self.state.add_call(leg);
        sid
    }

    /// Follows the TwiML from the Voice URL until someone hangs up.
    // Long on purpose: the caller's side of the call, verb by verb.
    async fn converse(&mut self) {
        let mut doc_url = self.call.url.clone();
        let Some((200, mut doc)) = self.deliver(&doc_url, self.params("ringing")).await else {
            return;
        };
        self.set_status("in-progress");
        let mut replies = self.caller.replies.clone().into_iter();
        'documents: for _ in 0..MAX_DOCUMENTS {
            let Ok(verbs) = parse_twiml(&doc) else { return };
            for verb in verbs {
                let next_url = match verb {
                    TwimlVerb::Say(text) => {
                        self.log(Line::Said(text));
                        continue;
                    }
                    TwimlVerb::Gather { action, says, .. } => {
                        for s in says {
                            self.log(Line::Said(s));
                        }
                        let mut params = self.params("in-progress");
                        match replies.next().unwrap_or(Reply::Silence) {
                            Reply::Speech(t) => {
                                self.log(Line::Heard(t.clone()));
                                params.push(("SpeechResult".into(), t));
                                params.push(("Confidence".into(), "0.92".into()));
                            }
                            Reply::Digits(d) => {
                                self.log(Line::Heard(d.clone()));
                                params.push(("Digits".into(), d));
                            }
                            Reply::Silence => self.log(Line::Heard("<silence>".into())),
                            Reply::HangUp => {
                                self.log(Line::Hangup);
                                return;
                            }
                        }
                        (resolve_url(&doc_url, &action), params)
                    }
                    TwimlVerb::Dial {
                        action, numbers, ..
                    } => {
                        let url = resolve_url(&doc_url, &action);
                        let mut params = self.params("in-progress");
                        if self.caller.hangs_up_while_ringing {
                            self.log(Line::Hangup);
                            params = self.params("completed");
                            params.push(("DialCallStatus".into(), "canceled".into()));
                            self.post_after_hangup(url, params).await;
                            return;
                        }
                        let (outcome, answered) = dial_outcome(&self.state, &numbers);
                        if let Some(number) = answered {
                            // They talked; the action comes once the call is over.
                            let mut params = self.params("completed");
                            params.push(("DialCallStatus".into(), outcome.into()));
                            params.push(("DialCallSid".into(), self.answered_leg(&number)));
                            params.push(("DialCallDuration".into(), "42".into()));
                            params.push(("DialBridged".into(), "true".into()));
                            self.log(Line::Hangup);
                            self.post_after_hangup(url, params).await;
                            return;
                        }
                        params.push(("DialCallStatus".into(), outcome.into()));
                        (url, params)
                    }
                    TwimlVerb::Record {
                        action,
                        transcribe_callback,
                        max_length_secs,
                    } => {
                        self.log(Line::Recording);
                        let secs = self.caller.message_secs.min(max_length_secs);
                        self.log(Line::Hangup);
                        if secs == 0 {
                            // Nothing recorded: Twilio posts no action.
                            return;
                        }
                        let rec_sid = sid("RE");
                        let rec_url = format!(
                            "https://api.twilio.com/2010-04-01/Accounts/{}/Recordings/{rec_sid}",
                            self.state.config.account_sid
                        );
                        let mut params = self.params("completed");
                        params.push(("RecordingSid".into(), rec_sid.clone()));
                        params.push(("RecordingUrl".into(), rec_url.clone()));
                        params.push(("RecordingDuration".into(), secs.to_string()));
                        params.push(("Digits".into(), "hangup".into()));
                        let url = resolve_url(&doc_url, &action);
                        self.post_after_hangup(url, params).await;
                        if let Some(callback) = transcribe_callback {
                            let mut params = self.params("completed");
                            let (status, text) = match &self.caller.transcription {
                                Some(text) => ("completed", text.clone()),
                                None => ("failed", String::new()),
                            };
                            params.push(("TranscriptionSid".into(), sid("TR")));
                            params.push(("TranscriptionStatus".into(), status.into()));
                            params.push(("TranscriptionText".into(), text));
                            params.push(("RecordingSid".into(), rec_sid));
                            params.push(("RecordingUrl".into(), rec_url));
                            // Later and separately: after the call is over.
                            self.held.push((resolve_url(&doc_url, &callback), params));
                        }
                        return;
                    }
                    TwimlVerb::Redirect(url) => {
                        (resolve_url(&doc_url, &url), self.params("in-progress"))
                    }
                    TwimlVerb::Hangup => {
                        self.log(Line::Hangup);
                        return;
                    }
                    TwimlVerb::StartRecording { .. } | TwimlVerb::Pause | TwimlVerb::Other(_) => {
                        continue
                    }
                };
                let (url, params) = next_url;
                match self.deliver(&url, params).await {
                    Some((200, next)) => {
                        doc = next;
                        doc_url = url;
                        continue 'documents;
                    }
                    _ => return,
                }
            }
            // The end of a document ends the call.
            self.log(Line::Hangup);
            return;
        }
    }

    async fn finish(&mut self) {
        self.set_status("completed");
        let now = Instant::now();
        self.state
            .with_call(&self.call.sid, |c| c.ended_at = Some(now));
        if let Some(url) = self.call.status_callback.clone() {
            let mut params = self.params("completed");
            let secs = self.started.elapsed().as_secs().to_string();
            params.push(("CallbackSource".into(), "call-progress-events".into()));
            params.push(("CallDuration".into(), secs.clone()));
            params.push(("Duration".into(), secs));
            self.deliver(&url, params).await;
        }
        for (url, params) in std::mem::take(&mut self.held) {
            tokio::time::sleep(Duration::from_millis(20)).await;
            self.deliver(&url, params).await;
        }
    }
}

/// Places a call from `from` to the account's number `to` as `caller` says;
/// the CallSid, or `None` when the account holds no such number.
pub(crate) fn place(state: &Arc<State>, from: &str, to: &str, caller: Caller) -> Option<String> {
    let number = state
        .numbers
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .find(|n| n.phone_number == to)
        .cloned()?;
    let call = SimCall {
        sid: sid("CA"),
        to: to.to_string(),
        from: from.to_string(),
        url: number.voice_url.clone().unwrap_or_default(),
        status_callback: number.status_callback.clone(),
        status_callback_events: Vec::new(),
        machine_detection: None,
        persona: Persona::Manual,
        status: "ringing".into(),
        transcript: Vec::new(),
        callbacks: Vec::new(),
        finished: false,
        ended_at: None,
        recording_started: false,
        created_at: Instant::now(),
        date_created: chrono::Utc::now(),
    };
    let call_sid = call.sid.clone();
    state.add_call(call.clone());
    let mut run = CallerRun {
        state: state.clone(),
        call,
        caller,
        started: Instant::now(),
        held: Vec::new(),
    };
    let state = state.clone();
    tokio::spawn(async move {
        if !run.call.url.is_empty() {
            run.converse().await;
        }
        run.finish().await;
        let sid = run.call.sid.clone();
        state.with_call(&sid, |c| c.finished = true);
        state.finished.notify_waiters();
    });
    Some(call_sid)
}
