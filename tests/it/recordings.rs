//! `GET /api/calls/{id}/recording`: the recording streamed from Twilio (the
//! simulator, which requires basic auth on media as Twilio can), with its
//! content type; JSON 404 when the call has none or is not there.

use reqwest::Method;
use serde_json::Value;
use twilio_sim::Persona;

use crate::helpers::{spawn_app, ACCOUNT_SID, AUTH_TOKEN};

#[tokio::test]
async fn a_consented_calls_recording_streams_from_twilio_with_the_accounts_credentials() {
    let app = spawn_app().await;
    let (_, call) = app
        .run_call("+15550141001", Some("Ada"), Persona::Interested)
        .await;
    let call_id = call["call"]["call_id"].as_str().unwrap();
    let recording_sid = call["call"]["recording_sid"].as_str().expect("recorded");

    for id in [call_id, call["call"]["call_sid"].as_str().unwrap()] {
        let resp = app
            .api(Method::GET, &format!("/api/calls/{id}/recording"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "audio/mpeg");
        assert_eq!(resp.headers()["cache-control"], "private, no-store");
        let body = resp.bytes().await.unwrap();
        assert_eq!(body.len(), 38 * 144, "the whole file");
        assert_eq!(&body[..2], &[0xFF, 0xFB], "an MPEG audio frame");
    }
    // It was asked of Twilio as the MP3 of the call's recording, and accepted.
    let fetched: Vec<_> = app
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/Recordings/"))
        .collect();
    assert_eq!(fetched.len(), 2);
    for r in &fetched {
        assert_eq!(r.method, "GET");
        assert_eq!(
            r.path,
            format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{recording_sid}.mp3")
        );
        assert_eq!(r.error, None);
    }

    // No token, no recording.
    let resp = app
        .http
        .get(format!("{}/api/calls/{call_id}/recording", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn a_call_without_a_recording_or_no_call_at_all_answers_json_404() {
    let app = spawn_app().await;
    let (_, call) = app
        .run_call("+15550141002", Some("Ada"), Persona::RefusesRecording)
        .await;
    assert_eq!(call["call"]["recording_sid"], Value::Null, "{call:#}");
    let call_id = call["call"]["call_id"].as_str().unwrap();
    for id in [
        call_id,
        "no-such-call",
        "CA00000000000000000000000000000000",
    ] {
        let resp = app
            .api(Method::GET, &format!("/api/calls/{id}/recording"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 404, "{id}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found", "{body}");
    }
    assert!(
        !app.sim
            .requests()
            .iter()
            .any(|r| r.path.contains("/Recordings/")),
        "Twilio is not asked for a recording the call does not have"
    );
}

#[tokio::test]
async fn the_simulator_serves_media_at_its_recording_url_only_with_credentials() {
    let app = spawn_app().await;
    let (_, call) = app
        .run_call("+15550141003", Some("Ada"), Persona::Interested)
        .await;
    let sid = call["call"]["recording_sid"].as_str().expect("recorded");
    let url = format!(
        "{}/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{sid}",
        app.sim.base_url()
    );
    let http = reqwest::Client::new();
    let wav = http
        .get(&url)
        .basic_auth(ACCOUNT_SID, Some(AUTH_TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(wav.status(), 200);
    assert_eq!(wav.headers()["content-type"], "audio/x-wav");
    let bytes = wav.bytes().await.unwrap();
    assert_eq!(&bytes[..4], b"RIFF");
    assert_eq!(&bytes[8..12], b"WAVE");
    assert_eq!(bytes.len(), 44 + 16_000);

    let anonymous = http.get(format!("{url}.mp3")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let wrong = http
        .get(format!("{url}.mp3"))
        .basic_auth(ACCOUNT_SID, Some("not-the-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let unknown = http
        .get(format!(
            "{}/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/RE{}.mp3",
            app.sim.base_url(),
            "0".repeat(32)
        ))
        .basic_auth(ACCOUNT_SID, Some(AUTH_TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}
