//! Calling windows in each contact's local time, on an accelerated clock.

use std::collections::HashMap;

use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Tz;
use serde_json::{json, Value};

use crate::campaigns::wait_campaign;
use crate::helpers::spawn_app_with;

#[tokio::test]
async fn contacts_are_dialed_only_inside_their_own_windows() {
    // 07:30 in New York on a Wednesday, running 1,200 times faster than real time:
    // New York opens within 2 real seconds, Chicago 3 s later, Los Angeles 6 s later.
    let app = spawn_app_with(|env| {
        env.insert("CALLFLOW_CLOCK_START", "2026-01-14T12:30:00Z".into());
        env.insert("CALLFLOW_CLOCK_SPEED", "1200".into());
        // Leases run on the fast clock: 6,000 s of it is 5 real seconds.
        env.insert("DISPATCH_LEASE_SECS", "6000".into());
        env.insert("TWILIO_MAX_CPS", "100".into());
    })
    .await;
    let contacts = json!([
        {"to": "+15551310001", "timezone": "America/Los_Angeles"},
        {"to": "+15551310002", "timezone": "America/Chicago"},
        {"to": "+15551310003", "timezone": "America/New_York"},
        // No zone given: Manhattan's area code says New York.
        {"to": "+12125550104"},
        // Idaho prefix that spans Boise and Los Angeles: allowed only when both allow.
        {"to": "+12083005555"},
    ]);
    let (status, created) = app
        .place(json!({"contacts": contacts, "calls_per_second": 50, "window": {"start": "09:00", "end": "20:00"}}))
        .await;
    assert_eq!(status, 202, "{created}");
    let id = created["campaign_id"].as_str().unwrap();
    let waiting = crate::campaigns::campaign(&app, id).await;
    assert!(waiting["next_scheduled_dial"].is_string(), "{waiting}");
    wait_campaign(&app, id, 60, |c| c["status"] == "completed").await;

    let zones: HashMap<&str, Vec<Tz>> = HashMap::from([
        ("+15551310001", vec![chrono_tz::America::Los_Angeles]),
        ("+15551310002", vec![chrono_tz::America::Chicago]),
        ("+15551310003", vec![chrono_tz::America::New_York]),
        ("+12125550104", vec![chrono_tz::America::New_York]),
        (
            "+12083005555",
            vec![chrono_tz::America::Boise, chrono_tz::America::Los_Angeles],
        ),
    ]);
    let mut dialed_at: Vec<(String, DateTime<Utc>)> = Vec::new();
    for sim_call in app.sim.calls() {
        let call: Value = app.get_call(&sim_call.sid).await;
        let at: DateTime<Utc> = call["call"]["created_at"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        for zone in &zones[sim_call.to.as_str()] {
            let local = at.with_timezone(zone);
            assert!(
                (9..20).contains(&local.hour()),
                "{} dialed at {local} local, outside 09:00-20:00",
                sim_call.to
            );
        }
        dialed_at.push((sim_call.to.clone(), at));
    }
    assert_eq!(
        dialed_at.len(),
        5,
        "every contact dialed once its window opened"
    );
    dialed_at.sort_by_key(|(_, at)| *at);
    let order: Vec<&str> = dialed_at.iter().map(|(to, _)| to.as_str()).collect();
    assert!(
        order[..2].contains(&"+15551310003") && order[..2].contains(&"+12125550104"),
        "{order:?}"
    );
    assert_eq!(order[2], "+15551310002", "{order:?}");
}
