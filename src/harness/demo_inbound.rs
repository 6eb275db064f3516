//! The inbound part of `callflow demo`: callers dial the demo business's
//! number and the table shows how each call ended, why they called, who
//! answered and what message they left.

use std::time::Duration;

use callflow_bench::api_client::ApiClient;
use twilio_sim::{Caller, Persona, Reply, SimNumber, Simulator};

use super::table::print_table;
use crate::tenant::model::TenantFields;
use crate::tenant::{admin, Tenants};

/// The phones the demo business's calls ring.
const ANA: &str = "+15550100101";
const CALLER: &str = "+15550100201";

fn callers() -> Vec<(&'static str, Caller, Persona)> {
    let keys = |d: &str| Reply::Digits(d.into());
    vec![
        (
            "books, Ana answers",
            Caller {
                replies: vec![keys("1")],
                ..Caller::default()
            },
            Persona::Interested,
        ),
        (
            "books, nobody answers, no message",
            Caller {
                replies: vec![keys("1")],
                ..Caller::default()
            },
            Persona::NoAnswer,
        ),
        (
            "leaves a message",
            Caller {
                replies: vec![keys("0")],
                message_secs: 9,
                transcription: Some("Hi, this is Jo, can I move Friday to Monday?".into()),
                ..Caller::default()
            },
            Persona::Interested,
        ),
        (
            "asks for the hours",
            Caller {
                replies: vec![keys("4"), Reply::HangUp],
                ..Caller::default()
            },
            Persona::Interested,
        ),
    ]
}

/// Opens the demo tenant's line (in hours, ringing Ana), then plays the callers.
pub async fn run(
    tenants: &Tenants,
    sim: &Simulator,
    api: &ApiClient,
    base_url: &str,
    number: &str,
) -> Result<(), String> {
    let fields: TenantFields = serde_json::from_value(serde_json::json!({
        "timezone": "America/Los_Angeles",
        "business_hours": {"wed": [["09:00", "17:00"]]},
        "forward_to": [{"number": ANA, "name": "Ana"}],
        "missed_call_sms": "Sorry we missed your call. Book online: https://example.com/book",
    }))
    .map_err(|e| e.to_string())?;
    admin::update(tenants, tenants.configured_id(), fields)
        .await
        .map_err(|e| e.to_string())?;
    sim.add_number(SimNumber {
        voice_url: Some(format!("{base_url}/twilio/voice/inbound")),
        status_callback: Some(format!("{base_url}/twilio/voice/status")),
        sms_url: Some(format!("{base_url}/twilio/sms/incoming")),
        ..SimNumber::new(number)
    });
    let shown = crate::phone::mask(number);
    println!("\nCallers dial {shown} (open, rings Ana):");
    let mut rows = Vec::new();
    for (label, caller, ana) in callers() {
        sim.set_persona(ANA, ana);
        let sid = sim
            .place_inbound(CALLER, number, caller)
            .ok_or("the demo number is not in the simulated account")?;
        sim.wait_finished(&sid, Duration::from_secs(20))
            .await
            .ok_or("a simulated caller did not finish")?;
        let call = api.get(&format!("/api/calls/{sid}")).await?;
        let call = &call["call"];
        let text = |v: &serde_json::Value| v.as_str().unwrap_or("-").to_string();
        rows.push([
            label.to_string(),
            text(&call["disposition"]),
            text(&call["reason"]),
            text(&call["answered_by"]),
            text(&call["transcription"]),
        ]);
    }
    print_table(
        &[
            "caller",
            "disposition",
            "reason",
            "answered by",
            "transcription",
        ],
        &rows,
    );
    Ok(())
}
