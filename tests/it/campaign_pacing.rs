//! Pacing is a ceiling, measured where Twilio (the simulator) receives the
//! create-call requests: no sliding window holds more dials than the campaign's
//! `calls_per_second` or the account's `TWILIO_MAX_CPS` allow, for several
//! rates at once, for campaigns sharing one account, and for two instances
//! sharing one campaign.
//!
//! The limits are defined in service-clock time, so windows are measured in
//! it: a real interval at the simulator times the clock's speed. The service
//! clock here runs at a quarter of real speed (`CALLFLOW_CLOCK_SPEED=0.25`).
//! What the margin must absorb is the time from the last pace check to the
//! request's arrival, which is real time (thread scheduling, the HTTP round
//! trip) and on a loaded two-core machine now and then tens of ms; on a
//! slowed clock it is a quarter as long in service time, so the tests check
//! the pacing rule rather than the machine's worst moment. An accelerated
//! clock would do the opposite: magnify that jitter by its speed. (A dial
//! made up for a missed slot, as the old rule did, still puts `rate + 1`
//! dials in a second whatever the clock's speed.) The bench measures the
//! same at real and faster speeds.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use callflow::redis_server::RedisServer;
use serde_json::{json, Value};
use twilio_sim::{Persona, Simulator};

use crate::campaigns::wait_campaign;
use crate::helpers::{
    behind_one_address, get_json, serve_process, spawn_app_with, start_sim, API_TOKEN,
};

/// When each create-call request reached the simulator, by the number it dials.
fn received(sim: &Simulator) -> HashMap<String, Vec<Instant>> {
    let mut by_to: HashMap<String, Vec<Instant>> = HashMap::new();
    for r in sim.requests() {
        if r.method != "POST" || !r.path.ends_with("/Calls.json") {
            continue;
        }
        let to = r
            .form
            .iter()
            .find(|(k, _)| k == "To")
            .map(|(_, v)| v.clone());
        by_to
            .entry(to.unwrap_or_default())
            .or_default()
            .push(r.received_at);
    }
    by_to
}

/// Arrival times of the dials to numbers starting with `prefix`, sorted.
fn times_of(by_to: &HashMap<String, Vec<Instant>>, prefix: &str) -> Vec<Instant> {
    let mut t: Vec<Instant> = by_to
        .iter()
        .filter(|(to, _)| to.starts_with(prefix))
        .flat_map(|(_, ts)| ts.iter().copied())
        .collect();
    t.sort();
    t
}

/// How fast the service clock runs in these tests (see the module docs).
const SPEED: f64 = 0.25;

/// Service-clock seconds from `a` to `b`, two real instants.
fn service_secs(a: Instant, b: Instant) -> f64 {
    b.duration_since(a).as_secs_f64() * SPEED
}

