//! Incoming texts end to end: the simulator texts a tenant's number (signed,
//! to its `SmsUrl`), callflow answers with TwiML and keeps the do-not-call
//! list that voice calls and campaigns obey.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use twilio_sim::{InboundText, SimNumber, TextReply};

use crate::helpers::{spawn_app_with, TestApp, VOICE_NUMBER};
use crate::tenants::{create_tenant, ADMIN_TOKEN};

/// Points `number` (in the simulated account) at this app's SMS webhook.
pub fn route_texts(app: &TestApp, number: &str) {
    let mut n = SimNumber::new(number);
    n.sms_url = Some(format!("{}/twilio/sms/incoming", app.base_url));
    n.sms_method = Some("POST".into());
    app.sim.add_number(n);
}

pub async fn spawn() -> TestApp {
    spawn_with(|_| {}).await
}

pub async fn spawn_with(
    adjust: impl FnOnce(&mut std::collections::HashMap<&'static str, String>),
) -> TestApp {
    let app = spawn_app_with(|env| {
        env.insert("ADMIN_TOKEN", ADMIN_TOKEN.into());
        adjust(env);
    })
    .await;
    route_texts(&app, VOICE_NUMBER);
    app
}

/// `from` texts `body` to `to`; with `opt_out_type` as Twilio's Advanced Opt-Out adds it.
pub async fn text(
    app: &TestApp,
    from: &str,
    to: &str,
    body: &str,
    opt_out_type: Option<&str>,
) -> TextReply {
    let reply = app
        .sim
        .send_text(&InboundText {
            from: from.into(),
            to: to.into(),
            body: body.into(),
            opt_out_type: opt_out_type.map(str::to_string),
            message_sid: None,
        })
        .await
        .expect("the text reaches callflow");
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply
}

/// The `<Message>` of a TwiML answer, if any.
pub fn message_of(twiml: &str) -> Option<String> {
    let start = twiml.find("<Message>")? + "<Message>".len();
    let end = twiml.find("</Message>")?;
    Some(twiml[start..end].to_string())
}

/// The source of `number`'s do-not-call entry; `None`: not listed.
async fn dnc_source(app: &TestApp, number: &str) -> Option<String> {
    let resp = app
        .api(Method::GET, &format!("/api/dnc/{number}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let entry: Value = resp.json().await.unwrap();
    if entry["on_list"] != true {
        return None;
    }
    Some(entry["source"].as_str().unwrap_or_default().to_string())
}

#[tokio::test]
async fn every_opt_out_keyword_lists_the_sender_and_confirms_exactly_once() {
    let app = spawn().await;
    let words = [
        "STOP",
        "stop!",
        "StopAll",
        "Unsubscribe.",
        "cancel",
        " END ",
        "Quit?",
        "REVOKE",
        "OptOut",
        "opt out",
        "Opt-Out!",
    ];
    for (i, word) in words.iter().enumerate() {
        let from = format!("+1555660{i:04}");
        let reply = text(&app, &from, VOICE_NUMBER, word, None).await;
        let confirmation =
            message_of(&reply.body).unwrap_or_else(|| panic!("{word}: {}", reply.body));
        assert!(
            confirmation.contains("unsubscribed"),
            "{word}: {confirmation}"
        );
        assert!(
            confirmation.contains("Smith &amp; &lt;Sons&gt;"),
            "{confirmation}"
        );
        // Twilio retries the webhook (same MessageSid): nothing more is said.
        let retry = app
            .sim
            .send_text(&InboundText {
                from: from.clone(),
                to: VOICE_NUMBER.into(),
                body: word.to_string(),
                opt_out_type: None,
                message_sid: Some(reply.message_sid.clone()),
            })
            .await
            .unwrap();
        assert_eq!(retry.status, 200);
        assert_eq!(message_of(&retry.body), None, "{word}: {}", retry.body);
        assert_eq!(
            dnc_source(&app, &from).await.as_deref(),
            Some("sms"),
            "{word}"
        );
    }
    // Not keywords: a sentence with "stop" in it lists nobody.
    let from = "+15556619999";
    text(
        &app,
        from,
        VOICE_NUMBER,
        "please stop calling at night",
        None,
    )
    .await;
    assert_eq!(dnc_source(&app, from).await, None);
}

#[tokio::test]
async fn when_twilio_answered_the_keyword_callflow_records_it_and_stays_silent() {
    let app = spawn().await;
    let from = "+15556620001";
    let reply = text(&app, from, VOICE_NUMBER, "STOP", Some("STOP")).await;
    assert_eq!(message_of(&reply.body), None, "{}", reply.body);
    assert!(dnc_source(&app, from).await.is_some());
    let reply = text(&app, from, VOICE_NUMBER, "START", Some("START")).await;
    assert_eq!(message_of(&reply.body), None, "{}", reply.body);
    assert_eq!(dnc_source(&app, from).await, None);
    let reply = text(&app, from, VOICE_NUMBER, "help", Some("HELP")).await;
    assert_eq!(message_of(&reply.body), None, "{}", reply.body);
    // A keyword Twilio was set up to know (another language): its verdict counts.
    let reply = text(&app, from, VOICE_NUMBER, "ARRET", Some("STOP")).await;
    assert_eq!(message_of(&reply.body), None, "{}", reply.body);
    assert_eq!(dnc_source(&app, from).await.as_deref(), Some("sms"));
}

#[tokio::test]
async fn a_stop_by_text_refuses_later_calls_and_campaigns_skip_the_number() {
    let app = spawn().await;
    let from = "+15556630001";
    text(&app, from, VOICE_NUMBER, "Stop.", None).await;
    let (status, refused) = app.place(json!({"to": from})).await;
    assert_eq!(status, 409, "{refused}");
    assert!(refused.to_string().contains("do-not-call"), "{refused}");
    let (status, campaign) = app
        .place(json!({"contacts": [{"to": from}, {"to": "+15556630002"}]}))
        .await;
    assert_eq!(status, 202, "{campaign}");
    assert_eq!(
        campaign["rejections"][0]["reason"], "do_not_call",
        "{campaign}"
    );
    assert!(app.sim.calls().iter().all(|c| c.to != from));
}

#[tokio::test]
async fn start_lifts_only_what_a_text_stop_added_and_help_says_who_we_are() {
    let app = spawn().await;
    let by_text = "+15556640001";
    text(&app, by_text, VOICE_NUMBER, "STOP", None).await;
    let reply = text(&app, by_text, VOICE_NUMBER, "unstop", None).await;
    let answer = message_of(&reply.body).unwrap();
    assert!(answer.contains("subscribed again"), "{answer}");
    assert_eq!(dnc_source(&app, by_text).await, None);

    // Listed through the API: a START by text keeps it.
    let by_api = "+15556640002";
    let resp = app
        .api(Method::POST, "/api/dnc")
        .json(&json!({"number": by_api}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let reply = text(&app, by_api, VOICE_NUMBER, "Start", None).await;
    assert!(
        message_of(&reply.body).unwrap().contains("stays"),
        "{}",
        reply.body
    );
    assert_eq!(dnc_source(&app, by_api).await.as_deref(), Some("api"));

    let reply = text(&app, "+15556640003", VOICE_NUMBER, "HELP?", None).await;
    let help = message_of(&reply.body).unwrap();
    assert!(help.contains("Smith &amp; &lt;Sons&gt;"), "{help}");
    assert!(
        help.contains("STOP") && help.contains(VOICE_NUMBER),
        "{help}"
    );
    let reply = text(&app, "+15556640003", VOICE_NUMBER, "info", None).await;
    assert!(message_of(&reply.body).unwrap().contains("STOP"));
}

#[tokio::test]
async fn other_texts_get_the_auto_reply_once_per_cooldown() {
    // The service clock runs 60 times faster: the 90 s cooldown is 1.5 s.
    let app = spawn_with(|env| {
        env.insert("SMS_AUTO_REPLY_COOLDOWN", "90s".into());
        env.insert("CALLFLOW_CLOCK_SPEED", "60".into());
        env.insert("DISPATCH_LEASE_SECS", "600".into());
    })
    .await;
    let number = "+15550003001";
    create_tenant(
        &app,
        json!({"id": "salon", "name": "Salon", "company_name": "Salon Nine",
               "numbers": [number], "sms_auto_reply": "Thanks! We will text you back shortly."}),
    )
    .await;
    route_texts(&app, number);
    let from = "+15556650001";
    let first = text(&app, from, number, "Can I book Friday?", None).await;
    assert_eq!(
        message_of(&first.body).as_deref(),
        Some("Thanks! We will text you back shortly.")
    );
    let second = text(&app, from, number, "Or Saturday?", None).await;
    assert_eq!(message_of(&second.body), None, "{}", second.body);
    // Someone else gets it at once.
    let other = text(&app, "+15556650002", number, "Hi", None).await;
    assert!(message_of(&other.body).is_some());
    // After the cooldown, once more.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let again = text(&app, from, number, "Hello?", None).await;
        if message_of(&again.body).is_some() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no auto-reply after the cooldown"
        );
    }
    // Someone who opted out gets no auto-reply.
    text(&app, "+15556650003", number, "STOP", None).await;
    let quiet = text(&app, "+15556650003", number, "hello", None).await;
    assert_eq!(message_of(&quiet.body), None);
}

#[tokio::test]
async fn texts_to_unowned_numbers_and_unsigned_posts_change_nothing() {
    let app = spawn().await;
    route_texts(&app, "+15550009999");
    let reply = text(&app, "+15556660001", "+15550009999", "STOP", None).await;
    assert_eq!(message_of(&reply.body), None, "{}", reply.body);
    assert_eq!(dnc_source(&app, "+15556660001").await, None);
    let unsigned = app
        .http
        .post(format!("{}/twilio/sms/incoming", app.base_url))
        .form(&[
            ("From", "+15556660002"),
            ("To", VOICE_NUMBER),
            ("Body", "STOP"),
            ("MessageSid", "SM1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 403);
    assert_eq!(dnc_source(&app, "+15556660002").await, None);
}
