//! Every simulated callee persona end to end: API -> Twilio simulator -> signed
//! callbacks -> Redis -> disposition.

use serde_json::Value;
use twilio_sim::{Line, Persona};

use crate::helpers::{spawn_app, state_path};

fn disposition(call: &Value) -> &str {
    call["call"]["disposition"].as_str().unwrap_or("<none>")
}

#[tokio::test]
async fn interested_callee_goes_through_every_state_and_is_recorded() {
    let app = spawn_app().await;
    let (sim_call, call) = app
        .run_call("+15551230001", Some("Ada"), Persona::Interested)
        .await;

    assert_eq!(
        state_path(&call),
        [
            "queued", "dialing", "ringing", "identify", "consent", "record", "pitch", "gather",
            "ended"
        ]
    );
    assert_eq!(disposition(&call), "interested");
    assert_eq!(call["call"]["status"], "completed");
    assert_eq!(call["call"]["consent"], true);
    assert_eq!(call["call"]["answered_by"], "human");
    assert!(call["call"]["recording_sid"]
        .as_str()
        .unwrap()
        .starts_with("RE"));
    assert_eq!(call["call"]["to"], "+1***-***-0001");
    assert!(sim_call.recording_started);
    // Identification comes first, by company and purpose, escaped and read back intact.
    let Line::Said(first) = &sim_call.transcript[0] else {
        panic!("{:?}", sim_call.transcript)
    };
    assert!(
        first.contains("Smith & <Sons> calling about your booking request"),
        "{first}"
    );
    // Every REST request the simulator received was valid against Twilio's OpenAPI description.
    let requests = app.sim.requests();
    assert!(!requests.is_empty());
    assert!(requests.iter().all(|r| r.error.is_none()), "{requests:?}");
    let create = &requests[0].form;
    let events: Vec<&str> = create
        .iter()
        .filter(|(k, _)| k == "StatusCallbackEvent")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(events, ["initiated", "ringing", "answered", "completed"]);
    assert!(create.contains(&("MachineDetection".into(), "DetectMessageEnd".into())));
}

#[tokio::test]
async fn refusing_consent_never_records() {
    let app = spawn_app().await;
    let (sim_call, call) = app
        .run_call("+15551230002", Some("Ada"), Persona::RefusesRecording)
        .await;
    assert_eq!(disposition(&call), "interested");
    assert_eq!(call["call"]["consent"], false);
    assert!(call["call"]["recording_sid"].is_null());
    assert!(!sim_call.recording_started);
    assert!(!sim_call.transcript.contains(&Line::Recording));
    assert!(!state_path(&call).contains(&"record".to_string()));
}

#[tokio::test]
async fn opt_out_mid_pitch_adds_to_dnc_and_blocks_the_next_call() {
    let app = spawn_app().await;
    let to = "+15551230003";
    let (_, call) = app
        .run_call(to, Some("Ada"), Persona::OptsOutMidPitch)
        .await;
    assert_eq!(disposition(&call), "opted_out");
    let path = state_path(&call);
    assert_eq!(&path[path.len() - 2..], ["opt_out", "ended"]);

    let dnc: Value = app
        .api(reqwest::Method::GET, &format!("/api/dnc/{to}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(dnc["on_list"], true, "{dnc}");
    assert_eq!(
        dnc["source"],
        format!("call:{}", call["call"]["call_id"].as_str().unwrap())
    );

    let creates_before = app.sim.calls().len();
    let (status, body) = app.place(serde_json::json!({"to": to})).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("do-not-call"),
        "{body}"
    );
    assert_eq!(
        app.sim.calls().len(),
        creates_before,
        "no Twilio request for a do-not-call number"
    );
}

#[tokio::test]
async fn silence_reprompts_then_ends_without_recording() {
    let app = spawn_app().await;
    let (sim_call, call) = app
        .run_call("+15551230004", Some("Ada"), Persona::Silent)
        .await;
    assert_eq!(disposition(&call), "no_response");
    assert!(!sim_call.recording_started);
    let heard = sim_call
        .transcript
        .iter()
        .filter(|l| matches!(l, Line::Heard(_)))
        .count();
    assert_eq!(
        heard, 2,
        "one question, one reprompt: {:?}",
        sim_call.transcript
    );
}

#[tokio::test]
async fn silence_without_a_name_counts_as_no_consent_then_no_response() {
    let app = spawn_app().await;
    let (sim_call, call) = app.run_call("+15551230005", None, Persona::Silent).await;
    assert_eq!(disposition(&call), "no_response");
    assert_eq!(call["call"]["consent"], false);
    assert!(!sim_call.recording_started);
    assert_eq!(
        state_path(&call),
        ["queued", "dialing", "ringing", "identify", "consent", "pitch", "gather", "ended"]
    );
}

#[tokio::test]
async fn busy_no_answer_voicemail_wrong_person_and_decline() {
    let app = spawn_app().await;
    let cases = [
        ("+15551230010", Persona::Busy, "busy"),
        ("+15551230011", Persona::NoAnswer, "no_answer"),
        ("+15551230012", Persona::Voicemail, "voicemail"),
        ("+15551230013", Persona::WrongPerson, "wrong_party"),
        ("+15551230014", Persona::Declines, "declined"),
    ];
    for (to, persona, expected) in cases {
        let (sim_call, call) = app.run_call(to, Some("Ada"), persona.clone()).await;
        assert_eq!(disposition(&call), expected, "{persona:?}: {call}");
        assert!(
            !sim_call.recording_started || expected == "declined",
            "{persona:?}"
        );
        if expected == "voicemail" {
            assert_eq!(call["call"]["answered_by"], "machine_end_beep");
            let said: String = sim_call
                .transcript
                .iter()
                .filter_map(|l| {
                    if let Line::Said(s) = l {
                        Some(s.as_str())
                    } else {
                        None
                    }
                })
                .collect();
            assert!(said.contains("call us back at +15550001111"), "{said}");
            assert!(said.contains("ask to be removed"), "{said}");
        }
    }
}

#[tokio::test]
async fn twilio_refusal_is_a_502_with_its_code_and_the_call_fails() {
    let app = spawn_app().await;
    let to = "+15551230020";
    app.sim.set_persona(
        to,
        Persona::Rejected {
            code: 21215,
            message: "Geo permission configuration is not permitting call".into(),
            status: 400,
        },
    );
    let (status, body) = app.place(serde_json::json!({"to": to})).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["twilio_code"], 21215);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Geo permission"));
    let call = app
        .get_call(body["error"]["call_id"].as_str().unwrap())
        .await;
    assert_eq!(call["call"]["status"], "failed");
    assert_eq!(call["call"]["disposition"], "failed");
    assert_eq!(call["call"]["error"]["code"], 21215);
}
