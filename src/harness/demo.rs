//! `callflow demo`: the whole service against the built-in Twilio simulator,
//! with a handful of callee personas, printed as a table. No account needed.

use std::collections::HashMap;
use std::net::TcpListener;
use std::time::Duration;

use serde_json::json;

use callflow_bench::api_client::ApiClient;
use twilio_sim::{InboundText, Line, Persona, SimConfig, SimNumber, Simulator};

use super::demo_campaign::CAMPAIGN_CLOCK_SPEED;
use super::table::print_table;
use crate::config;
use crate::startup::Application;

const ACCOUNT_SID: &str = "ACdeadbeef000000000000000000000000";
const AUTH_TOKEN: &str = "demo-auth-token";
const CAMPAIGN_CLOCK_START: &str = "2026-01-14T12:45:00Z";
/// The demo business's number (calls and texts).
const SERVICE_NUMBER: &str = "+15550009999";
/// Someone who texts STOP, then is called.
const TEXTER: &str = "+15550100011";

fn personas() -> Vec<(&'static str, &'static str, Option<&'static str>, Persona)> {
    vec![
        (
            "interested",
            "+15550100001",
            Some("Ada"),
            Persona::Interested,
        ),
        (
            "refuses recording",
            "+15550100002",
            Some("Grace"),
            Persona::RefusesRecording,
        ),
        (
            "opts out mid-pitch",
            "+15550100003",
            Some("Alan"),
            Persona::OptsOutMidPitch,
        ),
        ("declines", "+15550100004", Some("Linus"), Persona::Declines),
        (
            "silent, no name given",
            "+15550100010",
            None,
            Persona::Silent,
        ),
        ("silent", "+15550100005", Some("Edsger"), Persona::Silent),
        (
            "wrong person",
            "+15550100006",
            Some("Barbara"),
            Persona::WrongPerson,
        ),
        ("voicemail", "+15550100007", Some("Ken"), Persona::Voicemail),
        ("busy", "+15550100008", Some("Dennis"), Persona::Busy),
        (
            "no answer",
            "+15550100009",
            Some("Frances"),
            Persona::NoAnswer,
        ),
    ]
}

