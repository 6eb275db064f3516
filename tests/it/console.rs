//! The operator console over plain HTTP: login with a tenant's token or the
//! admin token, every page scoped to the session's tenant (another tenant's
//! ids are not found), CSRF (a state-changing request needs the session's
//! token AND this site's origin), logout, the bounded live streams. The
//! browser run is in `console_browser.rs`.

use std::time::Duration;

use reqwest::{redirect, Method, StatusCode};
use serde_json::json;
use twilio_sim::Persona;

use crate::helpers::TestApp;
use crate::tenants::{call, create_tenant, spawn, ADMIN_TOKEN};

pub const ACME_NUMBER: &str = "+15550003001";
pub const BOLT_NUMBER: &str = "+15550003002";

/// A browser, as far as these tests need one: no redirects followed, the
/// session cookie kept by hand, `Origin` sent on posts as browsers do.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    http: reqwest::Client,
    pub cookie: Option<String>,
}

/// A response: status, `Location`, body.
pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub set_cookie: String,
    pub body: String,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        let http = reqwest::Client::builder()
            .redirect(redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            app,
            http,
            cookie: None,
        }
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.app.base_url));
        if let Some(c) = &self.cookie {
            req = req.header("Cookie", c);
        }
        req
    }

    async fn page(resp: reqwest::Response) -> Page {
        let status = resp.status();
        let location = resp
            .headers()
            .get("Location")
            .map(|l| l.to_str().unwrap().to_string());
        let set_cookie = resp
            .headers()
            .get("Set-Cookie")
            .map_or(String::new(), |c| c.to_str().unwrap().to_string());
        Page {
            status,
            location,
            set_cookie,
            body: resp.text().await.unwrap(),
        }
    }

    pub async fn get(&self, path: &str) -> Page {
        Self::page(self.request(Method::GET, path).send().await.unwrap()).await
    }

    /// A form post with these headers (e.g. `Origin`) and fields.
    pub async fn post_with(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        fields: &[(&str, &str)],
    ) -> Page {
        let mut req = self.request(Method::POST, path).form(fields);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        Self::page(req.send().await.unwrap()).await
    }

    /// A form post from the console's own pages.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let origin = self.app.base_url.clone();
        self.post_with(path, &[("Origin", &origin)], fields).await
    }

    /// Logs in; the session cookie is kept.
    pub async fn login(&mut self, token: &str) -> Page {
        let page = self.post("/console/login", &[("token", token)]).await;
        if page.status == StatusCode::SEE_OTHER {
            self.cookie = Some(session_cookie(&page.set_cookie));
        }
        page
    }
}

/// The CSRF token of the first form on a page.
pub fn csrf_of(body: &str) -> String {
    let at = body
        .find(r#"name="csrf" value=""#)
        .expect("a form with a CSRF field")
        + 19;
    body[at..].split('"').next().unwrap().to_string()
}

fn session_cookie(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_string()
}

impl Page {
    fn assert(&self, status: u16, what: &str) -> &Self {
        assert_eq!(self.status.as_u16(), status, "{what}: {}", self.body);
        self
    }
}

async fn two_tenants(app: &TestApp) -> (String, String) {
    let (acme, _) = create_tenant(
        app,
        json!({"id": "acme", "name": "Acme", "company_name": "Acme Dental",
               "call_purpose": "about your cleaning", "numbers": [ACME_NUMBER]}),
    )
    .await;
    let (bolt, _) = create_tenant(
        app,
        json!({"id": "bolt", "name": "Bolt", "company_name": "Bolt Plumbing",
               "call_purpose": "about your pipes", "numbers": [BOLT_NUMBER]}),
    )
    .await;
    (acme.token, bolt.token)
}

/// A campaign of `acme`, run to its end; its id and one call's id.
async fn finished_campaign(app: &TestApp, token: &str) -> (String, String) {
    let contacts = ["+15557771001", "+15557771002", "+15557771003"];
    app.sim.set_persona(contacts[1], Persona::Declines);
    app.sim.set_persona(contacts[2], Persona::Busy);
    let body = json!({"contacts": contacts.iter().map(|to| json!({"to": to, "name": "Ada <b>"})).collect::<Vec<_>>(),
                      "calls_per_second": 5});
    let (status, created) = call(app, token, Method::POST, "/api/calls/outbound", Some(body)).await;
    assert_eq!(status, 202, "{created}");
    let id = created["campaign_id"].as_str().unwrap().to_string();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, c) = call(
            app,
            token,
            Method::GET,
            &format!("/api/campaigns/{id}"),
            None,
        )
        .await;
        if c["status"] == "completed" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "campaign did not finish: {c}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, page) = call(
        app,
        token,
        Method::GET,
        &format!("/api/campaigns/{id}/calls"),
        None,
    )
    .await;
    let call_id = page["calls"][0]["call_id"].as_str().unwrap().to_string();
    (id, call_id)
}

