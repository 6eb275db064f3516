//! `/api/numbers` against the simulator over HTTP: search, buy (the webhook
//! URLs checked at the simulator), attach, list, release; a number another
//! tenant holds; bad input; Twilio's refusals and 429.

use reqwest::Method;
use serde_json::{json, Value};
use twilio_sim::{CreateFailure, Simulator};

use crate::helpers::{spawn_app, TestApp, VOICE_NUMBER};

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value, Option<String>) {
    let mut req = app.api(method, path);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let retry_after = r
        .headers()
        .get("Retry-After")
        .map(|v| v.to_str().unwrap().to_string());
    (status, r.json().await.unwrap_or(Value::Null), retry_after)
}

async fn buy(app: &TestApp, body: Value) -> (u16, Value) {
    let (status, answer, _) = call(app, Method::POST, "/api/numbers", Some(body)).await;
    (status, answer)
}

/// The tenant's numbers besides its configured caller ID (always listed).
async fn owned(app: &TestApp) -> Vec<String> {
    let (status, answer, _) = call(app, Method::GET, "/api/numbers", None).await;
    assert_eq!(status, 200, "{answer}");
    let all: Vec<String> = answer["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["phone_number"].as_str().unwrap().to_string())
        .collect();
    assert!(all.iter().any(|n| n == VOICE_NUMBER), "{answer}");
    all.into_iter().filter(|n| n != VOICE_NUMBER).collect()
}

/// Phone-number requests the simulator saw (every one valid, or the test fails).
fn number_requests(app: &TestApp) -> Vec<twilio_sim::RecordedRequest> {
    let seen: Vec<_> = app
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("PhoneNumbers"))
        .collect();
    for r in &seen {
        assert_eq!(r.error, None, "{} {} was invalid", r.method, r.path);
    }
    seen
}

fn assert_points_at_callflow(app: &TestApp, number: &str) {
    let n = app
        .sim
        .incoming_number(number)
        .expect("the account holds it");
    let base = &app.base_url;
    assert_eq!(
        n.voice_url.as_deref(),
        Some(&*format!("{base}/twilio/voice/inbound"))
    );
    assert_eq!(
        n.sms_url.as_deref(),
        Some(&*format!("{base}/twilio/sms/incoming"))
    );
    assert_eq!(
        n.status_callback.as_deref(),
        Some(&*format!("{base}/twilio/voice/status"))
    );
    assert_eq!(n.voice_method.as_deref(), Some("POST"));
    assert_eq!(n.sms_method.as_deref(), Some("POST"));
    assert_eq!(n.status_callback_method.as_deref(), Some("POST"));
}

