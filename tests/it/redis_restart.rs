//! Redis restarting on the same address: the first request on every HTTP
//! worker's own connection meets the old socket, and must still be served
//! (the connection reconnects and the command is sent once more), not
//! answered with an apology and a hang-up.

use std::time::Duration;

use twilio_sim::Persona;

use crate::helpers::{spawn_app, turn_of, Twilio};

#[tokio::test]
async fn calls_go_on_after_redis_restarts() {
    let mut app = spawn_app().await;
    // Warm every worker's own connection with a few calls.
    for i in 0..6 {
        let to = format!("+1555222{:04}", 6000 + i);
        app.sim.set_persona(&to, Persona::Manual);
        let (status, body) = app.place(serde_json::json!({"to": to})).await;
        assert_eq!(status, 201, "{body}");
    }
    app.redis.restart().expect("redis restarts");
    tokio::time::sleep(Duration::from_millis(100)).await;

    // Fresh Redis (the old data is gone): new calls and all their callbacks
    // work at once, on every worker.
    for i in 0..6 {
        let to = format!("+1555222{:04}", 7000 + i);
        app.sim.set_persona(&to, Persona::Manual);
        let (status, placed) = app
            .place(serde_json::json!({"to": to, "name": "Ada"}))
            .await;
        assert_eq!(status, 201, "call {i} after the restart: {placed}");
        let tw = Twilio::new(
            &app.base_url,
            placed["call_id"].as_str().unwrap(),
            placed["call_sid"].as_str().unwrap(),
        );
        let (status, twiml) = tw.answer().await;
        assert_eq!(status, 200);
        assert!(
            twiml.contains("<Gather"),
            "a real answer, not a goodbye: {twiml}"
        );
        let (status, _) = tw.say(turn_of(&twiml), "yes").await;
        assert_eq!(status, 200);
    }
}