#[tokio::test]
async fn console_shows_a_tenant_its_own_campaigns_and_calls_only() {
    let app = spawn().await;
    let (acme_token, bolt_token) = two_tenants(&app).await;
    let (campaign_id, call_id) = finished_campaign(&app, &acme_token).await;

    // Not logged in: every page sends to the login.
    let mut acme = Browser::new(&app);
    let page = acme.get("/console/campaigns").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location.as_deref(), Some("/console/login"));
    let page = acme.get("/console/login").await;
    page.assert(200, "login page");
    assert!(
        page.body.contains(r#"<label for="token">"#),
        "{}",
        page.body
    );

    acme.login("not-a-token").await.assert(401, "a bad token");
    acme.login(&acme_token).await.assert(303, "login");

    let list = acme.get("/console/campaigns").await;
    list.assert(200, "campaigns");
    assert!(list.body.contains(&campaign_id), "{}", list.body);
    assert!(list.body.contains("3 / 3 done"), "{}", list.body);

    let detail = acme.get(&format!("/console/campaigns/{campaign_id}")).await;
    detail.assert(200, "campaign page");
    for part in [
        r#"role="progressbar""#,
        r#"aria-valuenow="3""#,
        "Why contacts wait",
        "Dial rate",
        "declined: ",
        "busy: ",
        r#"id="btn-pause" type="submit" disabled"#,
    ] {
        assert!(detail.body.contains(part), "{part}: {}", detail.body);
    }
    // The contact's name is shown escaped.
    assert!(detail.body.contains("Ada &lt;b&gt;"), "{}", detail.body);
    assert!(!detail.body.contains("Ada <b>"));

    let page = acme.get(&format!("/console/calls/{call_id}")).await;
    page.assert(200, "call page");
    for part in [
        "Timeline",
        "TwiML returned",
        "&lt;Response&gt;",
        "This call's path",
        "state visited",
        "edge taken",
    ] {
        assert!(page.body.contains(part), "{part}: {}", page.body);
    }

    let log = acme.get("/console/calls?direction=outbound").await;
    log.assert(200, "call log");
    assert!(
        log.body.contains(&format!("/console/calls/{call_id}")),
        "{}",
        log.body
    );
    let bad = acme.get("/console/calls?to=nope").await;
    bad.assert(400, "a bad filter");
    assert!(bad.body.contains("to: "), "{}", bad.body);
    let unknown = acme.get("/console/calls?colour=red").await;
    unknown.assert(400, "an unknown filter");
    assert!(unknown.body.contains("colour"), "{}", unknown.body);

    acme.get("/console/live").await.assert(200, "live calls");

    // Another tenant sees none of it.
    let mut bolt = Browser::new(&app);
    bolt.login(&bolt_token).await.assert(303, "bolt logs in");
    let list = bolt.get("/console/campaigns").await;
    list.assert(200, "bolt's campaigns");
    assert!(!list.body.contains(&campaign_id), "{}", list.body);
    bolt.get(&format!("/console/campaigns/{campaign_id}"))
        .await
        .assert(404, "acme's campaign");
    bolt.get(&format!("/console/campaigns/{campaign_id}/events"))
        .await
        .assert(404, "acme's campaign events");
    bolt.get(&format!("/console/calls/{call_id}"))
        .await
        .assert(404, "acme's call");
    let log = bolt.get("/console/calls").await;
    assert!(!log.body.contains(&call_id), "{}", log.body);
    let csrf = csrf_of(&bolt.get("/console/campaigns").await.body);
    let steer = bolt
        .post(
            &format!("/console/campaigns/{campaign_id}/pause"),
            &[("csrf", &csrf)],
        )
        .await;
    steer.assert(404, "pausing acme's campaign");

    // The admin picks a tenant to look at.
    let mut admin = Browser::new(&app);
    let login = admin.login(ADMIN_TOKEN).await;
    login.assert(303, "admin login");
    assert_eq!(login.location.as_deref(), Some("/console/tenant"));
    let picker = admin.get("/console/tenant").await;
    picker.assert(200, "tenant picker");
    assert!(picker.body.contains(r#"value="acme""#), "{}", picker.body);
    assert_eq!(
        admin.get("/console/campaigns").await.location.as_deref(),
        Some("/console/tenant")
    );
    let csrf = csrf_of(&picker.body);
    admin
        .post("/console/tenant", &[("csrf", &csrf), ("tenant", "acme")])
        .await
        .assert(303, "admin picks acme");
    let list = admin.get("/console/campaigns").await;
    assert!(list.body.contains(&campaign_id), "{}", list.body);
    // A tenant's session has no picker.
    bolt.get("/console/tenant")
        .await
        .assert(404, "the picker for a tenant");
}

#[tokio::test]
async fn console_refuses_a_change_without_the_csrf_token_or_from_another_origin() {
    let app = spawn().await;
    let (acme_token, _) = two_tenants(&app).await;
    // Held outside its window: the campaign stays running with pending contacts.
    let body =
        json!({"contacts": [{"to": "+15557772001"}], "window": {"start": "09:00", "end": "10:00"}});
    let (status, created) = call(
        &app,
        &acme_token,
        Method::POST,
        "/api/calls/outbound",
        Some(body),
    )
    .await;
    assert_eq!(status, 202, "{created}");
    let id = created["campaign_id"].as_str().unwrap().to_string();

    // A login from another site is refused before the token is looked at.
    let browser = Browser::new(&app);
    browser
        .post_with(
            "/console/login",
            &[("Origin", "https://evil.example")],
            &[("token", &acme_token)],
        )
        .await
        .assert(403, "a login posted from another site");

    let mut acme = Browser::new(&app);
    acme.login(&acme_token).await.assert(303, "login");
    let page = acme.get(&format!("/console/campaigns/{id}")).await;
    page.assert(200, "campaign page");
    let csrf = csrf_of(&page.body);
    let pause = format!("/console/campaigns/{id}/pause");
    let ours = app.base_url.clone();

    acme.post(&pause, &[]).await.assert(403, "no token");
    acme.post(&pause, &[("csrf", "forged")])
        .await
        .assert(403, "a wrong token");
    acme.post_with(
        &pause,
        &[("Origin", "https://evil.example")],
        &[("csrf", &csrf)],
    )
    .await
    .assert(403, "the token from another origin");
    acme.post_with(
        &pause,
        &[("Referer", "https://evil.example/page")],
        &[("csrf", &csrf)],
    )
    .await
    .assert(403, "the token with another site's referer");
    acme.post_with(&pause, &[], &[("csrf", &csrf)])
        .await
        .assert(403, "the token with neither Origin nor Referer");
    let (_, c) = call(
        &app,
        &acme_token,
        Method::GET,
        &format!("/api/campaigns/{id}"),
        None,
    )
    .await;
    assert_eq!(c["status"], "running", "nothing refused changed it: {c}");

    // The token in the header, and a Referer of this site, do it.
    let referer = format!("{ours}/console/campaigns/{id}");
    acme.post_with(
        &pause,
        &[("Referer", &referer), ("X-CSRF-Token", &csrf)],
        &[],
    )
    .await
    .assert(303, "pause");
    let (_, c) = call(
        &app,
        &acme_token,
        Method::GET,
        &format!("/api/campaigns/{id}"),
        None,
    )
    .await;
    assert_eq!(c["status"], "paused", "{c}");
    let page = acme.get(&format!("/console/campaigns/{id}")).await;
    assert!(
        page.body.contains("<dt>paused</dt><dd>1</dd>"),
        "waiting reason shown: {}",
        page.body
    );
    acme.post(
        &format!("/console/campaigns/{id}/resume"),
        &[("csrf", &csrf)],
    )
    .await
    .assert(303, "resume");
    acme.post(
        &format!("/console/campaigns/{id}/cancel"),
        &[("csrf", &csrf)],
    )
    .await
    .assert(303, "cancel");
    acme.post(
        &format!("/console/campaigns/{id}/resume"),
        &[("csrf", &csrf)],
    )
    .await
    .assert(409, "resume a canceled campaign");

    // The do-not-call list, with the API's functions.
    acme.post(
        "/console/dnc",
        &[("csrf", &csrf), ("number", "+15557779999")],
    )
    .await
    .assert(303, "add to the list");
    let (_, on) = call(
        &app,
        &acme_token,
        Method::GET,
        "/api/dnc/+15557779999",
        None,
    )
    .await;
    assert_eq!(on["on_list"], true, "{on}");
    assert_eq!(on["source"], "console", "{on}");
    let search = acme.get("/console/dnc?number=%2B15557779999").await;
    search.assert(200, "search");
    assert!(search.body.contains("is on the list"), "{}", search.body);
    acme.post("/console/dnc", &[("csrf", &csrf), ("number", "12")])
        .await
        .assert(400, "a bad number");
    acme.post("/console/dnc/remove", &[("number", "+15557779999")])
        .await
        .assert(403, "remove without the token");
    acme.post(
        "/console/dnc/remove",
        &[("csrf", &csrf), ("number", "+15557779999")],
    )
    .await
    .assert(303, "remove");
    let (_, on) = call(
        &app,
        &acme_token,
        Method::GET,
        "/api/dnc/+15557779999",
        None,
    )
    .await;
    assert_eq!(on["on_list"], false, "{on}");

    // Logging out needs the token too, and ends the session in Redis.
    acme.post("/console/logout", &[])
        .await
        .assert(403, "logout without the token");
    acme.post("/console/logout", &[("csrf", &csrf)])
        .await
        .assert(303, "logout");
    let after = acme.get("/console/campaigns").await;
    assert_eq!(
        after.location.as_deref(),
        Some("/console/login"),
        "session ended"
    );
}

#[tokio::test]
async fn console_session_ends_when_its_token_is_revoked_and_cookies_are_strict() {
    let app = spawn().await;
    let (created, _) = create_tenant(
        &app,
        json!({"id": "acme", "name": "Acme", "company_name": "Acme Dental", "numbers": [ACME_NUMBER]}),
    )
    .await;
    let mut acme = Browser::new(&app);
    let login = acme
        .post("/console/login", &[("token", &created.token)])
        .await;
    login.assert(303, "login");
    let set_cookie = login.set_cookie.clone();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/console", "Max-Age="] {
        assert!(set_cookie.contains(part), "{part}: {set_cookie}");
    }
    assert!(
        !set_cookie.contains("Secure"),
        "plain http here: {set_cookie}"
    );
    acme.cookie = Some(session_cookie(&set_cookie));
    acme.get("/console/campaigns")
        .await
        .assert(200, "logged in");
    let mut stream = acme
        .request(Method::GET, "/console/live/events")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let resp = crate::tenants::admin(
        &app,
        Method::DELETE,
        &format!("/api/admin/tenants/acme/tokens/{}", created.token_id),
    )
    .send()
    .await
    .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    let after = acme.get("/console/campaigns").await;
    assert_eq!(
        after.location.as_deref(),
        Some("/console/login"),
        "{}",
        after.body
    );
    // A live view open at the time stops too.
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        while stream.chunk().await.unwrap().is_some() {}
    })
    .await;
    assert!(ended.is_ok(), "the open stream ended with the session");
}

#[tokio::test]
async fn console_live_streams_are_event_streams_and_bounded_per_session() {
    let app = spawn().await;
    let (acme_token, _) = two_tenants(&app).await;
    let mut acme = Browser::new(&app);
    acme.login(&acme_token).await.assert(303, "login");
    let mut streams = Vec::new();
    for _ in 0..4 {
        let mut resp = acme
            .request(Method::GET, "/console/live/events")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "text/event-stream");
        let mut seen = String::new();
        while !seen.contains("event: update") {
            let chunk = tokio::time::timeout(Duration::from_secs(10), resp.chunk())
                .await
                .expect("an event in time")
                .unwrap()
                .expect("the stream stays open");
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
        assert!(seen.starts_with("retry: "), "{seen}");
        assert!(seen.contains("data: <p id=\"no-live\">"), "{seen}");
        streams.push(resp);
    }
    let fifth = acme.get("/console/live/events").await;
    fifth.assert(429, "a fifth stream of one session");
    drop(streams);
    // The places free up once the browser goes away.
    let deadline = std::time::Instant::now() + Duration::from_secs(40);
    loop {
        let resp = acme
            .request(Method::GET, "/console/live/events")
            .send()
            .await
            .unwrap();
        if resp.status() == 200 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "streams never freed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
