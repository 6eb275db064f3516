//! Webhook guarantees: signatures fail closed, retries are idempotent, late
//! statuses never move a call backwards, racing callbacks lose nothing.

use serde_json::Value;
use twilio_sim::Persona;

use crate::helpers::{spawn_app, turn_of, TestApp, Twilio, AUTH_TOKEN};

/// Places a call the simulator accepts but does not drive; the test plays Twilio.
async fn manual_call(app: &TestApp, to: &str) -> Twilio {
    app.sim.set_persona(to, Persona::Manual);
    let (status, placed) = app
        .place(serde_json::json!({"to": to, "name": "Ada"}))
        .await;
    assert_eq!(status, 201, "{placed}");
    Twilio::new(
        &app.base_url,
        placed["call_id"].as_str().unwrap(),
        placed["call_sid"].as_str().unwrap(),
    )
}

async fn version(app: &TestApp, call_id: &str) -> u64 {
    app.get_call(call_id).await["call"]["version"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn repeated_callbacks_get_the_same_twiml_and_change_nothing() {
    let app = spawn_app().await;
    let tw = manual_call(&app, "+15552220001").await;
    let (s1, first) = tw.answer().await;
    let v1 = version(&app, &tw.call_id).await;
    let (s2, again) = tw.answer().await;
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(first, again);
    assert_eq!(
        version(&app, &tw.call_id).await,
        v1,
        "a retry writes nothing"
    );

    let turn = turn_of(&first);
    let (_, consent) = tw.say(turn, "yes").await;
    let (_, consent_again) = tw.say(turn, "yes").await;
    assert_eq!(consent, consent_again);
    assert!(consent.contains("record this call"), "{consent}");
    let call = app.get_call(&tw.call_id).await;
    assert_eq!(call["call"]["state"], "consent");
    let gathers = call["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "input:yes")
        .count();
    assert_eq!(gathers, 1, "one transition for two deliveries");

    // The same status twice is also one update.
    tw.status("ringing", 1).await;
    let v = version(&app, &tw.call_id).await;
    tw.status("ringing", 1).await;
    assert_eq!(version(&app, &tw.call_id).await, v);
}

#[tokio::test]
async fn out_of_order_statuses_never_move_a_call_backwards() {
    let app = spawn_app().await;
    let tw = manual_call(&app, "+15552220002").await;
    let (_, twiml) = tw.status("no-answer", 3).await;
    assert!(twiml.contains("<Response/>"), "{twiml}");
    tw.status("ringing", 1).await;
    tw.status("initiated", 0).await;
    let call = app.get_call(&tw.call_id).await;
    assert_eq!(call["call"]["status"], "no-answer");
    assert_eq!(call["call"]["state"], "ended");
    assert_eq!(call["call"]["disposition"], "no_answer");
    assert_eq!(call["call"]["last_sequence"], 3);
}

#[tokio::test]
async fn bad_or_missing_signatures_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let tw = manual_call(&app, "+15552220003").await;
    let before = version(&app, &tw.call_id).await;
    let params = tw.params(&[("CallStatus", "in-progress")]);
    let url = tw.url("incoming", "");

    // Missing signature.
    let resp = app.http.post(&url).form(&params).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    // Signed with the wrong token.
    let wrong = twilio_sim::CallbackClient::new("not-the-token");
    assert_eq!(wrong.post(&url, &params).await.unwrap().0, 403);
    // Signed for another URL (a forged Host header cannot help: the URL comes from PUBLIC_BASE_URL).
    let sig = callflow::twilio::signature::sign(
        AUTH_TOKEN,
        "http://evil.example/twilio/voice/incoming",
        &params,
    );
    let resp = app
        .http
        .post(&url)
        .header("X-Twilio-Signature", sig)
        .header("Host", "evil.example")
        .form(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    // Tampered body: valid signature for other params.
    let sig = callflow::twilio::signature::sign(AUTH_TOKEN, &url, &params);
    let mut tampered = params.clone();
    tampered.push(("AnsweredBy".into(), "machine_end_beep".into()));
    let resp = app
        .http
        .post(&url)
        .header("X-Twilio-Signature", sig)
        .form(&tampered)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);

    assert_eq!(version(&app, &tw.call_id).await, before);
    assert_eq!(app.get_call(&tw.call_id).await["call"]["state"], "queued");
}

#[tokio::test]
async fn unknown_call_gets_polite_twiml() {
    let app = spawn_app().await;
    let tw = Twilio::new(
        &app.base_url,
        "doesnotexist",
        "CA00000000000000000000000000000000",
    );
    let (status, body) = tw.answer().await;
    assert_eq!(status, 200);
    assert!(
        body.contains("<Say") && body.contains("<Hangup/>"),
        "{body}"
    );
    // No call_id at all.
    let url = format!("{}/twilio/voice/incoming", app.base_url);
    let (status, body) = tw.client.post(&url, &tw.params(&[])).await.unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("<Hangup/>"), "{body}");
}

#[tokio::test]
async fn racing_callbacks_lose_no_update() {
    let app = spawn_app().await;
    let tw = manual_call(&app, "+15552220004").await;
    let before = version(&app, &tw.call_id).await;
    // The answer webhook and a status callback for one call at the same moment:
    // each changes the record, and neither change may be lost.
    let (a, c) = tokio::join!(tw.answer(), tw.status("in-progress", 2));
    assert_eq!((a.0, c.0), (200, 200));
    let call = app.get_call(&tw.call_id).await;
    assert_eq!(call["call"]["state"], "identify", "{call}");
    assert_eq!(call["call"]["status"], "in-progress");
    assert_eq!(call["call"]["last_sequence"], 2);
    let events: Vec<&str> = call["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    for e in ["answered:human", "status:in-progress"] {
        assert!(events.contains(&e), "{e} lost: {events:?}");
    }
    assert_eq!(version(&app, &tw.call_id).await, before + 2);
    // A late `ringing` changes nothing.
    tw.status("ringing", 1).await;
    assert_eq!(version(&app, &tw.call_id).await, before + 2);

    // The same gather delivered twice at once: one transition, one reply.
    let turn = turn_of(&a.1);
    let (x, y) = tokio::join!(tw.say(turn, "yes"), tw.say(turn, "yes"));
    assert_eq!(x.1, y.1);
    let call = app.get_call(&tw.call_id).await;
    let yeses = call["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "input:yes")
        .count();
    assert_eq!(yeses, 1);
}

#[tokio::test]
async fn dtmf_opt_out_key_works_from_identify() {
    let app = spawn_app().await;
    let tw = manual_call(&app, "+15552220005").await;
    let (_, first) = tw.answer().await;
    let turn = format!("&turn={}", turn_of(&first));
    let (_, bye) = tw.post("gather", &turn, &[("Digits", "9")]).await;
    assert!(bye.contains("removed from our calling list"), "{bye}");
    let call: Value = app.get_call(&tw.call_id).await;
    assert_eq!(call["call"]["disposition"], "opted_out");
}

#[tokio::test]
async fn completed_before_the_answer_webhook_is_hung_up_not_failed() {
    // Twilio's `completed` means the call connected and ended: someone picked
    // up and hung up before the answer webhook reached us.
    let app = spawn_app().await;
    let tw = manual_call(&app, "+15552220901").await;
    tw.status("ringing", 1).await;
    let (status, _) = tw.status("completed", 2).await;
    assert_eq!(status, 200);
    let call = app.get_call(&tw.call_id).await;
    assert_eq!(call["call"]["status"], "completed", "{call}");
    assert_eq!(call["call"]["disposition"], "hung_up", "{call}");
}