/// Runs the demo: a handful of single calls, or with `campaign` a 50-contact
/// campaign across time zones on an accelerated clock.
// Long on purpose: the demo is a script, read as the story it prints.
pub async fn run(campaign: bool) -> Result<(), String> {
    crate::install_crypto();
    let _ = dotenvy::dotenv();
    let (_private, redis_url, redis_label) =
        crate::redis_server::from_env_or_private().map_err(|e| e.to_string())?;
    let sim = Simulator::start(SimConfig::new(ACCOUNT_SID, AUTH_TOKEN))
        .await
        .map_err(|e| format!("simulator: {e}"))?;
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let api_token = uuid::Uuid::new_v4().simple().to_string();
    let company = std::env::var("COMPANY_NAME").unwrap_or_else(|_| "Bright Smile Dental".into());
    let purpose =
        std::env::var("CALL_PURPOSE").unwrap_or_else(|_| "about booking your check-up".into());
    let mut env: HashMap<&str, String> = HashMap::from([
        ("PUBLIC_BASE_URL", format!("http://127.0.0.1:{port}")),
        ("API_TOKEN", api_token.clone()),
        ("TWILIO_ACCOUNT_SID", ACCOUNT_SID.into()),
        ("TWILIO_AUTH_TOKEN", AUTH_TOKEN.into()),
        ("TWILIO_VOICE_NUMBER", SERVICE_NUMBER.into()),
        ("TWILIO_API_BASE_URL", sim.base_url()),
        ("COMPANY_NAME", company.clone()),
        ("CALL_PURPOSE", purpose),
        (
            "FLOWS_DIR",
            std::env::var("FLOWS_DIR").unwrap_or_else(|_| "flows".into()),
        ),
        // The demo's calls live apart from real ones if REDIS_URL is shared.
        ("TENANT_ID", "demo".into()),
    ]);
    if campaign {
        // 07:45 in New York on a Wednesday, 900 times faster than real time.
        env.insert("CALLFLOW_CLOCK_START", CAMPAIGN_CLOCK_START.into());
        env.insert("CALLFLOW_CLOCK_SPEED", CAMPAIGN_CLOCK_SPEED.to_string());
        env.insert("TWILIO_MAX_CPS", "1".into());
        // Leases run on the fast clock too: an hour of it is 4 real seconds.
        env.insert("TWILIO_TIMEOUT_SECS", "2".into());
        env.insert("DISPATCH_LEASE_SECS", "3600".into());
    } else {
        // Every dial obeys calling hours, and a 555 number could be anywhere on
        // +1: the demo runs at 17:30 in New York, a time every +1 zone allows.
        env.insert("CALLFLOW_CLOCK_START", "2026-01-14T22:30:00Z".into());
    }
    let settings = config::from_lookup(|k| env.get(k).cloned()).map_err(|e| e.to_string())?;
    let app = Application::build(settings, &redis_url, listener)
        .await
        .map_err(|e| e.to_string())?;
    let _stop = app.stop;
    let tenants = app.tenants.clone();
    tokio::spawn(app.server);

    if campaign {
        let api = ApiClient::new(format!("http://127.0.0.1:{port}"), &api_token);
        let result = super::demo_campaign::run(&sim, &api, &company).await;
        sim.stop();
        return result;
    }
    println!(
        "callflow demo: {company} calls {} people through a simulated Twilio",
        personas().len()
    );
    println!(
        "  server http://127.0.0.1:{port}, Twilio simulator {}, Redis: {redis_label}\n",
        sim.base_url()
    );

    let api = ApiClient::new(format!("http://127.0.0.1:{port}"), &api_token);
    let mut rows = Vec::new();
    let mut first_transcript = None;
    for (label, to, name, persona) in personas() {
        sim.set_persona(to, persona);
        let mut body = json!({"to": to});
        if let Some(name) = name {
            body["name"] = name.into();
        }
        let (_, placed) = api.post("/api/calls/outbound", &body).await?;
        let sid = placed["call_sid"]
            .as_str()
            .ok_or_else(|| format!("call not placed: {placed}"))?;
        let sim_call = sim
            .wait_finished(sid, Duration::from_secs(20))
            .await
            .ok_or("a simulated call did not finish")?;
        let call_id = placed["call_id"].as_str().unwrap_or_default();
        let call = api.get(&format!("/api/calls/{call_id}")).await?;
        let mut path: Vec<String> = Vec::new();
        for entry in call["timeline"].as_array().into_iter().flatten() {
            for s in entry["via"]
                .as_array()
                .into_iter()
                .flatten()
                .chain(std::iter::once(&entry["to"]))
            {
                let s = s.as_str().unwrap_or_default().to_string();
                if path.last() != Some(&s) {
                    path.push(s);
                }
            }
        }
        if first_transcript.is_none() {
            first_transcript = Some((label, sim_call.transcript.clone()));
        }
        rows.push([
            label.to_string(),
            call["call"]["to"].as_str().unwrap_or_default().to_string(),
            path.join(" > "),
            call["call"]["disposition"]
                .as_str()
                .unwrap_or("-")
                .to_string(),
            if sim_call.recording_started {
                "yes"
            } else {
                "no"
            }
            .to_string(),
            call["timeline"].as_array().map_or(0, Vec::len).to_string(),
        ]);
    }
    print_table(
        &[
            "persona",
            "to",
            "states",
            "disposition",
            "recorded",
            "events",
        ],
        &rows,
    );

    if let Some((label, transcript)) = first_transcript {
        println!("\nWhat the \"{label}\" callee heard and said:");
        for line in transcript {
            match line {
                Line::Said(text) => println!("  callflow: {text}"),
                Line::Heard(text) => println!("  callee:   {text}"),
                Line::Recording => println!("  (recording starts)"),
                Line::Hangup => println!("  (hang up)"),
            }
        }
    }
    let on_dnc = api.get("/api/dnc/+15550100003").await?;
    println!(
        "\nDo-not-call list after the demo: +1***-***-0003 on list = {}",
        on_dnc["on_list"]
    );
    let base_url = format!("http://127.0.0.1:{port}");
    super::demo_inbound::run(&tenants, &sim, &api, &base_url, &env["TWILIO_VOICE_NUMBER"]).await?;
    stop_by_text(&sim, &api, port).await?;
    sim.stop();
    Ok(())
}

/// Someone texts STOP to the business: listed at once, and a later call to
/// that number is refused.
async fn stop_by_text(sim: &Simulator, api: &ApiClient, port: u16) -> Result<(), String> {
    let mut number = SimNumber::new(SERVICE_NUMBER);
    number.sms_url = Some(format!("http://127.0.0.1:{port}/twilio/sms/incoming"));
    number.sms_method = Some("POST".into());
    sim.add_number(number);
    let reply = sim
        .send_text(&InboundText {
            from: TEXTER.into(),
            to: SERVICE_NUMBER.into(),
            body: "STOP".into(),
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let answer = reply
        .body
        .split_once("<Message>")
        .and_then(|(_, rest)| rest.split_once("</Message>"))
        .map_or("(nothing)", |(text, _)| text);
    println!(
        "\n{} texts \"STOP\"; callflow answers: {answer}",
        crate::phone::mask(TEXTER)
    );
    let (status, refused) = api
        .post("/api/calls/outbound", &json!({"to": TEXTER}))
        .await?;
    println!(
        "A call to {} afterwards: HTTP {status}, {}",
        crate::phone::mask(TEXTER),
        refused["error"]["message"].as_str().unwrap_or("placed")
    );
    Ok(())
}