#[tokio::test]
async fn search_lists_the_inventory_by_area_code_and_pattern() {
    let app = spawn_app().await;
    let inventory = Simulator::inventory(415);
    let (status, found, _) = call(
        &app,
        Method::GET,
        "/api/numbers/available?country=US&area_code=415&limit=5",
        None,
    )
    .await;
    assert_eq!(status, 200, "{found}");
    let listed: Vec<&str> = found["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["phone_number"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        inventory[..5]
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    assert_eq!(found["numbers"][0]["iso_country"], "US");

    let wanted = &inventory[7];
    let pattern = &wanted[wanted.len() - 5..];
    let (status, found, _) = call(
        &app,
        Method::GET,
        &format!("/api/numbers/available?area_code=415&contains={pattern}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{found}");
    let listed = found["numbers"].as_array().unwrap();
    assert!(
        listed.iter().any(|n| n["phone_number"] == wanted.as_str()),
        "{found}"
    );
    assert!(listed
        .iter()
        .all(|n| n["phone_number"].as_str().unwrap().contains(pattern)));

    let requests = number_requests(&app);
    assert_eq!(requests.len(), 2);
    assert!(requests[0]
        .path
        .ends_with("/AvailablePhoneNumbers/US/Local.json"));
    assert!(requests[0]
        .form
        .contains(&("AreaCode".into(), "415".into())));
    assert!(requests[0].form.contains(&("PageSize".into(), "5".into())));
    assert!(requests[1]
        .form
        .contains(&("Contains".into(), pattern.to_string())));
}

#[tokio::test]
async fn buying_points_the_number_at_callflow_and_makes_it_the_tenants() {
    let app = spawn_app().await;
    let wanted = Simulator::inventory(415)[0].clone();
    let (status, bought) = buy(&app, json!({"phone_number": wanted})).await;
    assert_eq!(status, 201, "{bought}");
    assert_eq!(bought["number"]["phone_number"], wanted.as_str());
    assert!(bought["number"]["sid"].as_str().unwrap().starts_with("PN"));
    assert_eq!(
        bought["number"]["voice_url"],
        format!("{}/twilio/voice/inbound", app.base_url)
    );
    assert_points_at_callflow(&app, &wanted);

    // By area code: Twilio picks one.
    let (status, by_area) = buy(&app, json!({"area_code": "212"})).await;
    assert_eq!(status, 201, "{by_area}");
    let other = by_area["number"]["phone_number"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(other.starts_with("+1212"));
    assert_points_at_callflow(&app, &other);

    let mut expected = vec![wanted.clone(), other];
    expected.sort();
    assert_eq!(owned(&app).await, expected);
    // Bought numbers are off the market, and buying one again is refused.
    let (_, found, _) = call(
        &app,
        Method::GET,
        "/api/numbers/available?area_code=415",
        None,
    )
    .await;
    assert!(!found["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["phone_number"] == wanted.as_str()));
    let (status, again) = buy(&app, json!({"phone_number": wanted})).await;
    assert_eq!(status, 409, "{again}");
    assert_eq!(again["error"]["field"], "phone_number");
    // The create requests, as Twilio's description allows them.
    let creates: Vec<_> = number_requests(&app)
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(creates.len(), 2, "the refused repeat never reached Twilio");
}

#[tokio::test]
async fn attaching_repoints_a_number_the_account_holds() {
    let app = spawn_app().await;
    let number = "+14155550123";
    let sid = app.sim.add_incoming_number(number);
    let bystander = "+14155550124";
    let bystander_sid = app.sim.add_incoming_number(bystander);
    assert!(app.sim.incoming_number(number).unwrap().voice_url.is_none());

    // The sid of another number: refused before anything changes.
    let (status, refused) = buy(&app, json!({"phone_number": number, "sid": bystander_sid})).await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["error"]["field"], "sid");
    assert!(app
        .sim
        .incoming_number(bystander)
        .unwrap()
        .voice_url
        .is_none());
    assert!(app.sim.incoming_number(number).unwrap().voice_url.is_none());
    assert!(owned(&app).await.is_empty());

    let (status, attached) = buy(&app, json!({"phone_number": number, "sid": sid})).await;
    assert_eq!(status, 201, "{attached}");
    assert_eq!(attached["number"]["sid"], sid.as_str());
    assert_points_at_callflow(&app, number);
    assert_eq!(owned(&app).await, [number]);
    assert!(app
        .sim
        .incoming_number(bystander)
        .unwrap()
        .voice_url
        .is_none());

    // A number the account does not hold.
    let (status, missing) = buy(
        &app,
        json!({"phone_number": "+14155550999", "sid": "PN0123456789abcdef0123456789abcdef"}),
    )
    .await;
    assert_eq!(status, 404, "{missing}");
    assert_eq!(missing["error"]["field"], "phone_number");
    number_requests(&app);
}

#[tokio::test]
async fn releasing_gives_the_number_back_to_twilio() {
    let app = spawn_app().await;
    let (_, bought) = buy(&app, json!({"area_code": 415})).await;
    let number = bought["number"]["phone_number"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(app.sim.incoming_number(&number).is_some());
    let (status, released, _) = call(
        &app,
        Method::DELETE,
        &format!("/api/numbers/{number}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{released}");
    assert_eq!(released["released"], true);
    assert!(app.sim.incoming_number(&number).is_none());
    assert!(owned(&app).await.is_empty());
    let (status, again, _) = call(
        &app,
        Method::DELETE,
        &format!("/api/numbers/{number}"),
        None,
    )
    .await;
    assert_eq!(status, 404, "{again}");
    assert_eq!(again["error"]["field"], "number");
    // The configured caller ID is not given up.
    let (status, kept, _) = call(
        &app,
        Method::DELETE,
        &format!("/api/numbers/{VOICE_NUMBER}"),
        None,
    )
    .await;
    assert_eq!(status, 409, "{kept}");
    assert_eq!(kept["error"]["field"], "number");
    // Percent-encoded works too.
    let (_, bought) = buy(&app, json!({"area_code": 415})).await;
    let number = bought["number"]["phone_number"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/numbers/%2B{}", &number[1..]);
    let (status, _, _) = call(&app, Method::DELETE, &path, None).await;
    assert_eq!(status, 200);
    number_requests(&app);
}

#[tokio::test]
async fn another_tenants_number_is_refused_and_untouched() {
    let app = spawn_app().await;
    let store = callflow::store::Store::connect(&app.redis.url(), "acme-rival")
        .await
        .unwrap();
    let theirs = Simulator::inventory(415)[2].clone();
    store.claim_number(&theirs).await.unwrap();
    let (status, refused) = buy(&app, json!({"phone_number": theirs})).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"]["code"], "conflict");
    assert!(
        !refused.to_string().contains("acme-rival"),
        "the holder stays private: {refused}"
    );
    assert!(
        app.sim.incoming_number(&theirs).is_none(),
        "nothing was bought"
    );

    // Held in the account and claimed by the other tenant: no attach, no change.
    let held = "+14155550177";
    let sid = app.sim.add_incoming_number(held);
    store.claim_number(held).await.unwrap();
    let (status, refused) = buy(&app, json!({"phone_number": held, "sid": sid})).await;
    assert_eq!(status, 409, "{refused}");
    assert!(app.sim.incoming_number(held).unwrap().voice_url.is_none());
    // Releasing it answers as for no number at all, and leaves it where it is.
    let (status, _, _) = call(&app, Method::DELETE, &format!("/api/numbers/{held}"), None).await;
    assert_eq!(status, 404);
    assert!(app.sim.incoming_number(held).is_some());
    assert_eq!(
        store.number_tenant(held).await.unwrap().as_deref(),
        Some("acme-rival")
    );
    assert!(owned(&app).await.is_empty());
    assert_eq!(store.numbers().await.unwrap().len(), 2);
}

#[tokio::test]
async fn bad_input_names_the_field_and_reaches_no_twilio() {
    let app = spawn_app().await;
    for (query, field) in [
        ("?country=USA", "country"),
        ("?area_code=41", "area_code"),
        ("?area_code=041", "area_code"),
        ("?contains=12-3", "contains"),
        ("?limit=0", "limit"),
        ("?limit=101", "limit"),
        ("?colour=red", "colour"),
    ] {
        let (status, body, _) = call(
            &app,
            Method::GET,
            &format!("/api/numbers/available{query}"),
            None,
        )
        .await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
    }
    let sid = "PN0123456789abcdef0123456789abcdef";
    for (body, field) in [
        (json!({}), "phone_number"),
        (json!({"phone_number": "555"}), "phone_number"),
        (json!({"area_code": "041"}), "area_code"),
        (json!({"area_code": true}), "area_code"),
        (
            json!({"phone_number": "+14155550100", "area_code": "415"}),
            "area_code",
        ),
        (json!({"sid": sid}), "phone_number"),
        (
            json!({"phone_number": "+14155550100", "sid": "AB12"}),
            "sid",
        ),
        (
            json!({"phone_number": "+14155550100", "colour": 1}),
            "colour",
        ),
        (json!([1]), "body"),
    ] {
        let (status, answer) = buy(&app, body.clone()).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
    }
    let (status, answer, _) = call(&app, Method::DELETE, "/api/numbers/abc", None).await;
    assert_eq!(status, 400);
    assert_eq!(answer["error"]["field"], "number");
    assert!(number_requests(&app).is_empty());
    let r = app
        .http
        .get(format!("{}/api/numbers", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn twilio_refusals_and_rate_limits_change_nothing() {
    let app = spawn_app().await;
    app.sim
        .fail_next_numbers_request(CreateFailure::ThrottledFor(7));
    let (status, answer, retry_after) = call(
        &app,
        Method::POST,
        "/api/numbers",
        Some(json!({"area_code": "415"})),
    )
    .await;
    assert_eq!(status, 429, "{answer}");
    assert_eq!(answer["error"]["code"], "twilio_rate_limited");
    assert_eq!(retry_after.as_deref(), Some("7"));
    assert!(app.sim.incoming_numbers().is_empty());
    assert!(owned(&app).await.is_empty());

    // Not in the inventory: Twilio says so, with its code.
    let (status, answer) = buy(&app, json!({"phone_number": "+14155550000"})).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["error"]["code"], "twilio_rejected");
    assert_eq!(answer["error"]["twilio_code"], 21422);
    assert!(owned(&app).await.is_empty());

    // A country Twilio has no inventory for.
    let (status, answer, _) =
        call(&app, Method::GET, "/api/numbers/available?country=zz", None).await;
    assert_eq!(status, 422, "{answer}");

    // Twilio down while releasing: the number stays the tenant's.
    let (_, bought) = buy(&app, json!({"area_code": 415})).await;
    let number = bought["number"]["phone_number"]
        .as_str()
        .unwrap()
        .to_string();
    app.sim.fail_next_numbers_request(CreateFailure::NotPlaced);
    let (status, answer, _) = call(
        &app,
        Method::DELETE,
        &format!("/api/numbers/{number}"),
        None,
    )
    .await;
    assert_eq!(status, 502, "{answer}");
    assert_eq!(owned(&app).await, [number.as_str()]);
    assert!(app.sim.incoming_number(&number).is_some());
}
