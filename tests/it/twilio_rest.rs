//! The REST client against the simulator, which validates every request
//! against Twilio's OpenAPI description: calls, updates, lists, messages, auth.

use callflow::config::Secret;
use callflow::twilio::rest::{CreateCall, TwilioClient, TwilioError};
use twilio_sim::{Persona, SimConfig, Simulator};

use crate::helpers::{settings, ACCOUNT_SID, AUTH_TOKEN};

async fn sim_with_api_key() -> Simulator {
    callflow::install_crypto();
    let mut config = SimConfig::new(ACCOUNT_SID, AUTH_TOKEN);
    config.api_key_sid = Some("SK0123456789abcdef0123456789abcdef".into());
    config.api_key_secret = Some("key-secret".into());
    Simulator::start(config).await.unwrap()
}

fn client(sim: &Simulator, api_key: Option<(&str, &str)>) -> TwilioClient {
    let env = crate::helpers::env_for("redis://127.0.0.1:1/", &sim.base_url(), 3000);
    let mut twilio = settings(&env).twilio;
    twilio.api_key = api_key.map(|(sid, secret)| (sid.to_string(), Secret::new(secret)));
    TwilioClient::new(&twilio)
}

#[tokio::test]
async fn create_fetch_list_update_and_message() {
    let sim = sim_with_api_key().await;
    let twilio = client(&sim, None);
    let to = "+15556001234";
    sim.set_persona(to, Persona::Manual);
    let call = twilio
        .create_call(&CreateCall {
            to,
            from: "+15550001111",
            url: "https://calls.example.com/twilio/voice/incoming?call_id=x",
            status_callback: "https://calls.example.com/twilio/voice/status?call_id=x",
            machine_detection: Some("Enable"),
        })
        .await
        .expect("created");
    assert!(call.sid.starts_with("CA"));
    assert_eq!(twilio.fetch_call(&call.sid).await.unwrap().status, "queued");
    let listed = twilio.list_calls_to(to).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].from.as_deref(), Some("+15550001111"));
    let ended = twilio
        .update_call_status(&call.sid, "completed")
        .await
        .unwrap();
    assert_eq!(ended.status, "completed");
    let message = twilio
        .create_message(to, "+15550001111", "Your booking is confirmed.")
        .await
        .unwrap();
    assert!(message.sid.starts_with("SM"));
    assert_eq!(sim.messages()[0].body, "Your booking is confirmed.");
    let requests = sim.requests();
    assert_eq!(requests.len(), 5);
    assert!(requests.iter().all(|r| r.error.is_none()), "{requests:?}");

    // Unknown call: Twilio's 404 comes back as a refusal, not as doubt.
    match twilio
        .fetch_call("CA00000000000000000000000000000000")
        .await
    {
        Err(TwilioError::Api { status: 404, .. }) => {}
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn api_key_credentials_are_used_when_set() {
    let sim = sim_with_api_key().await;
    let to = "+15556001235";
    sim.set_persona(to, Persona::Manual);
    let request = CreateCall {
        to,
        from: "+15550001111",
        url: "https://calls.example.com/a",
        status_callback: "https://calls.example.com/b",
        machine_detection: None,
    };
    let good = client(
        &sim,
        Some(("SK0123456789abcdef0123456789abcdef", "key-secret")),
    );
    assert!(good.create_call(&request).await.is_ok());
    let bad = client(&sim, Some(("SK0123456789abcdef0123456789abcdef", "wrong")));
    match bad.create_call(&request).await {
        Err(TwilioError::Api {
            status: 401,
            code: Some(20003),
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
}
