//! A business line for inbound call tests: a tenant holding a number whose
//! Voice URL and StatusCallback point at the app, a listener recording what
//! the real path tells it, and callers placed through the simulator.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use callflow::app::inbound::{InboundCallEvent, InboundListener};
use callflow::app::AppState;
use serde_json::{json, Value};
use twilio_sim::{Caller, SimCall, SimNumber};

use crate::helpers::{spawn_app_with, TestApp};
use crate::tenants::{create_tenant, Client, ADMIN_TOKEN};

/// The salon's number, and the phones its calls ring.
pub const LINE: &str = "+15550004001";
pub const ANA: &str = "+15550004101";
pub const BEN: &str = "+15550004102";
pub const NIGHT: &str = "+15550004199";
pub const CALLER: &str = "+15550004501";

/// Records every inbound call event the app tells its listeners, in order.
#[derive(Default)]
pub struct Recorder(pub Mutex<Vec<InboundCallEvent>>);

impl InboundListener for Recorder {
    fn on_event(&self, _app: &Arc<AppState>, event: InboundCallEvent) {
        self.0.lock().unwrap().push(event);
    }
}

impl Recorder {
    /// The kinds of the events of call `call_id`, in order.
    pub fn kinds(&self, call_id: &str) -> Vec<&'static str> {
        self.of(call_id).iter().map(|e| e.kind()).collect()
    }

    pub fn of(&self, call_id: &str) -> Vec<InboundCallEvent> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|e| event_call_id(e) == call_id)
            .cloned()
            .collect()
    }
}

pub fn event_call_id(e: &InboundCallEvent) -> &str {
    match e {
        InboundCallEvent::Incoming { call_id, .. }
        | InboundCallEvent::Missed { call_id, .. }
        | InboundCallEvent::MenuText { call_id, .. }
        | InboundCallEvent::Completed { call_id, .. }
        | InboundCallEvent::VoicemailReceived { call_id, .. } => call_id,
    }
}

pub struct Salon {
    pub app: TestApp,
    pub client: Client,
    pub events: Arc<Recorder>,
}

/// Wednesday 09:00-17:00: open at the tests' fixed time in Los Angeles
/// (14:30), closed in New York (17:30).
pub fn hours() -> Value {
    json!({"wed": [["09:00", "17:00"]]})
}

/// The app with tenant `salon` set up as `tenant` says (merged over an open
/// salon in Los Angeles whose calls ring Ana), its number in the simulator.
pub async fn salon(tenant: Value) -> Salon {
    salon_with(tenant, |_| {}).await
}

pub async fn salon_with(
    tenant: Value,
    env: impl FnOnce(&mut std::collections::HashMap<&'static str, String>),
) -> Salon {
    let app = spawn_app_with(|e| {
        e.insert("ADMIN_TOKEN", ADMIN_TOKEN.into());
        env(e);
    })
    .await;
    let mut body = json!({
        "id": "salon", "name": "Salon", "company_name": "Salon Bella",
        "numbers": [LINE], "timezone": "America/Los_Angeles",
        "business_hours": hours(), "forward_to": ANA,
        "missed_call_sms": "Sorry we missed you! Book at https://example.com/book",
    });
    for (k, v) in tenant.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (client, _) = create_tenant(&app, body).await;
    let events = Arc::new(Recorder::default());
    app.tenants.root().inbound_listeners.add(events.clone());
    add_line(&app, LINE);
    Salon {
        app,
        client,
        events,
    }
}

/// Puts `number` in the simulated account with its webhooks at `app`.
pub fn add_line(app: &TestApp, number: &str) {
    app.sim.add_number(SimNumber {
        voice_url: Some(format!("{}/twilio/voice/inbound", app.base_url)),
        status_callback: Some(format!("{}/twilio/voice/status", app.base_url)),
        ..SimNumber::new(number)
    });
}

impl Salon {
    /// A caller calls the salon and the call runs to its end (every callback delivered).
    pub async fn call(&self, caller: Caller) -> SimCall {
        self.call_from(CALLER, caller).await
    }

    pub async fn call_from(&self, from: &str, caller: Caller) -> SimCall {
        let sid = self
            .app
            .sim
            .place_inbound(from, LINE, caller)
            .expect("the line is in the account");
        self.app
            .sim
            .wait_finished(&sid, Duration::from_secs(20))
            .await
            .expect("call finishes")
    }

    /// The call log's entry for the call Twilio knows as `sid`.
    pub async fn logged(&self, sid: &str) -> Value {
        let page = self.list("/api/calls?direction=inbound&limit=50").await;
        page["calls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["call_sid"] == sid)
            .cloned()
            .unwrap_or_else(|| panic!("call {sid} not in the log: {page}"))
    }

    pub async fn list(&self, path: &str) -> Value {
        let resp = self
            .app
            .http
            .get(format!("{}{path}", self.app.base_url))
            .bearer_auth(&self.client.token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        resp.json().await.unwrap()
    }

    /// Waits (bounded) until the logged call satisfies `done`.
    pub async fn logged_when(&self, sid: &str, done: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..100 {
            let call = self.logged(sid).await;
            if done(&call) {
                return call;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.logged(sid).await
    }
}

/// Our call id of the call Twilio knows as `sid`.
pub fn call_id(sid: &str) -> String {
    callflow::app::inbound::call_id_for(sid)
}
