//! A gather is taken for the turn the call is on only: a second delivery of a
//! handled turn with other words (an opt-out instead of a yes) replays the
//! first reply and writes nothing, not even to the do-not-call list; a gather
//! for a turn the call has not reached moves nothing.

use twilio_sim::Persona;

use crate::helpers::{spawn_app, turn_of, Twilio};

#[tokio::test]
async fn replayed_or_early_gathers_move_nothing_and_opt_nobody_out() {
    let app = spawn_app().await;
    let to = "+15552225555";
    app.sim.set_persona(to, Persona::Manual);
    let (status, placed) = app
        .place(serde_json::json!({"to": to, "name": "Ada"}))
        .await;
    assert_eq!(status, 201, "{placed}");
    let tw = Twilio::new(
        &app.base_url,
        placed["call_id"].as_str().unwrap(),
        placed["call_sid"].as_str().unwrap(),
    );
    let (_, first) = tw.answer().await;
    let turn = turn_of(&first);
    let (_, consent) = tw.say(turn, "yes").await;

    // The same turn again, now saying "stop": the first reply, no opt-out.
    let (status, replayed) = tw.say(turn, "stop").await;
    assert_eq!(status, 200);
    assert_eq!(replayed, consent, "the first reply is replayed");
    let dnc = app
        .api(reqwest::Method::GET, &format!("/api/dnc/{to}"))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(dnc["on_list"], false, "{dnc}");

    // A turn the call has not reached yet.
    let before = app.get_call(&tw.call_id).await;
    let (status, _) = tw.say(turn + 5, "stop").await;
    assert_eq!(status, 200);
    let after = app.get_call(&tw.call_id).await;
    assert_eq!(after["call"]["state"], before["call"]["state"]);
    assert_eq!(after["call"]["version"], before["call"]["version"]);
    let dnc = app
        .api(reqwest::Method::GET, &format!("/api/dnc/{to}"))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(dnc["on_list"], false, "{dnc}");
}
