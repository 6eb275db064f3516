//! A server killed with SIGKILL mid-call and started again continues the call
//! from Redis; the call keeps the flow version it started with.

use callflow::redis_server::{free_port, RedisServer};
use twilio_sim::Persona;

use crate::helpers::{env_for, serve_process, start_sim, turn_of, Twilio, API_TOKEN};

#[tokio::test]
async fn sigkill_mid_call_then_restart_continues_the_call_with_its_flow_version() {
    let redis = RedisServer::start().unwrap();
    let sim = start_sim().await;
    let port = free_port().unwrap();
    let workdir = std::env::temp_dir().join(format!("callflow-restart-{port}"));
    let flows = workdir.join("flows");
    std::fs::create_dir_all(&flows).unwrap();
    let original = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/flows/outbound_booking.toml"
    ))
    .unwrap();
    std::fs::write(flows.join("outbound_booking.toml"), &original).unwrap();
    let mut env = env_for(&redis.url(), &sim.base_url(), port);
    env.insert("FLOWS_DIR", flows.display().to_string());

    let mut first = serve_process(&env, port, &workdir).await;
    let to = "+15553330001";
    sim.set_persona(to, Persona::Manual);
    let http = reqwest::Client::new();
    let placed: serde_json::Value = http
        .post(format!("http://127.0.0.1:{port}/api/calls/outbound"))
        .bearer_auth(API_TOKEN)
        .json(&serde_json::json!({"to": to, "name": "Ada"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tw = Twilio::new(
        &format!("http://127.0.0.1:{port}"),
        placed["call_id"].as_str().unwrap(),
        placed["call_sid"].as_str().unwrap(),
    );
    let (_, identify) = tw.answer().await;
    let (_, consent) = tw.say(turn_of(&identify), "yes it's me").await;
    assert!(consent.contains("record this call"), "{consent}");

    // Kill without warning, edit the flow, start again on the same address.
    first.sigkill();
    drop(first);
    let edited = original.replace(
        "We have appointments available",
        "NEW TEXT: appointments available",
    );
    assert_ne!(edited, original);
    std::fs::write(flows.join("outbound_booking.toml"), &edited).unwrap();
    let _second = serve_process(&env, port, &workdir).await;

    // Twilio retrying the last callback reaches a process that never saw it:
    // the reply comes from Redis, the same as before, and nothing moves.
    let (_, retried) = tw.say(turn_of(&identify), "yes it's me").await;
    assert_eq!(retried, consent);

    // The call goes on where it was, with the words it started with.
    let (status, pitch) = tw.say(turn_of(&consent), "yes").await;
    assert_eq!(status, 200);
    assert!(pitch.contains("<Recording"), "{pitch}");
    assert!(
        pitch.contains("We have appointments available"),
        "old flow version: {pitch}"
    );
    let (_, bye) = tw.say(turn_of(&pitch), "yes please").await;
    assert!(bye.contains("Wonderful"), "{bye}");
    tw.status("completed", 5).await;
    let call: serde_json::Value = http
        .get(format!("http://127.0.0.1:{port}/api/calls/{}", tw.call_id))
        .bearer_auth(API_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(call["call"]["disposition"], "interested", "{call}");
    assert_eq!(call["call"]["status"], "completed");

    // A new call uses the edited flow.
    let to2 = "+15553330002";
    sim.set_persona(to2, Persona::Manual);
    let placed: serde_json::Value = http
        .post(format!("http://127.0.0.1:{port}/api/calls/outbound"))
        .bearer_auth(API_TOKEN)
        .json(&serde_json::json!({"to": to2}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tw2 = Twilio::new(
        &tw.base_url,
        placed["call_id"].as_str().unwrap(),
        placed["call_sid"].as_str().unwrap(),
    );
    let (_, first_doc) = tw2.answer().await;
    let (_, pitch2) = tw2.say(turn_of(&first_doc), "no").await;
    assert!(pitch2.contains("NEW TEXT"), "{pitch2}");
    let _ = std::fs::remove_dir_all(&workdir);
}
