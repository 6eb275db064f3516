//! Inbound calls end to end: a caller dials the salon's number through the
//! simulator, callflow answers over HTTP with real Redis, and the call log and
//! the listener show what happened.

use serde_json::{json, Value};
use twilio_sim::{CallbackChaos, Caller, Persona, Reply};

use crate::inbound_helpers::{call_id, salon, Salon, ANA, BEN, NIGHT};
use callflow::app::inbound::InboundCallEvent;

fn digits(d: &str) -> Reply {
    Reply::Digits(d.into())
}

/// Presses 1 (book: ring the salon).
pub fn books() -> Caller {
    Caller {
        replies: vec![digits("1")],
        ..Caller::default()
    }
}

fn people(strategy: &str) -> Value {
    json!({
        "forward_to": [
            {"number": ANA, "name": "Ana", "timeout_s": 15},
            {"number": BEN, "name": "Ben"},
        ],
        "ring_strategy": strategy,
    })
}

fn dialed(call: &twilio_sim::SimCall) -> Vec<String> {
    call.callbacks
        .iter()
        .flat_map(|c| twilio_sim::parse_twiml(&c.body).unwrap_or_default())
        .filter_map(|v| match v {
            twilio_sim::TwimlVerb::Dial { numbers, .. } => Some(numbers.join(",")),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn in_hours_simultaneous_rings_everyone_and_logs_who_answered() {
    let s = salon(people("simultaneous")).await;
    s.app.sim.set_persona(ANA, Persona::NoAnswer);
    let call = s.call(books()).await;
    assert_eq!(dialed(&call), vec![format!("{ANA},{BEN}")]);
    let logged = s
        .logged_when(&call.sid, |c| c["answered_by"] == "Ben")
        .await;
    assert_eq!(logged["disposition"], "answered", "{logged}");
    assert_eq!(logged["reason"], "setup_appointment");
    assert_eq!(logged["answered_by"], "Ben", "{logged}");
    assert_eq!(logged["status"], "completed");
    assert_eq!(logged["direction"], "inbound");
    assert_eq!(
        s.events.kinds(&call_id(&call.sid)),
        vec!["call.incoming", "call.completed"]
    );
}

#[tokio::test]
async fn in_hours_sequential_rings_one_after_the_other() {
    let s = salon(people("sequential")).await;
    s.app.sim.set_persona(ANA, Persona::Busy);
    let call = s.call(books()).await;
    assert_eq!(dialed(&call), vec![ANA.to_string(), BEN.to_string()]);
    // Ana rings for her own timeout.
    let first = call
        .callbacks
        .iter()
        .find(|c| c.body.contains("<Dial"))
        .unwrap();
    assert!(first.body.contains("timeout=\"15\""), "{}", first.body);
    let logged = s.logged(&call.sid).await;
    assert_eq!(logged["disposition"], "answered");
    assert_eq!(logged["answered_by"], "Ben");
}

#[tokio::test]
async fn no_answer_takes_a_message_and_its_transcription_arrives_later() {
    let s = salon(json!({})).await;
    s.app.sim.set_persona(ANA, Persona::NoAnswer);
    let caller = Caller {
        message_secs: 12,
        transcription: Some("Hi, it's Jo, please call me back about Friday.".into()),
        ..books()
    };
    let call = s.call(caller).await;
    let logged = s.logged(&call.sid).await;
    assert_eq!(logged["disposition"], "voicemail", "{logged}");
    assert!(logged["recording_url"]
        .as_str()
        .is_some_and(|u| u.contains("/Recordings/RE")));
    assert_eq!(
        logged["transcription"],
        "Hi, it's Jo, please call me back about Friday."
    );
    let id = call_id(&call.sid);
    assert_eq!(
        s.events.kinds(&id),
        vec![
            "call.incoming",
            "call.missed",
            "voicemail.received",
            "call.completed",
            "voicemail.received"
        ]
    );
    // The transcription's callback, as answered (nothing for the caller to hear).
    let words = call
        .callbacks
        .iter()
        .find(|c| c.url.contains("/inbound/transcription"))
        .expect("the transcription was posted");
    let mut snap = insta::Settings::clone_current();
    snap.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    snap.set_prepend_module_to_snapshot(false);
    snap.set_omit_expression(true);
    snap.bind(|| {
        insta::assert_snapshot!(
            "inbound__transcription_arrived",
            format!(
                "ended (voicemail) + transcription:completed -> ended (voicemail)\nside effects: transcription kept: {}\n\n{}",
                logged["transcription"], words.body
            )
        )
    });
    let events = s.events.of(&id);
    assert!(matches!(
        &events[2],
        InboundCallEvent::VoicemailReceived {
            transcription: None,
            recording_url: Some(_),
            ..
        }
    ));
    assert!(matches!(
        &events[4],
        InboundCallEvent::VoicemailReceived { transcription: Some(t), .. } if t.contains("Friday")
    ));
}

#[tokio::test]
async fn busy_and_no_message_is_missed() {
    let s = salon(json!({})).await;
    s.app.sim.set_persona(ANA, Persona::Busy);
    let call = s.call(books()).await;
    let logged = s.logged(&call.sid).await;
    assert_eq!(logged["disposition"], "missed", "{logged}");
    assert_eq!(
        s.events.kinds(&call_id(&call.sid)),
        vec!["call.incoming", "call.missed", "call.completed"]
    );
}

#[tokio::test]
async fn out_of_hours_takes_a_message_or_rings_the_after_hours_number() {
    let s = salon(json!({"timezone": "America/New_York"})).await;
    let caller = Caller {
        message_secs: 5,
        ..books()
    };
    let call = s.call(caller).await;
    assert!(dialed(&call).is_empty());
    let menu = &call.callbacks[1].body;
    assert!(
        menu.contains("We are closed right now.") && menu.contains("<Record"),
        "{menu}"
    );
    let logged = s.logged(&call.sid).await;
    assert_eq!(logged["disposition"], "voicemail");
    assert!(logged.get("transcription").is_none(), "{logged}");

    let s = salon(json!({"timezone": "America/New_York", "after_hours_forward_to": NIGHT})).await;
    let call = s.call(Caller::default()).await;
    assert_eq!(dialed(&call), vec![NIGHT.to_string()]);
    let logged = s.logged(&call.sid).await;
    assert_eq!(logged["disposition"], "answered");
    assert_eq!(logged["answered_by"], "+1***-***-4199");
}

#[tokio::test]
async fn a_menu_option_that_says_the_hours_is_menu_info_with_its_reason() {
    let s = salon(json!({})).await;
    let caller = Caller {
        replies: vec![digits("4"), Reply::HangUp],
        ..Caller::default()
    };
    let call = s.call(caller).await;
    let heard: Vec<_> = call
        .transcript
        .iter()
        .filter_map(|l| match l {
            twilio_sim::Line::Said(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    assert!(
        heard
            .iter()
            .any(|t| t.contains("We are open Monday to Friday")),
        "{heard:?}"
    );
    let logged = s.logged(&call.sid).await;
    assert_eq!(logged["disposition"], "menu_info", "{logged}");
    assert_eq!(logged["reason"], "get_hours");
}

#[tokio::test]
async fn a_menu_option_by_speech_forwards_with_its_reason() {
    let s = salon(json!({})).await;
    let caller = Caller {
        replies: vec![Reply::Speech("I need to cancel my appointment".into())],
        ..Caller::default()
    };
    let call = s.call(caller).await;
    assert_eq!(dialed(&call), vec![ANA.to_string()]);
    let logged = s.logged(&call.sid).await;
    assert_eq!(logged["disposition"], "answered");
    assert_eq!(logged["reason"], "cancel_appointment");
    assert_eq!(logged["answered_by"], "+1***-***-4101");
}

#[tokio::test]
async fn a_caller_who_hangs_up_while_it_rings_abandoned_the_call() {
    let s = salon(json!({})).await;
    let caller = Caller {
        hangs_up_while_ringing: true,
        ..books()
    };
    let call = s.call(caller).await;
    let logged = s.logged(&call.sid).await;
    assert_eq!(logged["disposition"], "abandoned", "{logged}");
    // At the menu, too.
    let call = s
        .call(Caller {
            replies: vec![Reply::HangUp],
            ..Caller::default()
        })
        .await;
    assert_eq!(s.logged(&call.sid).await["disposition"], "abandoned");
}

#[tokio::test]
async fn duplicated_and_reordered_callbacks_change_nothing_more() {
    let s = salon(json!({})).await;
    s.app.sim.set_callback_chaos(CallbackChaos {
        duplicate_every: 1,
        reorder_every: 0,
    });
    s.app.sim.set_persona(ANA, Persona::NoAnswer);
    // The final status arrives before the record action and the dial action of an answer.
    let caller = Caller {
        message_secs: 8,
        transcription: Some("Call me".into()),
        status_first: true,
        ..books()
    };
    let call = s.call(caller).await;
    assert!(s.app.sim.callback_stats().duplicates >= 5);
    let logged = s.logged(&call.sid).await;
    assert_eq!(logged["disposition"], "voicemail", "{logged}");
    assert_eq!(logged["transcription"], "Call me");
    let kinds = s.events.kinds(&call_id(&call.sid));
    assert_eq!(
        kinds.iter().filter(|k| **k == "call.incoming").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "call.missed").count(),
        1,
        "{kinds:?}"
    );

    s.app.sim.set_persona(ANA, Persona::Interested);
    let call = s
        .call(Caller {
            status_first: true,
            ..books()
        })
        .await;
    let logged = s.logged(&call.sid).await;
    // Abandoned by the status callback's guess, answered by the late dial action.
    assert_eq!(logged["disposition"], "answered", "{logged}");
    let completed: Vec<_> = s
        .events
        .of(&call_id(&call.sid))
        .into_iter()
        .filter_map(|e| match e {
            InboundCallEvent::Completed { disposition, .. } => Some(disposition.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(completed, vec!["abandoned", "answered"]);
}

async fn post(s: &Salon, path: &str, params: &[(&str, &str)]) -> (u16, String) {
    let client = twilio_sim::CallbackClient::new(crate::helpers::AUTH_TOKEN);
    let params: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    client
        .post(&format!("{}{path}", s.app.base_url), &params)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_number_no_tenant_holds_gets_a_polite_goodbye() {
    let s = salon(json!({})).await;
    let (status, body) = post(
        &s,
        "/twilio/voice/inbound",
        &[
            ("CallSid", "CA0000000000000000000000000000dead"),
            ("From", "+15550004501"),
            ("To", "+15550009999"),
            ("Direction", "inbound"),
            ("CallStatus", "ringing"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        body.contains("<Say") && body.contains("<Hangup/>"),
        "{body}"
    );
    let page = s.list("/api/calls?direction=inbound").await;
    assert_eq!(page["calls"].as_array().unwrap().len(), 0);
    // Unsigned: refused before anything is read.
    let resp = s
        .app
        .http
        .post(format!("{}/twilio/voice/inbound", s.app.base_url))
        .form(&[("To", crate::inbound_helpers::LINE)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
}

#[tokio::test]
async fn a_callback_through_another_tenants_number_changes_nothing() {
    let s = salon(json!({})).await;
    s.app.sim.set_persona(ANA, Persona::NoAnswer);
    let other = "+15550004002";
    crate::tenants::create_tenant(
        &s.app,
        json!({"id": "barber", "name": "Barber", "company_name": "Barber Joe", "numbers": [other]}),
    )
    .await;
    let call = s
        .call(Caller {
            message_secs: 3,
            ..books()
        })
        .await;
    let before = s.logged(&call.sid).await;
    assert_eq!(before["disposition"], "voicemail");
    let id = call_id(&call.sid);
    for (path, extra) in [
        (
            format!("/twilio/voice/inbound/transcription?call_id={id}"),
            [
                ("TranscriptionStatus", "completed"),
                ("TranscriptionText", "forged"),
            ],
        ),
        (
            "/twilio/voice/status".to_string(),
            [("CallStatus", "busy"), ("CallDuration", "1")],
        ),
    ] {
        let mut params = vec![
            ("CallSid", call.sid.as_str()),
            ("From", crate::inbound_helpers::CALLER),
            ("To", other),
            ("Direction", "inbound"),
        ];
        params.extend(extra);
        let (status, body) = post(&s, &path, &params).await;
        assert_eq!(status, 200, "{body}");
    }
    let after = s.logged(&call.sid).await;
    assert_eq!(before, after);
}

#[tokio::test]
async fn status_callbacks_find_the_call_by_its_call_sid() {
    let s = salon(json!({})).await;
    let call = s
        .call(Caller {
            replies: vec![digits("4"), Reply::HangUp],
            ..Caller::default()
        })
        .await;
    let status = call
        .callbacks
        .iter()
        .find(|c| c.url.ends_with("/twilio/voice/status"))
        .expect("a status callback");
    assert!(!status.url.contains("call_id"));
    let logged = s.logged(&call.sid).await;
    assert_eq!(logged["status"], "completed");
    assert!(logged["ended_at"].is_string(), "{logged}");
    assert!(logged["duration_s"].is_u64(), "{logged}");
    // The call by its CallSid through the API, too.
    let got = s.list(&format!("/api/calls/{}", call.sid)).await;
    assert_eq!(got["call"]["direction"], "inbound", "{got}");
    assert_eq!(got["call"]["reason"], "get_hours", "{got}");
    assert_eq!(got["call"]["from"], "+1***-***-4501", "{got}");
    let events: Vec<&str> = got["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        vec!["created", "incoming", "menu:1", "status:completed"]
    );
}

#[tokio::test]
async fn round_robin_rotates_across_two_instances() {
    use crate::helpers::{behind_one_address, settings, start_sim};
    use callflow::startup::Application;
    let redis = callflow::redis_server::RedisServer::start().expect("redis-server starts");
    let sim = start_sim().await;
    let (mut env, port_a, port_b) = behind_one_address(&sim, &redis.url());
    env.insert("ADMIN_TOKEN", crate::tenants::ADMIN_TOKEN.into());
    let public = env["PUBLIC_BASE_URL"].clone();
    let mut instances = Vec::new();
    let events = std::sync::Arc::new(crate::inbound_helpers::Recorder::default());
    for port in [port_a, port_b] {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        let app = Application::build(settings(&env), &redis.url(), listener)
            .await
            .expect("app builds");
        app.tenants.root().inbound_listeners.add(events.clone());
        tokio::spawn(app.server);
        instances.push((app.tenants, app.stop));
    }
    let http = reqwest::Client::new();
    let created = http
        .post(format!("http://127.0.0.1:{port_a}/api/admin/tenants"))
        .bearer_auth(crate::tenants::ADMIN_TOKEN)
        .json(&json!({
            "id": "salon", "name": "Salon", "company_name": "Salon Bella",
            "numbers": [crate::inbound_helpers::LINE], "timezone": "America/Los_Angeles",
            "business_hours": crate::inbound_helpers::hours(),
            "forward_to": [{"number": ANA}, {"number": BEN}], "ring_strategy": "round_robin",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    // B learns of the new tenant as its periodic refresh would.
    instances[1].0.refresh().await.unwrap();
    sim.add_number(twilio_sim::SimNumber {
        voice_url: Some(format!("{public}/twilio/voice/inbound")),
        status_callback: Some(format!("{public}/twilio/voice/status")),
        ..twilio_sim::SimNumber::new(crate::inbound_helpers::LINE)
    });
    let mut first_rung = Vec::new();
    for _ in 0..4 {
        let sid = sim
            .place_inbound(
                crate::inbound_helpers::CALLER,
                crate::inbound_helpers::LINE,
                books(),
            )
            .unwrap();
        let call = sim
            .wait_finished(&sid, std::time::Duration::from_secs(20))
            .await
            .unwrap();
        first_rung.push(dialed(&call)[0].clone());
    }
    assert_eq!(first_rung, vec![ANA, BEN, ANA, BEN]);
    for (tenants, _) in &instances {
        let handled = tenants
            .get("salon")
            .unwrap()
            .app
            .callbacks
            .load(std::sync::atomic::Ordering::Relaxed);
        assert!(
            handled > 0,
            "each instance handled some of the calls' callbacks"
        );
    }
}

#[tokio::test]
async fn the_missed_call_text_is_due_once_per_cooldown_and_never_to_a_do_not_call_number() {
    use callflow::app::inbound::missed_call_text_due;
    use callflow::phone::E164;
    let s = crate::inbound_helpers::salon_with(json!({}), |env| {
        env.insert("MISSED_CALL_SMS_COOLDOWN", "90s".into());
        // The service clock runs 100 times faster: 90 s of it pass in 0.9 s.
        env.insert("CALLFLOW_CLOCK_SPEED", "100".into());
        env.insert("DISPATCH_LEASE_SECS", "1000".into());
    })
    .await;
    let app = s.app.tenants.get("salon").unwrap().app.clone();
    assert_eq!(app.settings.missed_call_sms_cooldown.as_secs(), 90);
    let jo = E164::parse("+15550004601").unwrap();
    assert!(missed_call_text_due(&app, &jo).await);
    assert!(!missed_call_text_due(&app, &jo).await);
    // Per caller, per tenant.
    let kim = E164::parse("+15550004602").unwrap();
    assert!(missed_call_text_due(&app, &kim).await);
    // Never to a do-not-call number.
    let dnc = E164::parse("+15550004603").unwrap();
    app.add_to_dnc(&dnc, "api").await.unwrap();
    assert!(!missed_call_text_due(&app, &dnc).await);
    // A tenant without a missed-call text owes none.
    let (_, _) = crate::tenants::create_tenant(
        &s.app,
        json!({"id": "quiet", "name": "Quiet", "company_name": "Quiet Co", "numbers": ["+15550004003"]}),
    )
    .await;
    let quiet = s.app.tenants.get("quiet").unwrap().app.clone();
    assert!(!missed_call_text_due(&quiet, &E164::parse("+15550004604").unwrap()).await);
    // The cooldown lapses with 90 s of the service clock.
    let mut due_again = false;
    for _ in 0..60 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if missed_call_text_due(&app, &jo).await {
            due_again = true;
            break;
        }
    }
    assert!(due_again, "due again once the cooldown is over");
}

#[tokio::test]
async fn a_bad_forward_list_is_refused_naming_the_field() {
    let s = salon(json!({})).await;
    for (body, field) in [
        (
            json!({"forward_to": [{"number": "555"}]}),
            "forward_to[0].number",
        ),
        (
            json!({"forward_to": [{"number": ANA, "timeout_s": 1}]}),
            "forward_to[0].timeout_s",
        ),
        (json!({"ring_strategy": "loudest"}), "ring_strategy"),
        (
            json!({"after_hours_forward_to": "tomorrow"}),
            "after_hours_forward_to",
        ),
    ] {
        let resp =
            crate::tenants::admin(&s.app, reqwest::Method::PATCH, "/api/admin/tenants/salon")
                .json(&body)
                .send()
                .await
                .unwrap();
        assert_eq!(resp.status(), 400, "{body}");
        let error: Value = resp.json().await.unwrap();
        assert!(error.to_string().contains(field), "{body}: {error}");
    }
    let resp = crate::tenants::admin(&s.app, reqwest::Method::PATCH, "/api/admin/tenants/salon")
        .json(&json!({"forward_to": [{"number": ANA, "name": "Ana"}], "ring_strategy": "round_robin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let changed: Value = resp.json().await.unwrap();
    assert_eq!(
        changed["tenant"]["forward_to"][0]["name"], "Ana",
        "{changed}"
    );
    assert_eq!(changed["tenant"]["ring_strategy"], "round_robin");
}
