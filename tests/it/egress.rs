//! Campaign webhooks never reach private addresses: every spelling of
//! loopback, link-local (cloud metadata) and private hosts is refused when the
//! campaign is created, with the field named, and nothing is created.

use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app_with;

#[tokio::test]
async fn webhook_urls_to_private_addresses_are_refused() {
    let app = spawn_app_with(|env| {
        env.insert("CAMPAIGN_WEBHOOK_SECRET", "hook-secret".into());
        env.insert("ALLOW_PRIVATE_WEBHOOKS", "false".into());
    })
    .await;
    for url in [
        "http://127.0.0.1:6390/",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost/hook",
        "http://[::1]/",
        "http://0x7f000001/",
        "http://2130706433/",
        "http://10.0.0.7/hook",
        "http://[fd00:ec2::254]/",
    ] {
        let (status, body) = app
            .place(json!({"contacts": [{"to": "+15552220001"}], "webhook_url": url}))
            .await;
        assert_eq!(status, 400, "{url}: {body}");
        assert_eq!(body["error"]["field"], "webhook_url", "{url}: {body}");
    }
    // Nothing was created: no campaign is running and nobody was dialed.
    let stats = app
        .api(Method::GET, "/api/stats")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(stats, 200);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(app.sim.calls().is_empty());
}
