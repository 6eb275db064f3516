//! What an inbound call owes the outside world, end to end: a missed caller
//! gets the tenant's missed-call text through the text outbox (once per
//! cooldown, shown in the notification log and sent to the simulator), and
//! the tenant's `events_url` receives the call's events, signed.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use twilio_sim::Persona;

use crate::inbound::books;
use crate::inbound_helpers::{call_id, salon, ANA, CALLER};
use crate::sms_events::{receiver, wait_accepted};
use crate::tenants::admin;

#[tokio::test]
async fn a_missed_call_texts_the_caller_once_and_the_tenant_hears_of_it() {
    let s = salon(json!({})).await;
    let (url, log) = receiver(0);
    let resp = admin(&s.app, Method::PATCH, "/api/admin/tenants/salon")
        .json(&json!({"events_url": url}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // Another instance's copy of the tenant is read again within a refresh;
    // this one updated its own at once.
    s.app.sim.set_persona(ANA, Persona::Busy);
    let first = s.call(books()).await;
    assert_eq!(s.logged(&first.sid).await["disposition"], "missed");

    // The text: queued through the outbox, sent to Twilio, logged.
    let deadline = Instant::now() + Duration::from_secs(20);
    let texts = loop {
        let page = s.list("/api/notifications?type=missed_call").await;
        let texts = page["notifications"].as_array().unwrap().clone();
        if texts.iter().any(|t| t["status"] == "delivered") {
            break texts;
        }
        assert!(Instant::now() < deadline, "no missed-call text: {page}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert_eq!(texts[0]["to_number"], CALLER);
    assert!(texts[0]["body"]
        .as_str()
        .unwrap()
        .contains("Sorry we missed you"));
    let sent: Vec<_> = s
        .app
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/Messages.json"))
        .collect();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].form.iter().any(|(k, v)| k == "To" && v == CALLER));

    // A second missed call within the cooldown: no second text.
    let second = s.call(books()).await;
    assert_eq!(s.logged(&second.sid).await["disposition"], "missed");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let page = s.list("/api/notifications?type=missed_call").await;
    assert_eq!(page["notifications"].as_array().unwrap().len(), 1, "{page}");

    // The tenant's events for the first call, in the relay, signed.
    let id = call_id(&first.sid);
    let deliveries = wait_accepted(&log, 3, 20).await;
    let kinds: Vec<String> = deliveries
        .iter()
        .filter_map(|d| serde_json::from_str::<Value>(&d.body).ok())
        .filter(|e| e["data"]["call_id"] == id.as_str())
        .map(|e| e["type"].as_str().unwrap_or_default().to_string())
        .collect();
    for kind in ["call.incoming", "call.missed", "call.completed"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} not in {kinds:?}");
    }
    assert!(deliveries
        .iter()
        .all(|d| d.headers.contains_key("webhook-signature")));
}