/// The most dials in any window of `window` service seconds (half-open,
/// sliding): the busiest window always starts at a dial, so each is tried.
fn busiest(times: &[Instant], window: f64) -> usize {
    (0..times.len())
        .map(|i| {
            times[i..]
                .iter()
                .take_while(|t| service_secs(times[i], **t) < window)
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// The rule for `rate` calls/s: at most `max(1, floor(rate))` dials in any
/// window of that many dials' worth of time (one second for a whole rate,
/// `1/rate` seconds below one call a second).
fn rule(rate: f64) -> (usize, f64) {
    let k = rate.floor().max(1.0);
    (k as usize, k / rate)
}

/// Mean rate (service time) from the first dial to the last.
fn mean(times: &[Instant]) -> f64 {
    (times.len() - 1) as f64 / service_secs(times[0], times[times.len() - 1])
}

/// The test environment on the slowed clock.
fn slowed(env: &mut HashMap<&'static str, String>) {
    env.insert("CALLFLOW_CLOCK_SPEED", SPEED.to_string());
    // Twenty real seconds: above twice the REST timeout, as the server insists.
    env.insert("DISPATCH_LEASE_SECS", "5".into());
}

fn contacts(prefix: &str, n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| json!({"to": format!("{prefix}{i:04}")}))
        .collect()
}

fn assert_ceiling(times: &[Instant], rate: f64, what: &str) {
    let (k, window) = rule(rate);
    let most = busiest(times, window);
    // The shortest span of k + 1 consecutive dials, to show how close it came.
    let tightest = times
        .windows(k + 1)
        .map(|w| service_secs(w[0], w[k]))
        .fold(f64::INFINITY, f64::min);
    assert!(
        most <= k,
        "{what}: {most} dials within {window} s at {rate}/s ({} dials; tightest {} spanned {tightest:.4} s)",
        times.len(),
        k + 1
    );
    let m = mean(times);
    // The ceiling holds for the mean too; the lower bound only shows the
    // campaign really ran near its rate (the bench measures how near).
    assert!(m <= rate * 1.001, "{what}: mean {m:.3}/s above {rate}/s");
    assert!(m >= rate * 0.5, "{what}: mean {m:.3}/s far below {rate}/s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pacing_is_a_ceiling_at_one_three_fifteen_and_half_a_call_a_second() {
    let _turn = crate::helpers::TIMING.lock().await;
    let app = spawn_app_with(|env| {
        slowed(env);
        env.insert("TWILIO_MAX_CPS", "200".into());
    })
    .await;
    // Busy callees: each call ends at once, so nothing but pacing holds a dial.
    app.sim.set_default_persona(Persona::Busy);
    // About three service seconds of dialing at each rate (four at 0.5/s),
    // all four campaigns at once.
    let runs = [
        (1.0, "+1555301", 4),
        (3.0, "+1555302", 10),
        (15.0, "+1555303", 46),
        (0.5, "+1555304", 3),
    ];
    let mut ids = Vec::new();
    for (rate, prefix, n) in runs {
        let (status, created) = app
            .place(json!({"contacts": contacts(prefix, n), "calls_per_second": rate, "max_concurrent": 100}))
            .await;
        assert_eq!(status, 202, "{created}");
        ids.push(created["campaign_id"].as_str().unwrap().to_string());
    }
    for id in &ids {
        wait_campaign(&app, id, 90, |c| c["status"] == "completed").await;
    }
    let by_to = received(&app.sim);
    for (rate, prefix, n) in runs {
        let times = times_of(&by_to, prefix);
        assert_eq!(times.len(), n, "{prefix}: every contact dialed once");
        assert_ceiling(&times, rate, prefix);
    }
}

/// The case that showed the overshoot: a campaign at 15/s under an account
/// limit of 20/s while a second campaign runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_campaigns_share_the_account_limit_and_keep_their_own() {
    let _turn = crate::helpers::TIMING.lock().await;
    let app = spawn_app_with(|env| {
        slowed(env);
        env.insert("TWILIO_MAX_CPS", "20".into());
    })
    .await;
    app.sim.set_default_persona(Persona::Busy);
    let mut ids = Vec::new();
    for prefix in ["+1555311", "+1555312"] {
        let (status, created) = app
            .place(json!({"contacts": contacts(prefix, 25), "calls_per_second": 15, "max_concurrent": 100}))
            .await;
        assert_eq!(status, 202, "{created}");
        ids.push(created["campaign_id"].as_str().unwrap().to_string());
    }
    for id in &ids {
        wait_campaign(&app, id, 90, |c| c["status"] == "completed").await;
    }
    let by_to = received(&app.sim);
    for prefix in ["+1555311", "+1555312"] {
        let times = times_of(&by_to, prefix);
        assert_eq!(times.len(), 25);
        let most = busiest(&times, 1.0);
        assert!(most <= 15, "{prefix}: {most} dials within one second");
    }
    let all = times_of(&by_to, "+155531");
    assert_eq!(all.len(), 50);
    let most = busiest(&all, 1.0);
    assert!(most <= 20, "account: {most} dials within one second");
    let m = mean(&all);
    assert!(m <= 20.0 * 1.001, "account mean {m:.2}/s");
    assert!(m >= 10.0, "account mean {m:.2}/s: the campaigns hardly ran");
}

/// Two `callflow serve` processes dial the same campaigns: the campaign's limit
/// and the account's hold across them, because both are reserved in Redis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_the_campaign_and_account_limits() {
    let _turn = crate::helpers::TIMING.lock().await;
    let redis = RedisServer::start().unwrap();
    let sim = start_sim().await;
    sim.set_default_persona(Persona::Busy);
    let (mut env, port_a, port_b) = behind_one_address(&sim, &redis.url());
    env.insert("TWILIO_MAX_CPS", "8".into());
    // One service clock for both.
    slowed(&mut env);
    env.insert("CALLFLOW_CLOCK_ORIGIN", chrono::Utc::now().to_rfc3339());
    let workdir = std::env::temp_dir();
    let _a = serve_process(&env, port_a, &workdir).await;
    let _b = serve_process(&env, port_b, &workdir).await;
    let http = reqwest::Client::new();
    let mut ids = Vec::new();
    // Either campaign alone would dial 6 a second; together the account's 8/s
    // binds. Each is created on a different instance.
    for (port, prefix, rate, n) in [(port_a, "+1555321", 6, 20), (port_b, "+1555322", 6, 20)] {
        let created: Value = http
            .post(format!("http://127.0.0.1:{port}/api/calls/outbound"))
            .bearer_auth(API_TOKEN)
            .json(&json!({"contacts": contacts(prefix, n), "calls_per_second": rate, "max_concurrent": 100}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(
            created["campaign_id"]
                .as_str()
                .expect("created")
                .to_string(),
        );
    }
    let deadline = Instant::now() + Duration::from_secs(90);
    for id in &ids {
        loop {
            let c = get_json(
                &http,
                format!("http://127.0.0.1:{port_a}/api/campaigns/{id}"),
            )
            .await;
            if c["status"] == "completed" {
                break;
            }
            assert!(Instant::now() < deadline, "{c}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let by_to = received(&sim);
    let one = times_of(&by_to, "+1555321");
    let two = times_of(&by_to, "+1555322");
    assert_eq!(
        (one.len(), two.len()),
        (20, 20),
        "every contact dialed once"
    );
    assert!(busiest(&one, 1.0) <= 6, "campaign at 6/s");
    assert!(busiest(&two, 1.0) <= 6, "campaign at 6/s");
    let all = times_of(&by_to, "+155532");
    let most = busiest(&all, 1.0);
    assert!(most <= 8, "account: {most} dials within one second");
}

/// Two tenants on one Twilio account: the account's `TWILIO_MAX_CPS` binds
/// their dials together (one account, one limit), a tenant's `max_cps` share
/// binds its own, and each campaign dials from the number it names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_share_the_account_limit_and_keep_their_own_share() {
    let _turn = crate::helpers::TIMING.lock().await;
    let app = spawn_app_with(|env| {
        slowed(env);
        env.insert("TWILIO_MAX_CPS", "5".into());
        env.insert("ADMIN_TOKEN", crate::tenants::ADMIN_TOKEN.into());
    })
    .await;
    app.sim.set_default_persona(Persona::Busy);
    let (acme, _) = crate::tenants::create_tenant(
        &app,
        json!({"id": "acme", "name": "Acme", "company_name": "Acme Dental",
               "numbers": ["+15550003001", "+15550003002"], "max_cps": 3}),
    )
    .await;
    let (bolt, _) = crate::tenants::create_tenant(
        &app,
        json!({"id": "bolt", "name": "Bolt", "company_name": "Bolt Plumbing",
               "numbers": ["+15550003101"]}),
    )
    .await;
    let place = |token: String, body: Value| {
        let req = app
            .http
            .post(format!("{}/api/calls/outbound", app.base_url))
            .bearer_auth(token)
            .json(&body);
        async move {
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            (status, resp.json::<Value>().await.unwrap())
        }
    };
    // A caller ID the tenant does not hold (another tenant's) is refused.
    let (status, refused) = place(
        acme.token.clone(),
        json!({"contacts": contacts("+1555331", 2), "from": "+15550003101"}),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["field"], "from", "{refused}");
    // Alone, each would dial 6 and 4 a second (acme's share caps it at 3):
    // together 7 a second, above the account's 5.
    let (status, a) = place(
        acme.token.clone(),
        json!({"contacts": contacts("+1555331", 9), "calls_per_second": 6,
               "max_concurrent": 100, "from": "+15550003002"}),
    )
    .await;
    assert_eq!(status, 202, "{a}");
    let (status, b) = place(
        bolt.token.clone(),
        json!({"contacts": contacts("+1555332", 12), "calls_per_second": 4,
               "max_concurrent": 100}),
    )
    .await;
    assert_eq!(status, 202, "{b}");
    let deadline = Instant::now() + Duration::from_secs(90);
    for (token, created) in [(&acme.token, &a), (&bolt.token, &b)] {
        let id = created["campaign_id"].as_str().unwrap();
        loop {
            let c: Value = app
                .http
                .get(format!("{}/api/campaigns/{id}", app.base_url))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if c["status"] == "completed" {
                break;
            }
            assert!(Instant::now() < deadline, "{c}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let by_to = received(&app.sim);
    let acme_times = times_of(&by_to, "+1555331");
    let bolt_times = times_of(&by_to, "+1555332");
    assert_eq!((acme_times.len(), bolt_times.len()), (9, 12));
    let most = busiest(&acme_times, 1.0);
    assert!(most <= 3, "acme's share: {most} dials within one second");
    assert!(mean(&acme_times) <= 3.0 * 1.001, "acme's mean");
    let all = times_of(&by_to, "+155533");
    let most = busiest(&all, 1.0);
    assert!(most <= 5, "account: {most} dials within one second");
    // Each campaign's dials used its tenant's caller ID: the named one for
    // acme, the first for bolt.
    for r in app.sim.requests() {
        if r.method != "POST" || !r.path.ends_with("/Calls.json") {
            continue;
        }
        let field = |k: &str| {
            r.form
                .iter()
                .find(|(name, _)| name == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let (to, from) = (field("To"), field("From"));
        if to.starts_with("+1555331") {
            assert_eq!(from, "+15550003002", "acme dials from the number it named");
        } else if to.starts_with("+1555332") {
            assert_eq!(from, "+15550003101", "bolt dials from its number");
        }
    }
}
