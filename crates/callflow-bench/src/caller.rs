//! Plays Twilio for one call at a time: places it through callflow's API, then
//! posts its callbacks, signed for the public address, the way Twilio would.

use std::time::Instant;

use serde_json::{json, Value};

use crate::http1::Http1;
use crate::instance::Instance;
use crate::{ACCOUNT_SID, API_TOKEN, AUTH_TOKEN};

/// The TwiML's Gather turn, from `turn=N` in its action URL.
fn turn(twiml: &str) -> Option<u32> {
    let start = twiml.find("turn=")? + 5;
    twiml[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()
}

/// Plays Twilio against one or more instances behind one public address: calls
/// are placed round-robin, and each callback goes to the next instance (as a
/// round-robin load balancer would), signed for the public URL.
pub(crate) struct Caller {
    pub(crate) http: reqwest::Client,
    public: String,
    targets: Vec<String>,
}

/// One worker's keep-alive connections, one per instance.
pub(crate) struct Lane {
    conns: Vec<Http1>,
}

impl Caller {
    pub(crate) fn new(servers: &[Instance], public: &str) -> Self {
        twilio_sim::install_crypto();
        Self {
            http: reqwest::Client::new(),
            public: public.to_string(),
            targets: servers.iter().map(|s| s.url.clone()).collect(),
        }
    }

    pub(crate) fn lane(&self) -> Lane {
        Lane {
            conns: self.targets.iter().map(|t| Http1::new(t)).collect(),
        }
    }

    /// Places one call through the API, then plays Twilio through to the end.
    /// Returns the latencies (kind, ms) of its callbacks.
    pub(crate) async fn call(
        &self,
        lane: &mut Lane,
        n: u64,
    ) -> Result<Vec<(&'static str, f64)>, String> {
        let (to, call_id, sid) = self.place(lane, n).await?;
        self.drive(lane, n, &to, &call_id, &sid).await
    }

    /// `POST /api/calls/outbound`: (to, call id, CallSid).
    pub(crate) async fn place(
        &self,
        lane: &mut Lane,
        n: u64,
    ) -> Result<(String, String, String), String> {
        // +1555000xxxx are the services' own caller IDs (see the harness):
        // callees start above them, since dialing one's own number is refused.
        let to = format!("+1555{:07}", 1_000_000 + n % 9_000_000);
        let conn = &mut lane.conns[n as usize % self.targets.len()];
        // A 555 number tells no zone: the callee is placed in New York, where the
        // bench's clock says it is afternoon.
        let body = json!({"to": to, "name": "Ada", "timezone": "America/New_York"}).to_string();
        let auth = format!("Bearer {API_TOKEN}");
        let (status, answer) = conn
            .post(
                "/api/calls/outbound",
                &[("Authorization", &auth)],
                "application/json",
                body.as_bytes(),
            )
            .await?;
        let placed: Value = serde_json::from_str(&answer).map_err(|e| e.to_string())?;
        let call_id = placed["call_id"]
            .as_str()
            .ok_or_else(|| format!("not placed ({status}): {placed}"))?
            .to_string();
        let sid = placed["call_sid"].as_str().unwrap_or_default().to_string();
        Ok((to, call_id, sid))
    }

    /// Posts callback `i` of call `n` to `path`, signed for the public URL the
    /// way Twilio signs: (status, body, latency in ms).
    async fn callback(
        &self,
        lane: &mut Lane,
        n: u64,
        i: usize,
        path: &str,
        params: &[(String, String)],
    ) -> Result<(u16, String, f64), String> {
        let t = Instant::now();
        let signed = format!("{}{path}", self.public);
        let signature = twilio_sim::sign(AUTH_TOKEN, &signed, params);
        // Unique per callback, like Twilio's; a counter, not a random UUID (a
        // getrandom system call per request showed in the load generator's profile).
        let token = format!("{n:016x}{i:08x}");
        let body = serde_urlencoded::to_string(params).map_err(|e| e.to_string())?;
        let conn = &mut lane.conns[(n as usize + i) % self.targets.len()];
        let (status, answer) = conn
            .post(
                path,
                &[
                    ("X-Twilio-Signature", &signature),
                    ("I-Twilio-Idempotency-Token", &token),
                ],
                "application/x-www-form-urlencoded",
                body.as_bytes(),
            )
            .await?;
        Ok((status, answer, t.elapsed().as_secs_f64() * 1000.0))
    }

    /// Only the answer webhook: the call then waits at its first question.
    pub(crate) async fn answer(
        &self,
        lane: &mut Lane,
        to: &str,
        call_id: &str,
        sid: &str,
    ) -> Result<(), String> {
        let params: Vec<(String, String)> = vec![
            ("AccountSid".into(), ACCOUNT_SID.into()),
            ("CallSid".into(), sid.to_string()),
            ("From".into(), "+15550009999".into()),
            ("To".into(), to.to_string()),
            ("CallStatus".into(), "in-progress".into()),
            ("AnsweredBy".into(), "human".into()),
        ];
        let path = format!("/twilio/voice/incoming?call_id={call_id}");
        let (status, _, _) = self.callback(lane, 0, 0, &path, &params).await?;
        if status == 200 {
            Ok(())
        } else {
            Err(format!("answer callback answered {status}"))
        }
    }

    /// The ten callbacks of a complete call: three statuses, the answer, three
    /// gathers, the recording start, and the final status.
    // Long on purpose: one call's callbacks in the order Twilio sends them.
    async fn drive(
        &self,
        lane: &mut Lane,
        n: u64,
        to: &str,
        call_id: &str,
        sid: &str,
    ) -> Result<Vec<(&'static str, f64)>, String> {
        let base_params = |status: &str| -> Vec<(String, String)> {
            vec![
                ("AccountSid".into(), ACCOUNT_SID.into()),
                ("CallSid".into(), sid.to_string()),
                ("From".into(), "+15550009999".into()),
                ("To".into(), to.to_string()),
                ("CallStatus".into(), status.into()),
                ("Direction".into(), "outbound-api".into()),
                ("ApiVersion".into(), "2010-04-01".into()),
            ]
        };
        let status = |s: &str, seq: u32| {
            let mut p = base_params(s);
            p.push(("SequenceNumber".into(), seq.to_string()));
            p.push(("CallbackSource".into(), "call-progress-events".into()));
            p
        };
        let mut times = Vec::with_capacity(10);
        let mut step = 0;
        let mut post = async |kind: &'static str,
                              hook: &str,
                              extra: &str,
                              params: Vec<(String, String)>|
               -> Result<String, String> {
            let path = format!("/twilio/voice/{hook}?call_id={call_id}{extra}");
            let (code, body, ms) = self.callback(lane, n, step, &path, &params).await?;
            step += 1;
            if code != 200 {
                return Err(format!("{kind} callback answered {code}"));
            }
            times.push((kind, ms));
            Ok(body)
        };
        for (i, s) in ["initiated", "ringing", "in-progress"].iter().enumerate() {
            post("status", "status", "", status(s, i as u32)).await?;
        }
        let mut answer = base_params("in-progress");
        answer.push(("AnsweredBy".into(), "human".into()));
        let mut doc = post("answer", "incoming", "", answer).await?;
        for (i, reply) in ["yes", "yes", "yes please"].iter().enumerate() {
            let t = turn(&doc).ok_or_else(|| format!("no Gather after step {i}: {doc}"))?;
            let mut p = base_params("in-progress");
            p.push(("SpeechResult".into(), reply.to_string()));
            p.push(("Confidence".into(), "0.9".into()));
            doc = post("gather", "gather", &format!("&turn={t}"), p).await?;
            if i == 1 {
                let mut r = base_params("in-progress");
                r.push(("RecordingSid".into(), format!("RE{:032x}", n)));
                r.push(("RecordingStatus".into(), "in-progress".into()));
                post("status", "recording", "", r).await?;
            }
        }
        let mut done = status("completed", 3);
        done.push(("CallDuration".into(), "42".into()));
        post("status", "status", "", done).await?;
        Ok(times)
    }
}
