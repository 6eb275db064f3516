//! `callflow demo --campaign`: 50 contacts across six time zones with a mix of
//! callees, on an accelerated clock, so calling windows, pacing and retries
//! show in a minute instead of a day.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{json, Value};

use callflow_bench::api_client::ApiClient;
use twilio_sim::{Persona, Simulator};

use super::table::print_table;

/// How much faster than real time the campaign demo's clock runs.
pub(crate) const CAMPAIGN_CLOCK_SPEED: f64 = 900.0;

const ZONES: [(&str, &str, usize); 6] = [
    ("America/New_York", "+1212555", 10),
    ("America/Chicago", "+1312555", 10),
    ("America/Denver", "+1303555", 10),
    ("America/Los_Angeles", "+1415555", 10),
    ("Pacific/Honolulu", "+1808555", 5),
    // No zone given: the number's area code (Boise, Idaho) spans two zones.
    ("", "+1208300", 5),
];

fn persona(i: usize) -> (&'static str, Persona) {
    match i % 7 {
        0 => ("interested", Persona::Interested),
        1 => ("declines", Persona::Declines),
        2 => ("busy", Persona::Busy),
        3 => ("no answer", Persona::NoAnswer),
        4 => ("voicemail", Persona::Voicemail),
        5 => ("opts out", Persona::OptsOutMidPitch),
        _ => ("no recording", Persona::RefusesRecording),
    }
}

// Long on purpose: the campaign demo is a script, read as the story it prints.
pub async fn run(sim: &Simulator, api: &ApiClient, company: &str) -> Result<(), String> {
    let mut contacts = Vec::new();
    let mut meta = Vec::new();
    for (zone, prefix, count) in ZONES {
        for k in 0..count {
            let i = contacts.len();
            let to = format!("{prefix}{:04}", 100 + i);
            let (label, p) = persona(i);
            sim.set_persona(&to, p);
            let mut c = json!({"to": to, "name": "Sam"});
            if !zone.is_empty() {
                c["timezone"] = json!(zone);
            }
            contacts.push(c);
            meta.push((
                to,
                if zone.is_empty() {
                    "(from number)"
                } else {
                    zone
                },
                label,
                k,
            ));
        }
    }
    let body = json!({
        "contacts": contacts,
        "window": {"start": "09:00", "end": "20:00", "days": ["mon", "tue", "wed", "thu", "fri"]},
        "calls_per_second": 0.2,
        "max_concurrent": 5,
        "retry": {"on": ["busy", "no_answer"], "max_attempts": 3, "backoff": ["20m", "1h"]},
    });
    let (_, created) = api.post("/api/calls/outbound", &body).await?;
    let id = created["campaign_id"]
        .as_str()
        .ok_or_else(|| format!("campaign not created: {created}"))?;
    println!(
        "callflow demo --campaign: {company} calls {} contacts across six time zones",
        contacts.len()
    );
    println!(
        "  window 09:00-20:00 Mon-Fri in each contact's own time (never outside 08:00-21:00),"
    );
    println!("  0.2 dials/s for the campaign, 1/s for the account, at most 5 calls at once,");
    println!("  busy/no answer retried after 20m then 1h (3 attempts in all).");
    println!("  The clock starts Wed 07:45 in New York and runs {CAMPAIGN_CLOCK_SPEED}x faster than real time.\n");

    let started = Instant::now();
    let mut last = String::new();
    let status = loop {
        let c = api.get(&format!("/api/campaigns/{id}")).await?;
        let counts = &c["counts"];
        let line = format!(
            "done {:>2}/{}  pending {:>2}  in progress {}  attempts {:>2}",
            counts["done"],
            counts["total"],
            counts["pending"],
            counts["in_progress"],
            counts["attempts"]
        );
        if line != last {
            println!("  {:>5.1}s  {line}", started.elapsed().as_secs_f64());
            last = line;
        }
        if c["status"] == "completed" {
            break c;
        }
        if started.elapsed() > Duration::from_secs(300) {
            return Err("the demo campaign did not finish in 5 minutes".into());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };

    // Every dial as Twilio saw it, with callflow's record of when it was placed.
    let mut dials: BTreeMap<String, Vec<DateTime<Utc>>> = BTreeMap::new();
    for call in sim.calls() {
        let record = api.get(&format!("/api/calls/{}", call.sid)).await?;
        if let Some(at) = record["call"]["created_at"]
            .as_str()
            .and_then(|t| t.parse().ok())
        {
            dials.entry(call.to.clone()).or_default().push(at);
        }
    }
    let mut rows = Vec::new();
    let mut all_dials: Vec<DateTime<Utc>> = Vec::new();
    let page = api
        .get(&format!("/api/campaigns/{id}/calls?limit=100"))
        .await?;
    for (idx, (to, zone, label, _)) in meta.iter().enumerate() {
        let entry = page["calls"]
            .as_array()
            .and_then(|a| a.iter().find(|c| c["index"] == idx))
            .cloned()
            .unwrap_or(Value::Null);
        let mut times = dials.get(to).cloned().unwrap_or_default();
        times.sort();
        all_dials.extend(&times);
        let tz: Option<Tz> = zone.parse().ok();
        let local: Vec<String> = times
            .iter()
            .map(|t| match tz {
                Some(tz) => t.with_timezone(&tz).format("%H:%M:%S").to_string(),
                None => {
                    let boise = t.with_timezone(&chrono_tz::America::Boise).format("%H:%M");
                    let la = t
                        .with_timezone(&chrono_tz::America::Los_Angeles)
                        .format("%H:%M");
                    format!("{boise} MT/{la} PT")
                }
            })
            .collect();
        rows.push([
            idx.to_string(),
            crate::phone::mask(to),
            zone.to_string(),
            label.to_string(),
            if local.is_empty() {
                "-".into()
            } else {
                local.join(", ")
            },
            entry["disposition"].as_str().unwrap_or("-").to_string(),
        ]);
    }
    println!();
    print_table(
        &[
            "#",
            "to",
            "zone",
            "callee",
            "dialed at (callee's local time)",
            "disposition",
        ],
        &rows,
    );

    all_dials.sort();
    // Counted per simulated minute: on a clock 900x faster, a millisecond of real
    // scheduling delay reads as about a second, so single gaps say little.
    let busiest_minute = all_dials
        .iter()
        .enumerate()
        .map(|(i, t)| {
            all_dials[i..]
                .iter()
                .take_while(|u| (**u - *t).num_seconds() < 60)
                .count()
        })
        .max()
        .unwrap_or(0);
    println!(
        "\n  {} dials for {} contacts; the most in any simulated minute: {busiest_minute} (the campaign's limit: 12 a minute).",
        all_dials.len(),
        meta.len(),
    );
    println!("  Final counts: {}", status["counts"]["dispositions"]);
    println!(
        "  Finished in {:.1} s of real time.",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
