//! Redis Cluster: a 3-node cluster, two `callflow serve` instances behind one
//! address; calls and a campaign run across both, any instance handling any
//! callback.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use callflow::harness::redis_cluster::RedisCluster;
use serde_json::{json, Value};
use twilio_sim::Persona;

use crate::helpers::{behind_one_address, get_json, serve_process, start_sim, API_TOKEN};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_and_campaigns_on_a_three_node_cluster_with_two_instances() {
    let _turn = crate::helpers::TIMING.lock().await;
    let cluster = RedisCluster::start(3).expect("a local Redis Cluster starts");
    let sim = start_sim().await;
    // Both instances sit behind one public address; the simulator plays the load balancer.
    let (mut env, port_a, port_b) = behind_one_address(&sim, &cluster.url());
    env.insert("TWILIO_MAX_CPS", "50".into());
    let workdir = std::env::temp_dir();
    let _a = serve_process(&env, port_a, &workdir).await;
    let _b = serve_process(&env, port_b, &workdir).await;
    let http = reqwest::Client::new();
    let (api_a, api_b) = (
        format!("http://127.0.0.1:{port_a}/api"),
        format!("http://127.0.0.1:{port_b}/api"),
    );

    // One call placed on A; its callbacks are spread over A and B.
    let before_b = get_json(&http, format!("{api_b}/stats")).await["callbacks_handled"]
        .as_u64()
        .unwrap();
    let placed: Value = http
        .post(format!("{api_a}/calls/outbound"))
        .bearer_auth(API_TOKEN)
        .json(&json!({"to": "+15557770001", "name": "Ada"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sid = placed["call_sid"]
        .as_str()
        .expect("call placed")
        .to_string();
    sim.wait_finished(&sid, Duration::from_secs(20))
        .await
        .expect("call finishes");
    let call = get_json(
        &http,
        format!("{api_b}/calls/{}", placed["call_id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(call["call"]["disposition"], "interested", "{call}");
    assert_eq!(call["call"]["status"], "completed");
    let after_b = get_json(&http, format!("{api_b}/stats")).await["callbacks_handled"]
        .as_u64()
        .unwrap();
    assert!(
        after_b > before_b,
        "instance B handled none of the call placed on A"
    );

    // An opt-out on the cluster blocks the number everywhere.
    let opt = "+15557770002";
    sim.set_persona(opt, Persona::OptsOutMidPitch);
    let placed: Value = http
        .post(format!("{api_b}/calls/outbound"))
        .bearer_auth(API_TOKEN)
        .json(&json!({"to": opt, "name": "Ada"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    sim.wait_finished(
        placed["call_sid"].as_str().unwrap(),
        Duration::from_secs(20),
    )
    .await
    .unwrap();
    let again = http
        .post(format!("{api_a}/calls/outbound"))
        .bearer_auth(API_TOKEN)
        .json(&json!({"to": opt}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);

    // A campaign dispatched by both instances.
    let n = 60;
    let contacts: Vec<Value> = (0..n)
        .map(|i| {
            let to = format!("+1555778{:04}", i);
            if i % 5 == 0 {
                sim.set_persona(&to, Persona::Busy);
            }
            json!({"to": to, "name": "Ada"})
        })
        .collect();
    let created: Value = http
        .post(format!("{api_a}/calls/outbound"))
        .bearer_auth(API_TOKEN)
        .json(
            &json!({"contacts": contacts, "calls_per_second": 20, "max_concurrent": 10,
                      "retry": {"on": ["busy"], "max_attempts": 2, "backoff": ["1s"]}}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["campaign_id"]
        .as_str()
        .expect("campaign created")
        .to_string();
    // Its contacts are spread over shards, and the shards over the nodes.
    let mut per_node = Vec::new();
    for node in cluster.node_urls() {
        let mut c = redis::Client::open(node)
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("*campaign:{{{id}*}}:due"))
            .query_async(&mut c)
            .await
            .unwrap();
        per_node.push(keys.len());
    }
    assert_eq!(per_node.iter().sum::<usize>(), 20, "{per_node:?}");
    assert!(
        per_node.iter().filter(|n| **n > 0).count() >= 2,
        "every shard on one node: {per_node:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(90);
    let done = loop {
        let c = get_json(&http, format!("{api_b}/campaigns/{id}")).await;
        if c["status"] == "completed" {
            break c;
        }
        assert!(Instant::now() < deadline, "campaign did not complete: {c}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(done["counts"]["done"], n);
    assert_eq!(done["counts"]["dispositions"]["busy"], n / 5);
    let mut dials: HashMap<String, usize> = HashMap::new();
    for c in sim.calls() {
        *dials.entry(c.to.clone()).or_default() += 1;
    }
    for i in 0..n {
        let to = format!("+1555778{:04}", i);
        assert_eq!(
            dials.get(&to).copied(),
            Some(if i % 5 == 0 { 2 } else { 1 }),
            "{to}"
        );
    }
    // The call log reads the campaign's call records across the nodes.
    let log = get_json(&http, format!("{api_a}/calls?campaign_id={id}&limit=200")).await;
    let logged = log["calls"].as_array().expect("a call log page");
    assert_eq!(logged.len(), (n + n / 5) as usize, "{log}");
    assert!(log["next_cursor"].is_null());
}
