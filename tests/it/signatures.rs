//! Signatures across Twilio's own variations: the connection-override
//! fragment callflow adds to create-call URLs (signed with or without it), and
//! a secondary auth token while the auth token is rotated.

use twilio_sim::Persona;

use crate::helpers::{spawn_app_with, Twilio, AUTH_TOKEN};

#[tokio::test]
async fn overrides_are_sent_and_signatures_with_or_without_them_pass() {
    let app = spawn_app_with(|env| {
        env.insert("TWILIO_AUTH_TOKEN_SECONDARY", "rotating-token".into());
    })
    .await;
    let to = "+15552224444";
    app.sim.set_persona(to, Persona::Manual);
    let (status, placed) = app.place(serde_json::json!({"to": to})).await;
    assert_eq!(status, 201, "{placed}");
    let create = app
        .sim
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/Calls.json"))
        .expect("a create-call request");
    for name in ["Url", "StatusCallback"] {
        let value = create.form.iter().find(|(k, _)| k == name).unwrap();
        assert!(
            value.1.ends_with("#rc=3&rp=ct,rt,5xx"),
            "{name}: {}",
            value.1
        );
    }

    let call_id = placed["call_id"].as_str().unwrap();
    let sid = placed["call_sid"].as_str().unwrap();
    let tw = Twilio::new(&app.base_url, call_id, sid);
    let params = tw.params(&[("CallStatus", "ringing"), ("SequenceNumber", "1")]);
    let url = tw.url("status", "");
    let post = |signature: String| {
        app.http
            .post(&url)
            .header("X-Twilio-Signature", signature)
            .form(&params)
            .send()
    };
    let sign = |token: &str, url: &str| callflow::twilio::signature::sign(token, url, &params);
    let with_fragment = format!("{url}#rc=3&rp=ct,rt,5xx");
    assert_eq!(post(sign(AUTH_TOKEN, &url)).await.unwrap().status(), 200);
    assert_eq!(
        post(sign(AUTH_TOKEN, &with_fragment))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        post(sign("rotating-token", &url)).await.unwrap().status(),
        200
    );
    assert_eq!(
        post(sign("rotating-token", &with_fragment))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        post(sign("some-other-token", &url)).await.unwrap().status(),
        403
    );
    assert_eq!(
        post(sign(AUTH_TOKEN, &format!("{url}#rc=5")))
            .await
            .unwrap()
            .status(),
        403,
        "only the fragment callflow set is accepted"
    );
}
