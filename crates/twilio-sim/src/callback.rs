//! Twilio's side of a callback: the request signature (`X-Twilio-Signature`)
//! and a client that posts signed callbacks.

use std::time::Duration;

use base64::{engine::general_purpose::STANDARD, Engine};
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// The `X-Twilio-Signature` Twilio sends for a POST of `params` to `url`:
/// base64(HMAC-SHA1(auth_token, url + every parameter as name + value, sorted
/// by name)). `url` is the full URL as requested, query string included.
pub fn sign(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    // Twilio sorts by name and, for repeated names, keeps values in sorted order too.
    sorted.sort();
    let mut mac =
        Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()).expect("HMAC takes any key length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Posts signed callbacks the way Twilio does. Public so tests can play Twilio by hand.
#[derive(Clone)]
pub struct CallbackClient {
    http: reqwest::Client,
    auth_token: String,
}

impl CallbackClient {
    pub fn new(auth_token: &str) -> Self {
        crate::install_crypto();
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(15))
                .build()
                .expect("static client configuration is valid"),
            auth_token: auth_token.to_string(),
        }
    }

    /// POSTs `params` to `url` with a correct `X-Twilio-Signature`.
    pub async fn post(
        &self,
        url: &str,
        params: &[(String, String)],
    ) -> reqwest::Result<(u16, String)> {
        self.post_via(url, url, params, &uuid::Uuid::new_v4().simple().to_string())
            .await
    }

    /// Signs for `signed_url` but connects to `target_url` (behind a load balancer they differ).
    pub(crate) async fn post_via(
        &self,
        signed_url: &str,
        target_url: &str,
        params: &[(String, String)],
        idempotency_token: &str,
    ) -> reqwest::Result<(u16, String)> {
        let signature = sign(&self.auth_token, signed_url, params);
        let resp = self
            .http
            .post(target_url)
            .header("X-Twilio-Signature", signature)
            .header("I-Twilio-Idempotency-Token", idempotency_token)
            .form(params)
            .send()
            .await?;
        let status = resp.status().as_u16();
        Ok((status, resp.text().await?))
    }
}

#[cfg(test)]
mod tests {
    use super::sign;

    #[test]
    fn matches_twilios_published_example() {
        let params: Vec<(String, String)> = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(sign("12345", url, &params), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
    }
}
