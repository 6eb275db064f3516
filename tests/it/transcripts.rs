//! A call's transcript: each gather's question, the answer heard (speech with
//! Twilio's confidence, or digits) and the intent it was read as, kept with
//! the gather's timeline entry and shown by `GET /api/calls/{id}`.

use serde_json::{json, Value};
use twilio_sim::{Persona, Reply};

use crate::helpers::{spawn_app, spawn_app_with, turn_of, Twilio};

fn turns(call: &Value) -> &Vec<Value> {
    call["transcript"].as_array().expect("transcript is a list")
}

#[tokio::test]
async fn a_simulated_call_shows_each_question_and_answer() {
    let app = spawn_app().await;
    let to = "+15550131001";
    let persona = Persona::Scripted(vec![
        Reply::Speech("yes, speaking".into()),
        Reply::Digits("2".into()),
        Reply::Speech("yes please".into()),
    ]);
    let (_, call) = app.run_call(to, Some("Ada"), persona).await;
    let transcript = turns(&call);
    assert_eq!(transcript.len(), 3, "{call:#}");

    let first = &transcript[0];
    assert_eq!(first["turn"], 1, "{first}");
    assert_eq!(first["prompt_key"], "identify");
    assert_eq!(
        first["prompt"],
        "Am I speaking with Ada? Say yes or press 1, say no or press 2."
    );
    assert_eq!(first["heard"], "yes, speaking");
    assert_eq!(first["confidence"], 0.92);
    assert_eq!(first["digits"], Value::Null);
    assert_eq!(first["intent"], "yes");
    assert!(first["at"].as_str().unwrap().starts_with("2026-01-14T"));

    let second = &transcript[1];
    assert_eq!(second["prompt_key"], "consent");
    assert_eq!(second["heard"], Value::Null);
    assert_eq!(second["confidence"], Value::Null);
    assert_eq!(second["digits"], "2");
    assert_eq!(second["intent"], "no");

    let third = &transcript[2];
    assert_eq!(third["prompt_key"], "pitch");
    assert_eq!(third["heard"], "yes please");
    assert_eq!(third["intent"], "yes");
    assert_eq!(call["call"]["disposition"], "interested");
}

#[tokio::test]
async fn long_speech_is_cut_to_500_characters_and_reprompts_are_their_own_turns() {
    let app = spawn_app().await;
    let to = "+15550131002";
    app.sim.set_persona(to, Persona::Manual);
    let (status, placed) = app.place(json!({"to": to, "name": "Ada"})).await;
    assert_eq!(status, 201, "{placed}");
    let tw = Twilio::new(
        &app.base_url,
        placed["call_id"].as_str().unwrap(),
        placed["call_sid"].as_str().unwrap(),
    );
    let (_, first) = tw.answer().await;
    let turn = turn_of(&first);
    // Mumbling, 600 characters of it, some of them not ASCII.
    let long = "é".repeat(100) + &"x".repeat(500);
    let (status, reprompt) = tw.say(turn, &long).await;
    assert_eq!(status, 200);
    let (status, _) = tw.say(turn_of(&reprompt), "yes").await;
    assert_eq!(status, 200);

    let call = app.get_call(&tw.call_id).await;
    let transcript = turns(&call);
    assert_eq!(transcript.len(), 2, "{call:#}");
    let heard = transcript[0]["heard"].as_str().unwrap();
    assert_eq!(heard.chars().count(), 500);
    assert!(heard.starts_with("éé"));
    assert_eq!(transcript[0]["confidence"], 0.9);
    assert_eq!(transcript[0]["intent"], "unclear");
    assert_eq!(transcript[1]["prompt_key"], "identify_reprompt");
    assert!(transcript[1]["prompt"]
        .as_str()
        .unwrap()
        .starts_with("Sorry, I didn't catch that. Am I speaking with Ada?"));
    assert_eq!(transcript[1]["intent"], "yes");
    // The answer is kept with its transition: the gather's timeline entry.
    let entries = call["timeline"].as_array().unwrap();
    let with_heard = entries.iter().filter(|e| e.get("heard").is_some()).count();
    assert_eq!(with_heard, 2);

    // A retry of a handled gather with other words changes nothing.
    let (status, _) = tw.say(turn, "stop").await;
    assert_eq!(status, 200);
    let again = app.get_call(&tw.call_id).await;
    assert_eq!(again["transcript"], call["transcript"]);
}

#[tokio::test]
async fn the_transcript_expires_with_the_call() {
    // 0.0001 days: 8.64 seconds.
    let app = spawn_app_with(|env| {
        env.insert("CALL_LOG_RETENTION_DAYS", "0.0001".into());
    })
    .await;
    let to = "+15550131003";
    let (_, call) = app.run_call(to, Some("Ada"), Persona::Interested).await;
    assert!(!turns(&call).is_empty(), "{call:#}");
    let call_id = call["call"]["call_id"].as_str().unwrap();
    let mut redis = redis::Client::open(app.redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let ttl: i64 = redis::cmd("PTTL")
        .arg(format!("cf:default:call:{{{call_id}}}:timeline"))
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!(ttl > 0 && ttl <= 8_640, "the timeline expires in {ttl} ms");
}
