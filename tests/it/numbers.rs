//! Numbers that can never be right are refused before anything is stored or
//! dialed: unassigned country codes, impossible North American area codes,
//! premium-rate ranges (toll fraud) and the service's own caller ID.

use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with, VOICE_NUMBER};

const NEVER: [&str; 5] = [
    "+99912345678", // no such country code
    "+10005551234", // area code 000
    "+19115551234", // N11 code, not an area code
    "+19005551234", // premium rate
    VOICE_NUMBER,   // our own caller ID
];

#[tokio::test]
async fn single_calls_to_impossible_or_premium_numbers_are_refused() {
    let app = spawn_app().await;
    for to in NEVER {
        let (status, body) = app.place(json!({"to": to})).await;
        assert_eq!(status, 400, "{to}: {body}");
        assert_eq!(body["error"]["field"], "to", "{to}: {body}");
    }
    assert!(app.sim.calls().is_empty(), "nothing was dialed");
}

#[tokio::test]
async fn campaign_contacts_with_such_numbers_are_rejected_one_by_one() {
    let app = spawn_app().await;
    let mut contacts: Vec<_> = NEVER.iter().map(|to| json!({"to": to})).collect();
    contacts.push(json!({"to": "+15553330001"}));
    let (status, created) = app.place(json!({"contacts": contacts})).await;
    assert_eq!(status, 202, "{created}");
    assert_eq!(created["accepted"], 1, "{created}");
    let rejections = created["rejections"].as_array().unwrap();
    assert_eq!(rejections.len(), NEVER.len(), "{created}");
    for r in rejections {
        assert_eq!(r["reason"], "not_dialable", "{created}");
    }
}

#[tokio::test]
async fn premium_numbers_are_dialed_only_when_allowed() {
    let app = spawn_app_with(|env| {
        env.insert("ALLOW_PREMIUM_NUMBERS", "true".into());
    })
    .await;
    let (status, body) = app.place(json!({"to": "+19005551234"})).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = app.place(json!({"to": "+99912345678"})).await;
    assert_eq!(status, 400, "an unassigned country code never is: {body}");
}

#[tokio::test]
async fn allowed_country_codes_limit_where_calls_go() {
    let app = spawn_app_with(|env| {
        env.insert("ALLOWED_COUNTRY_CODES", "1".into());
    })
    .await;
    let (status, body) = app.place(json!({"to": "+442071838750"})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "to", "{body}");
    let (status, body) = app.place(json!({"to": "+15553330002"})).await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn twilio_error_text_never_carries_the_full_number() {
    let app = spawn_app().await;
    let to = "+15553334444";
    app.sim
        .fail_next_create(to, twilio_sim::CreateFailure::GeoPermission);
    let (status, body) = app.place(json!({"to": to})).await;
    assert_eq!(status, 502, "{body}");
    assert!(!body.to_string().contains("5553334444"), "{body}");
    let call = app
        .get_call(body["error"]["call_id"].as_str().unwrap())
        .await;
    assert!(!call.to_string().contains("5553334444"), "{call}");
    assert!(call.to_string().contains("4444"), "{call}");
}
